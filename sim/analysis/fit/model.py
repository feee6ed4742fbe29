"""Fit the traffic model to a usage report: every parameter the scenario's traffic draws from,
by maximum likelihood, with its 95 % interval, goodness-of-fit tests and thin-data warnings."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from sim.engine.profiles import weekly_segments
from sim.errors import InputError
from sim.inputs.tenant import country_timezone, number_timezone

from . import licences as lic
from .data import KINDS, Calls
from .estimate import (Estimate, hour_of_week_exposure, local_hour_of_week, meetings, poisson_rate, pooled_rate, profile,
                       rate_classes, share)
from .lengths import fit_lengths

THIN = 30              # fewer observations than this behind a parameter: a warning
MIN_DAYS = 7           # a weekly profile needs a week


@dataclass
class FittedUser:
    upn: str
    country: str
    licences: list[str]
    display_name: str
    number: str
    tz: str
    rate_class: int | None = None
    calls: int = 0
    exposure: float = 0.0


@dataclass
class Fitted:
    calls: Calls
    users: list[FittedUser]
    classes: object = None
    estimates: dict[str, Estimate] = field(default_factory=dict)     # key path -> estimate
    traffic: dict = field(default_factory=dict)                      # the scenario's traffic block
    toll_free: list[dict] = field(default_factory=list)
    lengths: dict = field(default_factory=dict)                      # kind -> LengthFit
    tests: list[tuple[str, float, float, str]] = field(default_factory=list)   # (test, statistic, p, verdict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, est: Estimate, what: str = "calls") -> Estimate:
        self.estimates[key] = est
        if est.n < THIN:
            self.warnings.append(f"{key}: only {est.n} {what} behind it (fewer than {THIN}); its interval is wide")
        return est


def _users(calls: Calls, licence_file) -> list[FittedUser]:
    uses_credits = any(u.capabilities.get("MCOPSTNPP") for u in calls.users)
    countries = Counter(u.country for u in calls.users if u.country)
    default_country = countries.most_common(1)[0][0] if countries else "US"
    out = []
    for u in calls.users:
        country = u.country or default_country
        out.append(FittedUser(u.upn, country, lic.infer(u, uses_credits), u.display_name, u.number,
                              (u.number and number_timezone(u.number)) or country_timezone(country)))
    if licence_file is None:
        return out
    path, table = licence_file
    unknown = [u.upn for u in out if u.upn.lower() not in table]
    if unknown:
        raise InputError(str(path), f"{len(unknown)} user(s) of the report are not in the licences file, e.g. "
                                    f"{', '.join(unknown[:3])}; export every licensed user (Active users)")
    seen = {u.upn.lower() for u in out}
    for u in out:
        u.licences = table[u.upn.lower()][0] or u.licences
    for key, (names, display, location) in table.items():
        if key not in seen and names:
            country = location or default_country
            out.append(FittedUser(key, country, names, display, "", country_timezone(country)))
    return out


def _can_call(u: FittedUser) -> bool:
    return any(p in u.licences for p in lic.PLANS)


def _organiser(u: FittedUser) -> bool:
    return "AUDIO_CONFERENCING" in u.licences or "E5" in u.licences


def _exposure(calls: Calls, tz: str, weights) -> float:
    return float(weekly_segments(calls.start, calls.days * 86400, tz, tuple(weights))[2].sum())


def fit(calls: Calls, licence_file=None, where: str = "report") -> Fitted:
    if calls.days < MIN_DAYS or len(calls.kind) == 0:
        raise InputError(where, f"the report covers {calls.days} day(s) with {len(calls.kind)} modelled call(s); "
                                   f"fitting a weekly profile needs at least {MIN_DAYS} days of calls")
    f = Fitted(calls, _users(calls, licence_file))
    for month, covered in calls.months:
        if covered < 1:
            f.warnings.append(f"{month} is incomplete in the report ({covered:.0%} of its days): "
                              "monthly figures of that month are not comparable")
    start_ts, horizon = calls.start.timestamp(), calls.days * 86400
    callers = [i for i, u in enumerate(f.users) if _can_call(u)]
    by_tz: dict[str, list[int]] = {}
    for i in callers:
        by_tz.setdefault(f.users[i].tz, []).append(i)

    # hour-of-week profile of user calls, each in its user's local time
    out = calls.of("user_out")
    how = np.zeros(out.sum(), np.int64)
    user_of = calls.user[out]
    for tz in {u.tz for u in f.users}:           # every caller's calls, in the caller's local time
        mine = np.isin(user_of, [i for i, u in enumerate(f.users) if u.tz == tz])
        how[mine] = local_hour_of_week(calls.t[out][mine], start_ts, tz)
    exposure_hours = np.zeros(168)
    for tz, ix in by_tz.items():
        exposure_hours += len(ix) * hour_of_week_exposure(start_ts, horizon, tz)
    weights = profile(how, exposure_hours)
    if weights.sum() <= 0:
        weights = np.ones(168)
    weights = weights / weights.max()
    f.traffic["weekly_profile"] = [round(float(w), 4) for w in weights]
    f.tests.append(_business_hours_test(how, exposure_hours))
    if out.sum() < 168 * 5:
        f.warnings.append(f"weekly_profile: {out.sum()} outbound calls spread over 168 hours of the week "
                          "(fewer than 5 a slot on average): the profile is noisy")

    # outbound rate per user, in rate classes
    counts = np.bincount(user_of, minlength=len(f.users)).astype(float)
    exp_u = np.array([_exposure(calls, f.users[i].tz, weights) for i in callers])
    rc = rate_classes(counts[callers], exp_u)
    f.classes = rc
    for k, i in enumerate(callers):
        f.users[i].rate_class, f.users[i].calls, f.users[i].exposure = int(rc.labels[k]), int(counts[i]), float(exp_u[k])
    pooled = f.add("traffic.user_outbound_calls_per_day", pooled_rate(counts[callers], exp_u))
    f.traffic["user_outbound_calls_per_day"] = pooled.value
    for c, est in enumerate(rc.rates):
        f.add(f"rate class {c + 1} (outbound calls per user per day)", est)
    f.tests.append(("outbound calls per user: Pearson dispersion (one common rate)", float("nan"), rc.dispersion_p,
                    rc.why))
    f.notes.append(rc.why)

    # international share and destinations (user calls and meeting dial-outs)
    dial = out | calls.of("conf_out")
    own = np.array([f.users[u].country if u >= 0 else "" for u in calls.user[dial]])
    far = calls.far_country[dial]
    intl = (far != own) & (far != "")
    f.traffic["international_share"] = f.add("traffic.international_share", share(int(intl.sum()), int(dial.sum()))).value
    dest = Counter(far[intl].tolist())
    f.traffic["international_destinations"] = {}
    for country, k in dest.most_common():
        est = f.add(f"traffic.international_destinations.{country}", share(k, int(intl.sum())), "international calls")
        f.traffic["international_destinations"][country] = round(est.value, 4)
    if not dest:
        f.traffic["international_destinations"] = {"GB": 1.0}
        f.notes.append("no international calls in the report: international_share 0 (destinations left at GB)")

    # inbound user calls, emergency calls
    n_in = int(calls.of("user_in").sum())
    f.traffic["user_inbound_calls_per_day"] = f.add("traffic.user_inbound_calls_per_day", poisson_rate(n_in, float(exp_u.sum()))).value
    n_em = int(calls.of("emergency").sum())
    f.traffic["emergency_calls_per_user_per_year"] = f.add(
        "traffic.emergency_calls_per_user_per_year", poisson_rate(n_em, len(callers) * calls.days / 365)).value

    _fit_meetings(f, weights)
    _fit_toll_free(f, start_ts, horizon)

    # call lengths per kind
    by_kind = {}
    for kind in KINDS:
        lf = fit_lengths(calls.minutes[calls.of(kind)])
        if lf is None:
            n = int(calls.of(kind).sum())
            if n:
                f.warnings.append(f"call length of {kind}: {n} calls (fewer than {THIN}): no distribution of its own, "
                                  "it takes the pooled call_minutes")
            continue
        f.lengths[kind] = lf
        by_kind[kind] = lf.spec
        f.add(f"traffic.call_minutes_by_kind.{kind}.mean", lf.mean)
        if lf.sigma is not None:
            f.add(f"traffic.call_minutes_by_kind.{kind}.sigma", lf.sigma)
        f.tests.append((f"{kind} call length: Kolmogorov-Smirnov", *lf.ks[min(lf.aic, key=lf.aic.get)], lf.why))
    common = fit_lengths(calls.minutes)
    f.traffic["call_minutes"] = common.spec if common else {"distribution": "lognormal", "mean": 4.0, "sigma": 1.0}
    f.traffic["call_minutes_by_kind"] = by_kind
    return f


def _business_hours_test(how: np.ndarray, exposure_hours: np.ndarray):
    """Chi-square test of the business-hours shorthand (08-18 weekdays, flat) against the hourly counts."""
    shorthand = np.zeros(168)
    for d in range(5):
        shorthand[d * 24 + 8: d * 24 + 18] = 1
    counts = np.bincount(how, minlength=168)
    e = shorthand * exposure_hours
    outside = int(counts[e == 0].sum())
    if len(how) == 0:
        return ("weekly profile vs business hours 08-18 weekdays", float("nan"), float("nan"), "no calls")
    e = e / e.sum() * counts[e > 0].sum()
    ok = e > 0
    chi2 = float(((counts[ok] - e[ok]) ** 2 / e[ok]).sum())
    p = float(stats.chi2.sf(chi2, ok.sum() - 1))
    verdict = (f"{outside} calls fall outside 08-18 weekdays; " if outside else "") + \
        ("flat business hours rejected: the fitted 168-hour profile is written" if p < 0.05 or outside
         else "flat business hours not rejected; the fitted 168-hour profile is written anyway (the MLE)")
    return ("weekly profile vs business hours 08-18 weekdays (chi-square)", chi2, p, verdict)


def _fit_meetings(f: Fitted, weights) -> None:
    calls = f.calls
    conf = np.isin(calls.kind, ["conf_out", "conf_in_toll_free", "conf_in_toll"])
    ids = calls.conference[conf]
    kinds = calls.kind[conf]
    organisers = [u for u in f.users if _organiser(u)]
    per = Counter(ids.tolist())
    m = meetings(np.array(list(per.values())))
    if m is None or not organisers:
        for key in ("meetings_per_organiser_per_day", "dial_outs_per_meeting", "toll_free_dial_ins_per_meeting",
                    "toll_dial_ins_per_meeting"):
            f.traffic[key] = 0.0
        return
    expo = sum(_exposure(calls, u.tz, weights) for u in organisers)
    lam = f.add("meeting PSTN calls per meeting (all kinds)", m.per_meeting, "meetings")
    f.traffic["meetings_per_organiser_per_day"] = f.add("traffic.meetings_per_organiser_per_day", m.rate(expo),
                                                        "meetings").value
    total = len(ids)
    for kind, key in (("conf_out", "dial_outs_per_meeting"), ("conf_in_toll_free", "toll_free_dial_ins_per_meeting"),
                      ("conf_in_toll", "toll_dial_ins_per_meeting")):
        f.traffic[key] = f.add(f"traffic.{key}", m.per_kind(int((kinds == kind).sum()), total)).value
    f.notes.append(f"meetings: {m.seen} meetings with PSTN calls seen, {lam.value:.3f} calls per meeting "
                   f"(zero-truncated Poisson) -> {m.meetings:.0f} meetings in all, {total} calls")


def _fit_toll_free(f: Fitted, start_ts: float, horizon: int) -> None:
    calls = f.calls
    tf = calls.of("toll_free_in")
    for number in sorted(set(calls.number[tf].tolist())):
        mine = tf & (calls.number == number)
        country = (number_region(number) or "US")
        tz = number_timezone(number) or country_timezone(country)
        hours = hour_of_week_exposure(start_ts, horizon, tz)
        w = profile(local_hour_of_week(calls.t[mine], start_ts, tz), hours)
        w = w / w.max()
        n = int(mine.sum())
        rate = f.add(f"toll_free_numbers.{number}.calls_per_day", poisson_rate(n, _exposure(calls, tz, w)))
        origins = Counter(x for x in calls.far_country[mine].tolist() if x)
        entry = {"number": number, "serves": "call_queue", "calls_per_day": rate.value,
                 "weekly_profile": [round(float(x), 4) for x in w], "origins": {}}
        for c, k in origins.most_common():
            entry["origins"][c] = round(f.add(f"toll_free_numbers.{number}.origins.{c}", share(k, sum(origins.values())),
                                              "calls with a known origin").value, 4)
        if not entry["origins"]:
            entry["origins"] = {country: 1.0}
        f.toll_free.append(entry)
    bridges = sorted(set(calls.number[calls.of("conf_in_toll_free")].tolist()) - {""})
    for number in bridges[:1]:
        f.toll_free.append({"number": number, "serves": "conference_bridge"})
    if len(bridges) > 1:
        f.notes.append(f"{len(bridges)} toll-free conference bridge numbers; the model's meeting dial-ins use one "
                       f"({bridges[0]})")


def number_region(number: str) -> str | None:
    import phonenumbers
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return None
