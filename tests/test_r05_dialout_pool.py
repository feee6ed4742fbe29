"""R5 Audio Conferencing dial-out pool: Zone A only, then credits; 80 % / 100 % notifications.

Expected values are worked by hand in each docstring (billing-rules.md R5, R6, R9).
"""
from decimal import Decimal

from models.geography import ZONE_A
from tests.billing_cases import CONF, CONF_CREDITS, call, run_case, user, write_case

RATES = {"outbound": {"DE": "0.0400", "FR": "0.0500", "US": "0.0200", "AE": "0.2000"}}
FUNDS = [{"name": "p", "initial_funds": "20.00"}]


def dialout(uid, who, start, seconds, to):
    return call(uid, who, start, seconds, call_type="conf_out", to=to, conference=f"meeting-{uid}")


def test_R5_zone_a_list_has_the_44_countries():
    """R5 names 44 Zone A countries and regions: MX is one of them, AE (UAE) is not."""
    assert len(ZONE_A) == 44
    assert {"US", "PR", "CA", "GB", "DE", "MX", "IN", "ZA", "TW"} <= ZONE_A
    assert not {"AE", "AR", "EG", "IL", "PH"} & ZONE_A


def test_R5_dialout_pool_with_80_and_100_percent_notifications(tmp_path):
    """R5: 1 conferencing user -> 60 dial-out minutes; Zone A dial-out draws them, then credits.

    olga (GB, AUDIO_CONFERENCING + credits), balance 20.00. Rates DE 0.0400, FR 0.0500, US 0.0200.
      m1 -> DE 10:00:00, 2880 s = 48 increments 10:00..10:47, all pool. The 48th (10:47)
         brings use to 48/60 = 80 %: dialout_pool_80 at 10:47:00.
      m2 -> FR 11:00:00, 780 s = 13 increments: 11:00..11:11 are pool minutes 49..60; the
         60th (11:11) -> dialout_pool_100 at 11:11:00; 11:12 from credits 0.0500.
         Charge 0.05, Capability MCOPSTNPP (any credits -> MCOPSTNPP).
      m3 -> US 12:00:00, 60 s: pool empty -> credits 0.0200. No further notification.
    m1 Capability MCOMEETADD, Charge 0.00. pools.csv 2026-01 Global MCOMEETADD dial-out 60/60/0.
    Notifications: exactly two, each once. Balance 20.0000 - 0.0700 = 19.9300.
    """
    path = write_case(tmp_path, users=[user("olga", "GB", CONF_CREDITS)],
                      calls=[dialout("m1", "olga", "2026-01-05T10:00:00Z", 2880, "DE"),
                             dialout("m2", "olga", "2026-01-05T11:00:00Z", 780, "FR"),
                             dialout("m3", "olga", "2026-01-05T12:00:00Z", 60, "US")],
                      policies=FUNDS, rates=RATES)
    p = run_case(path)["p"]
    assert [(n["time"], n["kind"], n["detail"]) for n in p.notifications] == [
        ("2026-01-05T10:47:00Z", "dialout_pool_80", "2026-01"),
        ("2026-01-05T11:11:00Z", "dialout_pool_100", "2026-01")]
    assert {k: (r["Charge"], r["Capability"], r["Call Type"]) for k, r in p.cdr.items()} == {
        "m1": ("0.00", "MCOMEETADD", "conf_out"), "m2": ("0.05", "MCOPSTNPP", "conf_out"),
        "m3": ("0.02", "MCOPSTNPP", "conf_out")}
    assert [(d["time"], d["amount"], d["usage_id"]) for d in p.debits()] == [
        ("2026-01-05T11:12:00Z", "0.0500", "m2"), ("2026-01-05T12:00:00Z", "0.0200", "m3")]
    assert [(r["Country or region"], r["Capability"], r["scope"], r["Total minutes"], r["Minutes used"],
             r["Minutes available"]) for r in p.pools] == [("Global", "MCOMEETADD", "dial-out", "60", "60", "0")]
    assert p.metrics["notifications"] == 2 and p.metrics["final_balance"] == Decimal("19.93")


def test_R5_dialout_outside_zone_a_is_paid_from_credits_and_leaves_the_pool_alone(tmp_path):
    """R5: dial-out to AE (not Zone A) is paid from credits at AE's outbound rate.

    olga, 60-minute pool untouched. m1 -> AE 121 s: 3 increments x 0.2000 = 0.6000,
    Charge 0.60, MCOPSTNPP; pools.csv used 0.
    """
    path = write_case(tmp_path, users=[user("olga", "GB", CONF_CREDITS)],
                      calls=[dialout("m1", "olga", "2026-01-05T10:00:00Z", 121, "AE")], policies=FUNDS, rates=RATES)
    p = run_case(path)["p"]
    assert (p.cdr["m1"]["Charge"], p.cdr["m1"]["Capability"], p.cdr["m1"]["Domestic/International"]) == (
        "0.60", "MCOPSTNPP", "International")
    assert p.pools[0]["Minutes used"] == "0"
    assert p.metrics["credits_spent"] == Decimal("0.6")


def test_R5_dialout_beyond_the_pool_needs_the_credits_licence(tmp_path):
    """R5/R6: dial-out beyond the pool, and all non Zone A dial-out, needs the credits licence.

    otto (GB, AUDIO_CONFERENCING only). Pool 60 minutes.
      m1 -> DE 10:00:00 for 3660 s: 60 pool increments 10:00..10:59; at 11:00 no pool minute
         and no credits licence -> cut at 11:00:00, reason pool_exhausted, 3600 s connected,
         minutes lost 1.00. Notifications 80 % at 10:47, 100 % at 10:59.
      m2 -> AE 12:00 for 60 s: no pool applies (not Zone A), no licence -> blocked
         no_credits_licence, minutes lost 1.00.
      m3 -> DE 13:00 for 60 s: Zone A but pool empty -> blocked pool_exhausted.
    """
    path = write_case(tmp_path, users=[user("otto", "GB", CONF)],
                      calls=[dialout("m1", "otto", "2026-01-05T10:00:00Z", 3660, "DE"),
                             dialout("m2", "otto", "2026-01-05T12:00:00Z", 60, "AE"),
                             dialout("m3", "otto", "2026-01-05T13:00:00Z", 60, "DE")],
                      policies=FUNDS, rates=RATES)
    p = run_case(path)["p"]
    assert [(d["time"], d["usage_id"], d["call_kind"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("2026-01-05T11:00:00Z", "m1", "conf_out", "pool_exhausted", "1.00"),
        ("2026-01-05T12:00:00Z", "m2", "conf_out", "no_credits_licence", "1.00"),
        ("2026-01-05T13:00:00Z", "m3", "conf_out", "pool_exhausted", "1.00")]
    assert (p.cdr["m1"]["Duration Seconds"], p.cdr["m1"]["End Time"], p.cdr["m1"]["Capability"]) == (
        "3600", "2026-01-05T11:00:00Z", "MCOMEETADD")
    assert p.notes() == [("2026-01-05T10:47:00Z", "dialout_pool_80"), ("2026-01-05T10:59:00Z", "dialout_pool_100")]
    assert p.debits() == []


def test_R5_notifications_once_each_per_month_rearmed_by_the_reset(tmp_path):
    """R5: 80 % / 100 % notify once per month; the 1st-of-month reset re-arms them.

    Start 2026-01-31T00:00Z, 2 days; olga's pool 60 minutes; rate DE 0.0400.
      m1 Jan 31 10:00, 3660 s: 80 % at 10:47, 100 % at 10:59, 11:00 from credits (0.0400).
      m2 Jan 31 20:00, 60 s: credits 0.0400, no notification (each fires once per month).
      m3 Feb 1 09:00, 2880 s: the pool is full again; the 48th minute (09:47) -> 80 % again.
    notifications: 3 in all, months 2026-01, 2026-01, 2026-02.
    pools.csv: 2026-01 60 used 60; 2026-02 60 used 48 available 12.
    """
    path = write_case(tmp_path, users=[user("olga", "GB", CONF_CREDITS)], start="2026-01-31T00:00:00Z", days=2,
                      calls=[dialout("m1", "olga", "2026-01-31T10:00:00Z", 3660, "DE"),
                             dialout("m2", "olga", "2026-01-31T20:00:00Z", 60, "DE"),
                             dialout("m3", "olga", "2026-02-01T09:00:00Z", 2880, "DE")],
                      policies=FUNDS, rates=RATES)
    p = run_case(path)["p"]
    assert [(n["time"], n["kind"], n["detail"]) for n in p.notifications] == [
        ("2026-01-31T10:47:00Z", "dialout_pool_80", "2026-01"),
        ("2026-01-31T10:59:00Z", "dialout_pool_100", "2026-01"),
        ("2026-02-01T09:47:00Z", "dialout_pool_80", "2026-02")]
    assert [(r["month"], r["Minutes used"], r["Minutes available"]) for r in p.pools] == [
        ("2026-01", "60", "0"), ("2026-02", "48", "12")]
    assert [d["amount"] for d in p.debits()] == ["0.0400", "0.0400"]
    assert p.cdr["m3"]["Capability"] == "MCOMEETADD"


def test_R5_pool_is_tenant_wide_across_organisers(tmp_path):
    """R5: one tenant pool = 60 x conferencing users, shared by every organiser.

    olga and otto (both conferencing, no credits) -> 120 minutes. olga dials out 100 min
    (09:00, 6000 s): 80 % of 120 = 96 minutes at 10:35 (the 96th increment). otto then dials
    out 30 min at 12:00: 20 pool minutes (the 120th at 12:19 -> 100 %), cut at 12:20
    pool_exhausted, minutes lost 10.00.
    """
    path = write_case(tmp_path, users=[user("olga", "GB", CONF), user("otto", "DE", CONF)],
                      calls=[dialout("m1", "olga", "2026-01-05T09:00:00Z", 6000, "DE"),
                             dialout("m2", "otto", "2026-01-05T12:00:00Z", 1800, "GB")],
                      policies=FUNDS, rates={"outbound": {"*": "0.0400"}})
    p = run_case(path)["p"]
    assert p.notes() == [("2026-01-05T10:35:00Z", "dialout_pool_80"), ("2026-01-05T12:19:00Z", "dialout_pool_100")]
    assert [(d["time"], d["usage_id"], d["payer"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("2026-01-05T12:20:00Z", "m2", "otto@contoso.com", "pool_exhausted", "10.00")]


def test_R5_100_percent_notice_when_an_odd_increment_leaves_a_remainder(tmp_path):
    """R5/R6 with billing_increment_seconds = 70: a 3600 s pool funds 51 whole increments
    (3570 s) and keeps 30 s that can never fund one: the pool is used up.

    olga (conferencing + credits), m1 -> DE at 10:00:00 for 3600 s = ceil(3600/70) = 52 increments.
      80 %: used >= 2880 s first after the 42nd increment (2940 s), which starts at
            +41 x 70 = 2870 s -> 10:47:50.
      100 %: after the 51st increment (starts +3500 s = 10:58:20) 30 s remain < 70: used up.
      the 52nd (+3570 s = 10:59:30) from credits: 70 s of 0.0400/min = 0.046666.. -> 0.0467
            (half-up to 4 places), Charge 0.05, MCOPSTNPP.
    pools.csv: used 59.50, available 0.50 minutes.
    Reading: '100 % used' = the pool can no longer fund an increment. Bug found: the 100 %
    notification never fired when the increment did not divide the pool.
    """
    path = write_case(tmp_path, users=[user("olga", "GB", CONF_CREDITS)],
                      calls=[dialout("m1", "olga", "2026-01-05T10:00:00Z", 3600, "DE")], policies=FUNDS, rates=RATES,
                      switches={"billing_increment_seconds": 70})
    p = run_case(path)["p"]
    assert p.notes() == [("2026-01-05T10:47:50Z", "dialout_pool_80"), ("2026-01-05T10:58:20Z", "dialout_pool_100")]
    assert [(d["time"], d["amount"]) for d in p.debits()] == [("2026-01-05T10:59:30Z", "0.0467")]
    assert (p.cdr["m1"]["Charge"], p.cdr["m1"]["Capability"]) == ("0.05", "MCOPSTNPP")
    assert (p.pools[0]["Minutes used"], p.pools[0]["Minutes available"]) == ("59.50", "0.50")


def test_R5_quiet_after_by_hand():
    """A 60-minute pool (3600 s) with R5's alerts, 60 s increments: 2820 s more stays under
    80 % (78.3 %), 2880 s reaches it. Once 80 % is sent, drawing up to 3540 s leaves a whole
    increment (98.3 %, quiet); 3541 s would leave 59 s, less than an increment: the pool is used
    up (100 %). A pool without alerts is always quiet; a 70 s increment cannot leave 60 s."""
    from models.pools import Pool

    pool = Pool("Global", "MCOMEETADD", "dial-out", 3600, alerts=(80, 100))
    assert pool.quiet_after(2820, 60) and not pool.quiet_after(2880, 60)
    pool.alerted.add(80)
    assert pool.quiet_after(3540, 60) and not pool.quiet_after(3541, 60)
    assert not pool.quiet_after(3540, 70)
    assert Pool("US", "MCOPSTN1", "domestic", 3600).quiet_after(3600, 60)


def test_R5_dialouts_reserved_ahead_alert_at_the_same_instants():
    """The planned path's pre-pass finds the increments that cross 80 % and 100 % (R5) in key
    order; the loop's path (where no pre-pass applies) pays dial-outs well under 80 % ahead
    (counted), not those that would cross an alert, and another call's draw that would alert
    gives the reservations back first. Both: notifications, journal and outcomes equal one event
    per increment (tests/test_prepass.py)."""
    from unittest import mock

    from models.policy import PREPAID, Payment, Policy
    from sim.engine.ahead import PoolReservations
    from tests.test_prepass import CONF_OUT, US, agree, attempts, payer, world

    seen = {"alert pool": 0}
    reserve = PoolReservations.reserve

    def counting(self, call, pool, t):
        ok = reserve(self, call, pool, t)
        seen["alert pool"] += ok and bool(pool.alerts)
        return ok

    w = world([payer(CONF_CREDITS, "GB")], days=40)
    # 60 dial-out minutes: three 15-minute calls overlap the fourth, which crosses 80 % then 100 %
    rows = [(3600 * h, CONF_OUT, 0, US, 900) for h in (9, 10, 11)] + [(3600 * 11 + 300, CONF_OUT, 0, US, 1800)]
    policy, a = Policy("p", PREPAID, 20_000, None, Payment()), attempts(rows)
    agree(w, policy, a)
    assert seen["alert pool"] == 0               # the pre-pass decided the dial-outs: nothing reserved
    with mock.patch.object(PoolReservations, "reserve", counting), \
            mock.patch("sim.engine.prepass.prepass_for", lambda *args: None):
        exact = agree(w, policy, a)
    assert [n[1] for n in exact.account.notifications] == ["dialout_pool_80", "dialout_pool_100"]
    assert seen["alert pool"] > 0, seen
