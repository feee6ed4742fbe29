"""Synthetic traffic statistics (issue 3), with fixed seeds and honest tolerances:
counts within 4 standard deviations of the configured Poisson means, durations
within 4 standard errors of the configured mean, times inside business hours."""
import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from models.calls import CallKind
from sim.parallel.runner import TRAFFIC as TRAFFIC_STREAM, replication_seed
from sim.inputs.scenario import Scenario
from sim.engine.traffic import expected_volume, generate
from sim.engine.world import build_world

from .test_metamorphic import ROOT

START = datetime(2026, 3, 2, tzinfo=timezone.utc)     # a Monday


def world_of(traffic: dict, days=28, users=None, toll_free=None):
    doc = {
        "name": "traffic", "start": START.isoformat(), "days": days, "seed": 3,
        "tenant": {"generate": users or [
            {"count": 60, "country": "US", "licences": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]},
            {"count": 40, "country": "DE", "licences": ["E5", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]}],
            "toll_free_numbers": toll_free or [{"number": "+18885550100", "serves": "call_queue"}]},
        "rates": str(ROOT / "rates" / "illustrative-usd.csv"),
        "traffic": traffic,
        "policies": [{"name": "p", "initial_funds": 100}],
    }
    scenario = Scenario.model_validate(doc)
    return build_world(scenario, ROOT / "scenarios" / "x.yaml")


def attempts(world, rep=0):
    return generate(world, replication_seed(99, rep, TRAFFIC_STREAM))


def within_poisson(observed: int, expected: float, sds: float = 4.0) -> bool:
    return abs(observed - expected) <= sds * math.sqrt(max(expected, 1.0))


TRAFFIC = {"user_outbound_calls_per_day": 3.0, "international_share": 0.1,
           "international_destinations": {"GB": 0.5, "IN": 0.5}, "toll_free_calls_per_day": 50,
           "toll_free_origins": {"US": 0.9, "CA": 0.1}, "meetings_per_organiser_per_day": 0.8,
           "dial_outs_per_meeting": 0.5, "toll_free_dial_ins_per_meeting": 1.5, "toll_dial_ins_per_meeting": 0.5,
           "user_inbound_calls_per_day": 2.0, "emergency_calls_per_user_per_year": 20}


def test_call_counts_per_kind_match_the_configured_rates():
    w = world_of(TRAFFIC)
    a = attempts(w)
    exp = expected_volume(w)
    # 100 callers x 20 weekdays x 3 = 6000 outbound; 28 days x 50 toll-free = 1400.
    assert exp["user_out"] == pytest.approx(6000)
    assert exp["toll_free_in"] == pytest.approx(1400, rel=1e-3)     # the profile in New York time: not whole weeks
    count = {k: int((a.kind == k).sum()) for k in CallKind}
    assert within_poisson(count[CallKind.USER_OUT], exp["user_out"])
    assert within_poisson(count[CallKind.USER_IN], exp["user_in"])
    assert within_poisson(count[CallKind.UCAP_IN], exp["toll_free_in"])
    assert within_poisson(count[CallKind.EMERGENCY], exp["emergency"])
    # Meeting calls are compound Poisson: allow 6 sd on the per-meeting counts.
    assert within_poisson(count[CallKind.CONF_OUT], exp["conf_out"], 6)
    assert within_poisson(count[CallKind.CONF_IN_TOLL_FREE], exp["conf_in_toll_free"], 6)
    assert within_poisson(count[CallKind.CONF_IN_TOLL], exp["conf_in_toll"], 6)
    assert np.all(np.diff(a.t) >= 0) and a.t.min() >= 0 and a.t.max() < w.horizon


def test_international_share_and_destinations():
    w = world_of(TRAFFIC)
    a = attempts(w)
    out = a.kind == CallKind.USER_OUT
    dest = np.array(a.countries)[a.country[out]]
    payer_country = np.array([w.users[p].country for p in a.payer[out]])
    intl = dest != payer_country
    n = out.sum()
    share = intl.mean()
    assert abs(share - 0.1) <= 4 * math.sqrt(0.1 * 0.9 / n)
    gb = (dest[intl] == "GB").mean()
    assert abs(gb - 0.5) <= 4 * math.sqrt(0.25 / intl.sum())
    assert set(dest[intl]) == {"GB", "IN"}


@pytest.mark.parametrize("dist", [
    {"distribution": "lognormal", "mean": 4.0, "sigma": 1.0},
    {"distribution": "exponential", "mean": 3.0},
    {"distribution": "fixed", "mean": 2.5},
])
def test_durations_match_the_configured_mean(dist):
    w = world_of(dict(TRAFFIC, call_minutes=dist))
    a = attempts(w)
    minutes = a.duration[a.kind == CallKind.USER_OUT] / 60
    mean = dist["mean"]
    if dist["distribution"] == "fixed":
        assert np.all(minutes == mean)
        return
    sd = mean * math.sqrt(math.exp(dist["sigma"] ** 2) - 1) if dist["distribution"] == "lognormal" else mean
    assert abs(minutes.mean() - mean) <= 4 * sd / math.sqrt(len(minutes)) + 1 / 60


def _local(w, a, mask):
    for t, p in zip(a.t[mask], a.payer[mask]):
        yield (START + timedelta(seconds=int(t))).astimezone(ZoneInfo(w.users[p].tz))


def test_calls_fall_inside_business_hours_in_each_users_time_zone_and_weekends_are_empty():
    w = world_of(dict(TRAFFIC, business_hours={"start": "09:00", "end": "17:30", "weekdays_only": True}))
    a = attempts(w)
    mask = np.isin(a.kind, [CallKind.USER_OUT, CallKind.USER_IN])
    local = list(_local(w, a, mask))
    assert len(local) > 1000
    assert all(d.weekday() < 5 for d in local)
    assert all((9, 0) <= (d.hour, d.minute) < (17, 30) for d in local)
    # Both time zones are used: US calls start 6 hours (UTC) after German ones.
    zones = {d.tzinfo.key for d in local}
    assert zones == {"America/New_York", "Europe/Berlin"}


def test_weekends_carry_calls_when_not_weekdays_only():
    w = world_of(dict(TRAFFIC, business_hours={"start": "08:00", "end": "18:00", "weekdays_only": False}))
    a = attempts(w)
    local = list(_local(w, a, a.kind == CallKind.USER_OUT))
    weekend = sum(d.weekday() >= 5 for d in local)
    assert within_poisson(weekend, 100 * 8 * 3.0)       # 8 weekend days in 28


def test_toll_free_calls_follow_the_daily_profile():
    w = world_of(TRAFFIC, days=56)
    a = attempts(w)
    tf = a.t[a.kind == CallKind.UCAP_IN]
    hours = [(START + timedelta(seconds=int(t))).astimezone(ZoneInfo("America/New_York")).hour for t in tf]
    by_hour = np.bincount(hours, minlength=24)
    assert by_hour[10] > 5 * by_hour[3]
    assert within_poisson(len(tf), 56 * 50)


def test_replications_differ_but_each_is_reproducible():
    w = world_of(TRAFFIC, days=7)
    a0, a0b, a1 = attempts(w, 0), attempts(w, 0), attempts(w, 1)
    assert np.array_equal(a0.t, a0b.t) and np.array_equal(a0.duration, a0b.duration)
    assert not np.array_equal(a0.t[:100], a1.t[:100])


def test_generated_users_are_reproducible_and_well_formed():
    import phonenumbers
    w1, w2 = world_of(TRAFFIC), world_of(TRAFFIC)
    assert [u.upn for u in w1.users] == [u.upn for u in w2.users]
    assert len({u.upn for u in w1.users}) == 100
    for u in w1.users:
        n = phonenumbers.parse(u.number)
        assert phonenumbers.region_code_for_number(n) == u.country
        assert u.upn.endswith("@contoso.com") and " " in u.display_name
