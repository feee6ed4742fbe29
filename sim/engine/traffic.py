"""Synthetic traffic: non-homogeneous Poisson call attempts, drawn up front with numpy.

Every random input has its own named stream (`Streams`), spawned from the
replication's SeedSequence, so changing one input (or a policy) never shifts
another. Rates are per user (or per number) per day:

- user outbound / inbound: uniform within business hours in the user's local
  time, on weekdays only when asked; a share international over the destinations;
- emergency: a small rate at any hour;
- toll-free inbound: per number, over a daily profile in the number's local time
  (peaks mid-morning and mid-afternoon, quiet nights, lighter weekends);
- meetings: per Audio Conferencing organiser within business hours, each with
  Poisson numbers of dial-outs, toll-free dial-ins and toll dial-ins.
"""
from __future__ import annotations

import zlib
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from models.calls import CallKind
from models.rates import OUTBOUND, TOLL_FREE_INBOUND

from sim.inputs.attempts import TENANT, Attempts
from sim.errors import InputError
from sim.inputs.tenant import country_timezone

DIAL_OUT_WITHIN_SECONDS = 300        # participants are called in the meeting's first 5 minutes

# Relative toll-free call intensity by local hour (a contact centre's day).
HOURLY_PROFILE = np.array([0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.2, 0.5, 1.0, 1.4, 1.6, 1.4, 1.1,
                           1.2, 1.5, 1.5, 1.3, 1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.07])
WEEKEND_FACTOR = 0.3


class Streams:
    """Named, independent random streams of one replication."""

    def __init__(self, seed: np.random.SeedSequence):
        self.seed = seed

    def __getitem__(self, name: str) -> np.random.Generator:
        key = (*self.seed.spawn_key, zlib.crc32(name.encode()))
        return np.random.default_rng(np.random.SeedSequence(entropy=self.seed.entropy, spawn_key=key))


def durations(rng: np.random.Generator, spec, n: int) -> np.ndarray:
    """Whole seconds (>= 1) from call_minutes; `mean` is the distribution's mean in minutes."""
    if spec.distribution == "fixed":
        minutes = np.full(n, spec.mean)
    elif spec.distribution == "exponential":
        minutes = rng.exponential(spec.mean, n)
    else:
        mu = np.log(spec.mean) - spec.sigma ** 2 / 2
        minutes = rng.lognormal(mu, spec.sigma, n)
    return np.maximum(1, np.rint(minutes * 60)).astype(np.int64)


@lru_cache(maxsize=256)
def business_windows(start: datetime, horizon: int, tz: str, hours: tuple[str, str, bool]):
    """(starts, lengths) in seconds since `start` of every business window in [0, horizon)."""
    zone = ZoneInfo(tz)
    open_h, close_h, weekdays_only = hours
    h0, m0 = map(int, open_h.split(":"))
    h1, m1 = map(int, close_h.split(":"))
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = (start + timedelta(seconds=horizon)).astimezone(zone).date()
    starts, lengths = [], []
    day = first
    while day <= last:
        if not (weekdays_only and day.weekday() >= 5):
            a = datetime.combine(day, time(h0, m0), zone)
            b = datetime.combine(day + timedelta(days=h1 // 24), time(h1 % 24, m1), zone)
            s = max(0.0, (a - start).total_seconds())
            e = min(float(horizon), (b - start).total_seconds())
            if e > s:
                starts.append(s)
                lengths.append(e - s)
        day += timedelta(days=1)
    return np.array(starts), np.array(lengths)


def _in_windows(rng, n_units: int, rate_per_window: float, starts, lengths, full: float):
    """Poisson arrivals for n_units units over windows; returns (unit index, t)."""
    if n_units == 0 or len(starts) == 0 or rate_per_window <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lam = rate_per_window * (lengths / full)
    counts = rng.poisson(np.broadcast_to(lam, (n_units, len(lam))))
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    unit, window = np.divmod(flat, len(lam))
    t = starts[window] + rng.random(len(flat)) * lengths[window]
    return unit, t.astype(np.int64)


def _choice(rng, weights: dict[str, float], n: int) -> np.ndarray:
    """Country codes drawn by weight (returns an array of str)."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys)[rng.choice(len(keys), size=n, p=p / p.sum())] if n else np.zeros(0, dtype="<U2")


def _users_by_timezone(world, select) -> dict[str, np.ndarray]:
    groups: dict[str, list[int]] = {}
    for i, u in enumerate(world.users):
        if select(u):
            groups.setdefault(u.tz, []).append(i)
    return {tz: np.array(ix) for tz, ix in sorted(groups.items())}


class _Builder:
    """Collects attempt columns, kind by kind, then sorts them once."""

    def __init__(self):
        self.cols = {k: [] for k in ("t", "kind", "payer", "country", "duration", "conf", "tf")}
        self.country_index: dict[str, int] = {}

    def add(self, t, kind, payer, country, duration, conf=None, tf=None):
        n = len(t)
        if n == 0:
            return
        self.cols["t"].append(np.asarray(t, np.int64))
        self.cols["kind"].append(np.full(n, int(kind), np.int8))
        self.cols["payer"].append(np.broadcast_to(np.asarray(payer, np.int32), (n,)))
        # Country codes become small ints here: sorting 2M strings later costs more than the billing.
        codes, inverse = np.unique(np.asarray(country), return_inverse=True)
        index = self.country_index
        self.cols["country"].append(np.array([index.setdefault(str(c), len(index)) for c in codes],
                                             np.int16)[inverse.reshape(-1)] if n else np.zeros(0, np.int16))
        self.cols["duration"].append(np.asarray(duration, np.int32))
        self.cols["conf"].append(np.full(n, -1, np.int64) if conf is None else np.asarray(conf, np.int64))
        self.cols["tf"].append(np.full(n, -1, np.int16) if tf is None else np.broadcast_to(np.asarray(tf, np.int16), (n,)))

    def build(self, horizon: int, service_numbers: list[str]) -> Attempts:
        if not self.cols["t"]:
            e = np.zeros(0, np.int64)
            return Attempts(e, e.astype(np.int8), e.astype(np.int32), e.astype(np.int16), e.astype(np.int32),
                            e, e.astype(np.int16), [], service_numbers=service_numbers)
        c = {k: np.concatenate(v) for k, v in self.cols.items()}
        keep = (c["t"] >= 0) & (c["t"] < horizon)
        c = {k: v[keep] for k, v in c.items()}
        order = np.argsort(c["t"], kind="stable")
        # Renumber countries alphabetically, so the numbering does not depend on build order.
        names = sorted(self.country_index)
        renumber = np.zeros(max(len(names), 1), np.int16)
        for new_code, name in enumerate(names):
            renumber[self.country_index[name]] = new_code
        return Attempts(c["t"][order], c["kind"][order], c["payer"][order], renumber[c["country"][order]],
                        c["duration"][order], c["conf"][order], c["tf"][order], names,
                        service_numbers=service_numbers)


def generate(world, seed: np.random.SeedSequence) -> Attempts:
    tr = world.scenario.traffic
    s = Streams(seed)
    start, horizon = world.clock.start, world.horizon
    bh = (tr.business_hours.start, tr.business_hours.end, tr.business_hours.weekdays_only)
    out = _Builder()
    users = world.users
    user_country = np.array([u.country for u in users]) if users else np.zeros(0, "<U2")
    callers = _users_by_timezone(world, lambda u: u.licence_set.can_place_pstn_calls)

    # user outbound and inbound, within business hours in each user's time zone
    for tz, ix in callers.items():
        starts, lengths = business_windows(start, horizon, tz, bh)
        full = lengths.max() if len(lengths) else 1.0
        u, t = _in_windows(s[f"user_out.arrivals.{tz}"], len(ix), tr.user_outbound_calls_per_day, starts, lengths, full)
        payer = ix[u]
        intl = s[f"user_out.international.{tz}"].random(len(t)) < tr.international_share
        dest = user_country[payer].copy()
        dest[intl] = _choice(s[f"user_out.destinations.{tz}"], tr.international_destinations, int(intl.sum()))
        out.add(t, CallKind.USER_OUT, payer, dest, durations(s[f"user_out.durations.{tz}"], tr.call_minutes, len(t)))
        u, t = _in_windows(s[f"user_in.arrivals.{tz}"], len(ix), tr.user_inbound_calls_per_day, starts, lengths, full)
        out.add(t, CallKind.USER_IN, ix[u], user_country[ix[u]], durations(s[f"user_in.durations.{tz}"], tr.call_minutes, len(t)))

    # emergency calls: any hour, never blocked, never charged
    all_callers = np.concatenate(list(callers.values())) if callers else np.zeros(0, np.int64)
    rng = s["emergency.arrivals"]
    n = rng.poisson(tr.emergency_calls_per_user_per_year * len(all_callers) * horizon / (365 * 86400))
    if n and len(all_callers):
        payer = np.sort(all_callers)[rng.integers(0, len(all_callers), n)]
        out.add(rng.integers(0, horizon, n), CallKind.EMERGENCY, payer, user_country[payer],
                durations(s["emergency.durations"], tr.call_minutes, n))

    # toll-free numbers serving call queues and auto attendants: a daily profile in local time
    for k, tfn in enumerate(world.toll_free):
        if tfn.serves == "conference_bridge":
            continue
        t = _profile_arrivals(s[f"toll_free.arrivals.{k}"], start, horizon, country_timezone(tfn.country),
                              tr.toll_free_calls_per_day)
        origin = _choice(s[f"toll_free.origins.{k}"], tr.toll_free_origins, len(t))
        out.add(t, CallKind.UCAP_IN, TENANT, origin, durations(s[f"toll_free.durations.{k}"], tr.call_minutes, len(t)), tf=k)

    # meetings of Audio Conferencing organisers, with dial-outs and dial-ins
    bridge = next((k for k, x in enumerate(world.toll_free) if x.serves == "conference_bridge"), -1)
    organisers = _users_by_timezone(world, lambda u: u.licence_set.audio_conferencing)
    conf_base = 0
    for tz, ix in organisers.items():
        starts, lengths = business_windows(start, horizon, tz, bh)
        full = lengths.max() if len(lengths) else 1.0
        u, mt = _in_windows(s[f"meetings.arrivals.{tz}"], len(ix), tr.meetings_per_organiser_per_day, starts, lengths, full)
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
                country[intl] = _choice(s[f"meetings.{name}.destinations.{tz}"], tr.international_destinations, int(intl.sum()))
            out.add(t, kind, payer, country, durations(s[f"meetings.{name}.durations.{tz}"], tr.call_minutes, len(m)),
                    conf=meeting[m], tf=-1 if kind == CallKind.CONF_OUT else bridge)
    return out.build(horizon, [x.number for x in world.toll_free])


def _profile_arrivals(rng, start: datetime, horizon: int, tz: str, per_day: float) -> np.ndarray:
    """Poisson arrivals, piecewise constant per local hour, averaging `per_day` a day."""
    if per_day <= 0:
        return np.zeros(0, np.int64)
    zone = ZoneInfo(tz)
    hours = np.arange(0, horizon, 3600)
    local = [(start + timedelta(seconds=int(h))).astimezone(zone) for h in hours]
    weight = np.array([HOURLY_PROFILE[d.hour] * (WEEKEND_FACTOR if d.weekday() >= 5 else 1.0) for d in local])
    week_mean = (HOURLY_PROFILE.sum() * (5 + 2 * WEEKEND_FACTOR)) / 7      # mean daily weight
    lam = per_day * weight / week_mean
    lengths = np.minimum(3600, horizon - hours)
    lam = lam * lengths / 3600
    counts = rng.poisson(lam)
    idx = np.repeat(np.arange(len(hours)), counts)
    return (hours[idx] + rng.random(len(idx)) * lengths[idx]).astype(np.int64)


def expected_volume(world) -> dict[str, float]:
    """Expected call attempts per replication, by kind (for `validate`)."""
    tr = world.scenario.traffic
    start, horizon = world.clock.start, world.horizon
    bh = (tr.business_hours.start, tr.business_hours.end, tr.business_hours.weekdays_only)

    def business_days(users):
        total = 0.0
        for tz, ix in _users_by_timezone(world, users).items():
            _, lengths = business_windows(start, horizon, tz, bh)
            if len(lengths):
                total += len(ix) * (lengths / lengths.max()).sum()
        return total

    caller_days = business_days(lambda u: u.licence_set.can_place_pstn_calls)
    meetings = business_days(lambda u: u.licence_set.audio_conferencing) * tr.meetings_per_organiser_per_day
    callers = sum(1 for u in world.users if u.licence_set.can_place_pstn_calls)
    queues = sum(1 for x in world.toll_free if x.serves != "conference_bridge")
    return {
        "user_out": caller_days * tr.user_outbound_calls_per_day,
        "user_in": caller_days * tr.user_inbound_calls_per_day,
        "emergency": tr.emergency_calls_per_user_per_year * callers * horizon / (365 * 86400),
        "toll_free_in": queues * tr.toll_free_calls_per_day * horizon / 86400,
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
        calls = lic.can_place_pstn_calls and tr.user_outbound_calls_per_day > 0
        dials = lic.audio_conferencing and tr.meetings_per_organiser_per_day > 0 and tr.dial_outs_per_meeting > 0
        if lic.credits and (calls or dials) and u.dialout_policy != "none":
            if share < 1:
                needs.add((OUTBOUND, u.country))
            if share > 0 and u.dialout_policy == "any":
                needs |= {(OUTBOUND, c) for c in tr.international_destinations}
        if lic.audio_conferencing and tr.meetings_per_organiser_per_day > 0 and tr.toll_free_dial_ins_per_meeting > 0:
            needs.add((TOLL_FREE_INBOUND, u.country))
    if tr.toll_free_calls_per_day > 0 and any(x.serves != "conference_bridge" for x in world.toll_free):
        needs |= {(TOLL_FREE_INBOUND, c) for c in tr.toll_free_origins}
    for kind, country in sorted(needs):
        if world.rates.lookup(kind, country) is None:
            raise InputError(str(card), f"no {kind} rate for {country}, which the scenario's traffic may "
                                        f"charge to credits (add a row for {country}, or a `*` row)")
