"""When calls arrive: piecewise-constant Poisson intensity over the horizon, in a zone's local time.

A *segment set* is (starts, lengths, weights): intervals in seconds since the scenario start,
clipped to the horizon, and each interval's share of one day's calls. A rate of R calls per
day draws Poisson(R x weight) calls in a segment, uniform within it, so the expected count of
a horizon is R x weights.sum() exactly, and `validate` reports that same sum.

- Business hours: one segment per business day, weight = its clipped length over **its own
  day's** window length; a partial first or last day gets its part of one day's calls, and a
  23- or 25-hour window over a DST change still carries exactly one day's.
- A weekly profile (168 hourly weights, Monday 00:00 local first): local day d carries
  7 x (its 24 weights) / (all 168) of a day's calls, so R is the mean over the days of the week;
  within the day, shared by the hours in proportion to weight x real length (a DST day's missing
  hour has length 0, its repeated hour twice the length).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

# The default toll-free week: a contact centre's day (peaks mid-morning and mid-afternoon,
# quiet nights), weekends at 30 %.
CONTACT_CENTRE_DAY = (0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.2, 0.5, 1.0, 1.4, 1.6, 1.4, 1.1,
                      1.2, 1.5, 1.5, 1.3, 1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.07)
WEEKEND_FACTOR = 0.3
CONTACT_CENTRE_WEEK = tuple(w * (WEEKEND_FACTOR if day >= 5 else 1.0) for day in range(7) for w in CONTACT_CENTRE_DAY)
ALL_HOURS = (1.0,) * 168


def _local_days(start: datetime, horizon: int, zone: ZoneInfo) -> list[date]:
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = (start + timedelta(seconds=horizon)).astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _at(day: date, hh: int, mm: int, zone: ZoneInfo) -> float:
    """POSIX seconds of local day + hh:mm (24:00 = next midnight); a time in a DST gap maps forward."""
    return datetime.combine(day + timedelta(days=hh // 24), time(hh % 24, mm), zone).timestamp()


def _clip(a: np.ndarray, b: np.ndarray, t0: float, horizon: int):
    s = np.clip(a - t0, 0, horizon)
    e = np.clip(b - t0, 0, horizon)
    return s, e - s


@lru_cache(maxsize=256)
def business_segments(start: datetime, horizon: int, tz: str, hours: tuple[str, str, bool]):
    zone = ZoneInfo(tz)
    open_h, close_h, weekdays_only = hours
    h0, m0 = map(int, open_h.split(":"))
    h1, m1 = map(int, close_h.split(":"))
    days = [d for d in _local_days(start, horizon, zone) if not (weekdays_only and d.weekday() >= 5)]
    a = np.array([_at(d, h0, m0, zone) for d in days])
    b = np.array([_at(d, h1, m1, zone) for d in days])
    s, length = _clip(a, b, start.timestamp(), horizon)
    keep = length > 0
    return s[keep], length[keep], (length / (b - a))[keep]


@lru_cache(maxsize=256)
def weekly_segments(start: datetime, horizon: int, tz: str, profile: tuple[float, ...]):
    zone = ZoneInfo(tz)
    w = np.asarray(profile, float).reshape(7, 24)
    days = _local_days(start, horizon, zone)
    edges = np.array([[_at(d, h, 0, zone) for h in range(25)] for d in days])      # (days, 25)
    real = np.diff(edges, axis=1)                                                   # seconds of each local hour
    dw = w[[d.weekday() for d in days]]                                             # (days, 24)
    mass = dw * real
    day_share = 7 * dw.sum(axis=1) / w.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(mass > 0, mass / mass.sum(axis=1, keepdims=True), 0.0) * day_share[:, None]
    s, length = _clip(edges[:, :-1].ravel(), edges[:, 1:].ravel(), start.timestamp(), horizon)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(real.ravel() > 0, share.ravel() * length / real.ravel(), 0.0)
    keep = (length > 0) & (weight > 0)
    return s[keep], length[keep], weight[keep]


def grown(segments, growth, horizon: int):
    """Weights times the growth factor at each segment's middle: factor ** (t / period)."""
    starts, lengths, weights = segments
    factor = growth.users * growth.calls_per_user
    if factor == 1.0:
        return segments
    period = horizon if growth.per == "horizon" else 365 * 86400
    return starts, lengths, weights * factor ** ((starts + lengths / 2) / period)


def arrivals(rng: np.random.Generator, rates: np.ndarray, segments):
    """Poisson arrivals for units with per-day `rates` over `segments`: (unit index, t in seconds).

    Each unit's count is Poisson(rate x total weight); its calls fall in segments drawn by
    weight and uniformly within them, the same process as per-segment Poisson counts."""
    starts, lengths, weights = segments
    rates = np.asarray(rates, float)
    total = weights.sum()
    if len(rates) == 0 or total <= 0 or not np.any(rates > 0):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    counts = rng.poisson(rates * total)
    unit = np.repeat(np.arange(len(rates)), counts)
    seg = rng.choice(len(weights), size=len(unit), p=weights / total)
    t = starts[seg] + rng.random(len(unit)) * lengths[seg]
    return unit, t.astype(np.int64)
