"""Arrival windows (issue 10): every business day carries exactly its own day's calls, on DST
days and partial first / last days; weekly profiles, time zones, per-user and per-number keys,
per-kind call lengths and growth (issue 9). Expected volumes are checked against an independent
minute-by-minute oracle, draws against them within 4 Poisson standard deviations."""
import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from models.calls import CallKind
from sim.engine.traffic import durations, expected_volume
from sim.inputs.traffic_spec import CallMinutes

from .test_traffic import attempts, within_poisson, world_of

PLAN = ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]
QUIET = {"meetings_per_organiser_per_day": 0, "emergency_calls_per_user_per_year": 0, "toll_free_calls_per_day": 0}


def scenario_world(start: datetime, days: float, traffic: dict, users=None, toll_free=None, count=1):
    w = world_of(dict(QUIET, **traffic), days=days,
                 users=users or [{"count": count, "country": "US", "licences": PLAN}], toll_free=toll_free or [])
    w.clock.start = start          # world_of starts on a fixed Monday; these cases need their own instant
    return w


def oracle_business(start, horizon, tz, open_h, close_h, weekdays_only=True):
    """Minute by minute: each minute inside a local business window counts 1 / (that window's minutes)."""
    zone, total = ZoneInfo(tz), 0.0
    for m in range(horizon // 60):
        local = (start + timedelta(minutes=m)).astimezone(zone)
        if weekdays_only and local.weekday() >= 5:
            continue
        day = local.date()
        a = datetime(day.year, day.month, day.day, open_h, tzinfo=zone)
        b = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=1) if close_h == 24 \
            else datetime(day.year, day.month, day.day, close_h, tzinfo=zone)
        if a <= local < b:
            total += 60 / (b.timestamp() - a.timestamp())
    return total


@pytest.mark.parametrize("start, days, hours, weekdays_only, expected", [
    # the case: one day from 10:00 New York = 8 h today + 2 h tomorrow = 1 business day, 3.0 calls
    (datetime(2026, 1, 6, 15, tzinfo=timezone.utc), 1, ("08:00", "18:00"), True, 3.0),
    # 24-hour business days over the spring DST change: the 23-hour Sunday still carries 3.0
    (datetime(2026, 3, 7, 5, tzinfo=timezone.utc), 3, ("00:00", "24:00"), False, None),
    # and over the autumn one (25-hour Sunday)
    (datetime(2026, 10, 31, 4, tzinfo=timezone.utc), 3, ("00:00", "24:00"), False, None),
    # a partial first day (starts 13:00 local) and a partial last day
    (datetime(2026, 2, 2, 18, tzinfo=timezone.utc), 4, ("09:00", "17:00"), True, None),
])
def test_each_window_carries_its_own_days_rate(start, days, hours, weekdays_only, expected):
    w = scenario_world(start, days, {"user_outbound_calls_per_day": 3.0,
                                     "business_hours": {"start": hours[0], "end": hours[1], "weekdays_only": weekdays_only}})
    got = expected_volume(w)["user_out"]
    oracle = 3.0 * oracle_business(start, days * 86400, "America/New_York", int(hours[0][:2]), int(hours[1][:2]),
                                   weekdays_only)
    assert got == pytest.approx(oracle, abs=1e-9)
    if expected is not None:
        assert got == pytest.approx(expected, abs=1e-9)


def test_spring_dst_horizon_by_hand():
    # Sat 00:00 EST to Tue 01:00 EDT: Sat, Sun (23 h), Mon whole, 1 h of Tuesday's 24 = 3 + 1/24 days.
    w = scenario_world(datetime(2026, 3, 7, 5, tzinfo=timezone.utc), 3,
                       {"business_hours": {"start": "00:00", "end": "24:00", "weekdays_only": False}})
    assert expected_volume(w)["user_out"] == pytest.approx(3.0 * (3 + 1 / 24), abs=1e-9)


def test_drawn_counts_on_a_partial_day_match_the_configured_rate():
    w = scenario_world(datetime(2026, 1, 6, 15, tzinfo=timezone.utc), 1, {"user_outbound_calls_per_day": 3.0},
                       count=2000)
    n = int((attempts(w).kind == CallKind.USER_OUT).sum())
    assert within_poisson(n, 6000)                    # the old scaling drew ~7,460 (3.73 per user)


def test_weekly_profile_puts_calls_where_the_weights_are_in_local_time():
    profile = [0.0] * 168
    profile[9] = 1.0                 # Monday 09:00-10:00 only
    profile[24 * 2 + 14] = 3.0       # Wednesday 14:00-15:00, three times as busy
    users = [{"count": 300, "country": "US", "licences": PLAN, "timezone": "America/Los_Angeles"}]
    w = scenario_world(datetime(2026, 3, 2, tzinfo=timezone.utc), 14, {"weekly_profile": profile,
                                                                         "user_outbound_calls_per_day": 2.0}, users)
    exp = expected_volume(w)["user_out"]
    # the rate is the mean over the days of the week: 2 x 7 = 14 calls a week per user, two weeks
    # (the horizon ends Sunday 17:00 Los Angeles, after every weighted hour)
    assert exp == pytest.approx(300 * 14 * 2, rel=1e-9)
    a = attempts(w)
    local = [(w.clock.start + timedelta(seconds=int(t))).astimezone(ZoneInfo("America/Los_Angeles")) for t in a.t]
    slots = {(d.weekday(), d.hour) for d in local}
    assert slots == {(0, 9), (2, 14)}
    wed = sum(d.weekday() == 2 for d in local)
    assert abs(wed / len(local) - 0.75) <= 4 * math.sqrt(0.75 * 0.25 / len(local))
    assert within_poisson(len(local), exp)


def test_timezone_key_and_area_code_default():
    users = [{"count": 2, "country": "US", "licences": PLAN, "timezone": "America/Chicago"}]
    w = world_of(QUIET, users=users)
    assert {u.tz for u in w.users} == {"America/Chicago"}
    from sim.inputs.scenario import UserSpec
    from sim.inputs.tenant import user_timezone
    assert user_timezone(UserSpec(upn="a@x.com", country="US", licences=PLAN, number="+14155550100")) == "America/Los_Angeles"
    assert user_timezone(UserSpec(upn="a@x.com", country="US", licences=PLAN)) == "America/New_York"
    assert user_timezone(UserSpec(upn="a@x.com", country="US", licences=PLAN, number="+14155550100",
                                  timezone="America/Denver")) == "America/Denver"
    with pytest.raises(ValueError, match="IANA time zone"):
        UserSpec(upn="a@x.com", country="US", licences=PLAN, timezone="Mars/Olympus")


def test_per_user_and_per_group_rates():
    users = [{"count": 50, "country": "US", "licences": PLAN, "outbound_calls_per_day": 1.0},
             {"count": 50, "country": "US", "licences": PLAN}]
    w = world_of(dict(QUIET, user_outbound_calls_per_day=4.0), users=users, toll_free=[])
    assert expected_volume(w)["user_out"] == pytest.approx(20 * (50 * 1.0 + 50 * 4.0))
    a = attempts(w)
    out = a.payer[a.kind == CallKind.USER_OUT]
    assert within_poisson(int((out < 50).sum()), 1000) and within_poisson(int((out >= 50).sum()), 4000)


def test_toll_free_number_keys():
    tf = [{"number": "+18885550100", "serves": "call_queue", "calls_per_day": 10, "origins": {"CA": 1.0},
           "weekly_profile": [1.0] * 168, "timezone": "UTC"},
          {"number": "+18885550111", "serves": "call_queue"}]
    w = world_of(dict(QUIET, toll_free_calls_per_day=30, toll_free_origins={"US": 1.0}), toll_free=tf)
    assert expected_volume(w)["toll_free_in"] == pytest.approx(28 * 10 + 28 * 30, rel=2e-3)
    a = attempts(w)
    first = (a.kind == CallKind.UCAP_IN) & (a.tf == 0)
    assert set(np.array(a.countries)[a.country[first]]) == {"CA"}
    assert within_poisson(int(first.sum()), 280)


def test_empirical_and_per_kind_call_lengths():
    rng = np.random.default_rng(1)
    spec = CallMinutes(distribution="empirical", quantiles=(0.5, 1.0, 2.0, 10.0))
    m = durations(rng, spec, 200_000) / 60
    # linear interpolation between the quantiles: the mean is the average of the three segment midpoints
    assert m.mean() == pytest.approx((0.75 + 1.5 + 6.0) / 3, rel=0.01)
    assert m.min() >= 0.5 and m.max() <= 10.0
    assert np.mean(m <= 1.0) == pytest.approx(1 / 3, abs=0.01)
    w = world_of({"call_minutes": {"distribution": "fixed", "mean": 2.0},
                  "call_minutes_by_kind": {"toll_free_in": {"distribution": "fixed", "mean": 7.0}}})
    a = attempts(w)
    assert set(a.duration[a.kind == CallKind.UCAP_IN]) == {420}
    assert set(a.duration[a.kind == CallKind.USER_OUT]) == {120}
    with pytest.raises(ValueError, match="quantiles"):
        CallMinutes(distribution="empirical")


def test_growth_compounds_over_the_horizon():
    base = {"business_hours": {"start": "00:00", "end": "24:00", "weekdays_only": False}}
    flat = expected_volume(scenario_world(datetime(2026, 1, 1, 5, tzinfo=timezone.utc), 365, base))["user_out"]
    grown = expected_volume(scenario_world(datetime(2026, 1, 1, 5, tzinfo=timezone.utc), 365,
                                           dict(base, growth={"users": 1.2, "calls_per_user": 1.05, "per": "year"})))["user_out"]
    g = 1.2 * 1.05
    assert grown / flat == pytest.approx((g - 1) / math.log(g), rel=1e-3)     # the mean of g ** (t / year)


@pytest.mark.parametrize("days, weekday_equivalents", [(14, 14 * 5.6 / 7), (10, 8 + 2 * 0.3)])
def test_validate_toll_free_volume_carries_the_weekday_mix(days, weekday_equivalents):
    # From Monday 00:00 New York: a weekday carries 7 / 5.6 of the per-day rate, a weekend day 0.3 x that
    # (the contact-centre week: weekends at 30 %); two whole weeks give exactly 14 days' calls.
    tf = [{"number": "+18885550100", "serves": "call_queue", "calls_per_day": 40}]
    w = scenario_world(datetime(2026, 1, 5, 5, tzinfo=timezone.utc), days, {}, toll_free=tf)
    expected = 40 * 7 / 5.6 * weekday_equivalents
    assert expected_volume(w)["toll_free_in"] == pytest.approx(expected, rel=1e-12)
    assert within_poisson(int((attempts(w).kind == CallKind.UCAP_IN).sum()), expected)
