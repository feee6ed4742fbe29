"""Synthetic traffic: non-homogeneous Poisson call attempts, drawn up front with numpy.

Every random input has its own named stream (`Streams`), spawned from the
replication's SeedSequence, so changing one input (or a policy) never shifts
another. Rates are per user (or per number) per day, spread over the day by
`profiles` (business hours or a weekly profile, in each user's or number's local
time), times the `growth` factor:

- user outbound / inbound: per user (a user's or group's own outbound rate, else the
  traffic block's); a share international over the destinations;
- emergency: a small rate at any hour;
- toll-free inbound: per number, its own rate, weekly profile and origin mix (default
  the contact-centre week: peaks mid-morning and mid-afternoon, lighter weekends);
- meetings: per Audio Conferencing organiser, each with Poisson numbers of dial-outs,
  toll-free dial-ins and toll dial-ins.

Call lengths come from `call_minutes`, or the kind's own `call_minutes_by_kind` entry.
"""
from __future__ import annotations

import zlib

import numpy as np

from models.calls import KIND_NAME, CallKind
from models.rates import OUTBOUND, TOLL_FREE_INBOUND

from sim.inputs.attempts import TENANT, Attempts
from sim.errors import InputError

from .profiles import ALL_HOURS, arrivals, business_segments, grown, weekly_segments

DIAL_OUT_WITHIN_SECONDS = 300        # participants are called in the meeting's first 5 minutes

class Streams:
    """Named, independent random streams of one replication."""

    def __init__(self, seed: np.random.SeedSequence):
        self.seed = seed

    def __getitem__(self, name: str) -> np.random.Generator:
        key = (*self.seed.spawn_key, zlib.crc32(name.encode()))
        return np.random.default_rng(np.random.SeedSequence(entropy=self.seed.entropy, spawn_key=key))


def durations(rng: np.random.Generator, spec, n: int) -> np.ndarray:
    """Whole seconds (>= 1) from a call_minutes spec; `mean` is the distribution's mean in minutes."""
    if spec.distribution == "fixed":
        minutes = np.full(n, spec.mean)
    elif spec.distribution == "exponential":
        minutes = rng.exponential(spec.mean, n)
    elif spec.distribution == "empirical":
        q = np.asarray(spec.quantiles)
        minutes = np.interp(rng.random(n), np.linspace(0, 1, len(q)), q)
    else:
        mu = np.log(spec.mean) - spec.sigma ** 2 / 2
        minutes = rng.lognormal(mu, spec.sigma, n)
    return np.maximum(1, np.rint(minutes * 60)).astype(np.int64)


def user_segments(world, tz: str):
    """Segments of users in zone `tz`: the weekly profile if given, else business hours; grown."""
    tr = world.scenario.traffic
    start, horizon = world.clock.start, world.horizon
    if tr.weekly_profile is not None:
        segments = weekly_segments(start, horizon, tz, tr.weekly_profile)
    else:
        bh = tr.business_hours
        segments = business_segments(start, horizon, tz, (bh.start, bh.end, bh.weekdays_only))
    return grown(segments, tr.growth, horizon)


def _all_hours(world):
    return grown(weekly_segments(world.clock.start, world.horizon, "UTC", ALL_HOURS), world.scenario.traffic.growth,
                 world.horizon)


def toll_free_segments(world, tfn):
    return grown(weekly_segments(world.clock.start, world.horizon, tfn.tz, tfn.weekly_profile),
                 world.scenario.traffic.growth, world.horizon)


def outbound_rates(world, ix: np.ndarray) -> np.ndarray:
    default = world.scenario.traffic.user_outbound_calls_per_day
    rates = [world.users[i].outbound_calls_per_day for i in ix]
    return np.array([default if r is None else r for r in rates], float)


def _choice(rng, weights: dict[str, float], n: int, codes) -> np.ndarray:
    """Countries drawn by weight, as their `codes` (`_Builder.codes`)."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return codes(keys)[rng.choice(len(keys), size=n, p=p / p.sum())] if n else np.zeros(0, np.int16)


def _users_by_timezone(world, select) -> dict[str, np.ndarray]:
    groups: dict[str, list[int]] = {}
    for i, u in enumerate(world.users):
        if select(u):
            groups.setdefault(u.tz, []).append(i)
    return {tz: np.array(ix) for tz, ix in sorted(groups.items())}


def stable_order(t: np.ndarray, horizon: int) -> np.ndarray:
    """np.argsort(t, kind="stable") for 0 <= t < horizon, 4x faster: sort unique keys t * n + position."""
    n = len(t)
    if horizon * (n + 1) >= 1 << 62:
        return np.argsort(t, kind="stable")
    key = t * n + np.arange(n)
    key.sort()
    return key % n if n else key


class _Builder:
    """Collects attempt columns, kind by kind, then sorts them once."""

    def __init__(self):
        self.cols = {k: [] for k in ("t", "kind", "payer", "country", "duration", "conf", "tf")}
        self.country_index: dict[str, int] = {}

    def codes(self, names) -> np.ndarray:
        """Countries as small ints, numbered as first seen (`build` renumbers them alphabetically):
        traffic never holds country strings per call (a tenant-year's 10M would take ~1 s to sort)."""
        index = self.country_index
        return np.array([index.setdefault(str(c), len(index)) for c in names], np.int16)

    def add(self, t, kind, payer, country, duration, conf=None, tf=None):
        """`country`: each call's code (`codes`)."""
        n = len(t)
        if n == 0:
            return
        self.cols["t"].append(np.asarray(t, np.int64))
        self.cols["kind"].append(np.full(n, int(kind), np.int8))
        self.cols["payer"].append(np.broadcast_to(np.asarray(payer, np.int32), (n,)))
        self.cols["country"].append(np.asarray(country, np.int16))
        self.cols["duration"].append(np.asarray(duration, np.int32))
        self.cols["conf"].append(np.full(n, -1, np.int32) if conf is None else np.asarray(conf, np.int32))
        self.cols["tf"].append(np.full(n, -1, np.int16) if tf is None else np.broadcast_to(np.asarray(tf, np.int16), (n,)))

    def build(self, horizon: int, service_numbers: list[str]) -> Attempts:
        if not self.cols["t"]:
            e = np.zeros(0, np.int64)
            return Attempts(e, e.astype(np.int8), e.astype(np.int32), e.astype(np.int16), e.astype(np.int32),
                            e.astype(np.int32), e.astype(np.int16), [], service_numbers=service_numbers)
        t = np.concatenate(self.cols["t"])
        keep = np.flatnonzero((t >= 0) & (t < horizon))
        order = keep[stable_order(t[keep], horizon)]
        del t, keep
        # the countries of some call (before the horizon's cut), numbered alphabetically below
        seen = np.zeros(len(self.country_index), bool)
        for piece in self.cols["country"]:
            seen |= np.bincount(piece, minlength=len(seen)) > 0
        c = {}
        for k in list(self.cols):              # column by column, dropping the pieces: a tenant-year is 10M rows
            c[k] = np.concatenate(self.cols.pop(k))[order]
        # Renumber countries alphabetically, so the numbering does not depend on build order.
        names = sorted(name for name, code in self.country_index.items() if seen[code])
        renumber = np.zeros(max(len(self.country_index), 1), np.int16)
        for new_code, name in enumerate(names):
            renumber[self.country_index[name]] = new_code
        return Attempts(c["t"], c["kind"], c["payer"], renumber[c["country"]], c["duration"], c["conf"], c["tf"],
                        names, service_numbers=service_numbers)


def generate(world, seed: np.random.SeedSequence) -> Attempts:
    tr = world.scenario.traffic
    s = Streams(seed)
    out = _Builder()
    users = world.users
    user_country = out.codes([u.country for u in users])
    callers = _users_by_timezone(world, lambda u: u.licence_set.can_place_pstn_calls)

    # user outbound and inbound, over the user profile in each user's time zone
    for tz, ix in callers.items():
        segments = user_segments(world, tz)
        u, t = arrivals(s[f"user_out.arrivals.{tz}"], outbound_rates(world, ix), segments)
        payer = ix[u]
        intl = s[f"user_out.international.{tz}"].random(len(t)) < tr.international_share
        dest = user_country[payer].copy()
        dest[intl] = _choice(s[f"user_out.destinations.{tz}"], tr.international_destinations, int(intl.sum()),
                             out.codes)
        out.add(t, CallKind.USER_OUT, payer, dest, durations(s[f"user_out.durations.{tz}"], tr.minutes_of("user_out"), len(t)))
        u, t = arrivals(s[f"user_in.arrivals.{tz}"], np.full(len(ix), tr.user_inbound_calls_per_day), segments)
        out.add(t, CallKind.USER_IN, ix[u], user_country[ix[u]],
                durations(s[f"user_in.durations.{tz}"], tr.minutes_of("user_in"), len(t)))

    # emergency calls: any hour, never blocked, never charged
    all_callers = np.sort(np.concatenate(list(callers.values()))) if callers else np.zeros(0, np.int64)
    u, t = arrivals(s["emergency.arrivals"], np.full(len(all_callers), tr.emergency_calls_per_user_per_year / 365),
                    _all_hours(world))
    payer = all_callers[u]
    out.add(t, CallKind.EMERGENCY, payer, user_country[payer], durations(s["emergency.durations"], tr.minutes_of("emergency"), len(t)))

    # toll-free numbers serving call queues and auto attendants: each its own rate, week and origins
    for k, tfn in enumerate(world.toll_free):
        if tfn.serves == "conference_bridge":
            continue
        _, t = arrivals(s[f"toll_free.arrivals.{k}"], np.array([tfn.calls_per_day]), toll_free_segments(world, tfn))
        origin = _choice(s[f"toll_free.origins.{k}"], tfn.origins, len(t), out.codes)
        out.add(t, CallKind.UCAP_IN, TENANT, origin,
                durations(s[f"toll_free.durations.{k}"], tr.minutes_of("toll_free_in"), len(t)), tf=k)

    # meetings of Audio Conferencing organisers, with dial-outs and dial-ins
    bridge = next((k for k, x in enumerate(world.toll_free) if x.serves == "conference_bridge"), -1)
    organisers = _users_by_timezone(world, lambda u: u.licence_set.audio_conferencing)
    conf_base = 0
    for tz, ix in organisers.items():
        u, mt = arrivals(s[f"meetings.arrivals.{tz}"], np.full(len(ix), tr.meetings_per_organiser_per_day),
                         user_segments(world, tz))
        org = ix[u]
        meeting = conf_base + np.arange(len(mt))
        conf_base += len(mt)
        for kind, rate, name in ((CallKind.CONF_OUT, tr.dial_outs_per_meeting, "dial_outs"),
                                 (CallKind.CONF_IN_TOLL_FREE, tr.toll_free_dial_ins_per_meeting, "toll_free_dial_ins"),
                                 (CallKind.CONF_IN_TOLL, tr.toll_dial_ins_per_meeting, "toll_dial_ins")):
            per = s[f"meetings.{name}.count.{tz}"].poisson(rate, len(mt)) if rate > 0 else np.zeros(len(mt), np.int64)
            m = np.repeat(np.arange(len(mt)), per)
            t = mt[m] + s[f"meetings.{name}.offsets.{tz}"].integers(0, DIAL_OUT_WITHIN_SECONDS, len(m))
            payer = org[m]
            country = user_country[payer].copy()
            if kind == CallKind.CONF_OUT:
                intl = s[f"meetings.{name}.international.{tz}"].random(len(m)) < tr.international_share
                country[intl] = _choice(s[f"meetings.{name}.destinations.{tz}"], tr.international_destinations,
                                        int(intl.sum()), out.codes)
            out.add(t, kind, payer, country, durations(s[f"meetings.{name}.durations.{tz}"], tr.minutes_of(KIND_NAME[kind]), len(m)),
                    conf=meeting[m], tf=-1 if kind == CallKind.CONF_OUT else bridge)
    return out.build(world.horizon, [x.number for x in world.toll_free])


def expected_volume(world) -> dict[str, float]:
    """Expected call attempts per replication, by kind (for `validate`): the same weights `generate` draws from."""
    tr = world.scenario.traffic

    def total(select, rates):
        return sum(float(rates(ix).sum() * user_segments(world, tz)[2].sum())
                   for tz, ix in _users_by_timezone(world, select).items())

    can_call = lambda u: u.licence_set.can_place_pstn_calls        # noqa: E731
    meetings = total(lambda u: u.licence_set.audio_conferencing, lambda ix: np.full(len(ix), tr.meetings_per_organiser_per_day))
    callers = sum(1 for u in world.users if can_call(u))
    return {
        "user_out": total(can_call, lambda ix: outbound_rates(world, ix)),
        "user_in": total(can_call, lambda ix: np.full(len(ix), tr.user_inbound_calls_per_day)),
        "emergency": tr.emergency_calls_per_user_per_year / 365 * callers * float(_all_hours(world)[2].sum()),
        "toll_free_in": sum(x.calls_per_day * float(toll_free_segments(world, x)[2].sum())
                            for x in world.toll_free if x.serves != "conference_bridge"),
        "meetings": meetings,
        "conf_out": meetings * tr.dial_outs_per_meeting,
        "conf_in_toll_free": meetings * tr.toll_free_dial_ins_per_meeting,
        "conf_in_toll": meetings * tr.toll_dial_ins_per_meeting,
    }


def check_rates(world, scenario_path) -> None:
    """Every country synthetic traffic can send to credits needs a rate (R6), and only those: a
    call reaches credits only if its payer holds the credits licence (toll-free: always), its
    dial-out policy lets it out, and the traffic makes such calls at all (R3)."""
    from .world import rate_card_path
    tr = world.scenario.traffic
    sc = world.scenario
    card = rate_card_path(sc, world.base_dir) if isinstance(sc.rates, str) else f"{scenario_path}: rates"
    share = tr.international_share
    needs = set()
    for u in world.users:
        lic = u.licence_set
        rate = tr.user_outbound_calls_per_day if u.outbound_calls_per_day is None else u.outbound_calls_per_day
        calls = lic.can_place_pstn_calls and rate > 0
        dials = lic.audio_conferencing and tr.meetings_per_organiser_per_day > 0 and tr.dial_outs_per_meeting > 0
        if lic.credits and (calls or dials) and u.dialout_policy != "none":
            if share < 1:
                needs.add((OUTBOUND, u.country))
            if share > 0 and u.dialout_policy == "any":
                needs |= {(OUTBOUND, c) for c in tr.international_destinations}
        if lic.audio_conferencing and tr.meetings_per_organiser_per_day > 0 and tr.toll_free_dial_ins_per_meeting > 0:
            needs.add((TOLL_FREE_INBOUND, u.country))
    for x in world.toll_free:
        if x.serves != "conference_bridge" and x.calls_per_day > 0:
            needs |= {(TOLL_FREE_INBOUND, c) for c in x.origins}
    for kind, country in sorted(needs):
        if world.rates.lookup(kind, country) is None:
            raise InputError(str(card), f"no {kind} rate for {country}, which the scenario's traffic may "
                                        f"charge to credits (add a row for {country}, or a `*` row)")
