"""What a run includes after its horizon (R8, R9, R11): calls already connected
run to their end, but payments, retries, top-ups and expiries happen only inside
the horizon, and the exhausted-hours clock stops at the horizon."""
from tests.billing_cases import PAYG_CREDITS, call, run_case, user, write_case


def test_R8_retries_after_the_horizon_are_not_run_and_exhaustion_stops_at_the_horizon(tmp_path):
    """Horizon 2026-01-01 + 2 days = 2026-01-03T00:00Z. Outbound 0.1000/min, 20.00 bought at t=0,
    auto-recharge 20.00 below 10.00 on a card that always declines, retry every 60 min, 3 retries.

    One call at 01-02 19:40:00 of 12,600 s (210 min): increment k starts at 19:40 + k min.
    - k=100 (21:20:00): balance 10.00 -> 9.90 crosses the trigger: attempt 1 declines at 21:20.
    - retries at 22:20 and 23:20 decline (failures 2 and 3); the 4th attempt (00:20 on
      01-03) would be after the horizon: not run, it stays pending.
    - k=199 (22:59:00) spends the last 0.10: balance 0 -> balance_exhausted at 22:59:00.
    - k=200 (23:00:00) cannot be paid: cut, 12,600 - 200 x 60 = 600 s = 10 min lost.
    hours_exhausted = 22:59 -> 00:00 = 61 min = 1.0167 h; recharges_failed = 3.
    """
    path = write_case(
        tmp_path, days=2, users=[user("alice", "US", PAYG_CREDITS)],
        calls=[call("c1", "alice", "2026-01-02T19:40:00Z", 12_600, to="US")],
        policies=[{"name": "p", "initial_funds": "20.00",
                   "auto_recharge": {"trigger": "10.00", "amount": "20.00"},
                   "payment": {"method": "card", "decline_rate": 1.0, "retry_minutes": 60, "max_retries": 3}}])
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    p = res["p"]
    assert p.notes() == [("2026-01-02T21:20:00Z", "recharge_failed"), ("2026-01-02T22:20:00Z", "recharge_failed"),
                         ("2026-01-02T22:59:00Z", "balance_exhausted"), ("2026-01-02T23:20:00Z", "recharge_failed")]
    m = p.metrics
    assert m["recharges_failed"] == 3 and m["recharges_succeeded"] == 0
    assert str(m["hours_exhausted"]) == "1.0167"
    assert m["calls_cut"] == 1 and str(m["minutes_lost"]) == "10"
    assert str(m["credits_spent"]) == "20.0000" and str(m["final_balance"]) == "0.0000"
    assert p.cdr["c1"]["End Time"] == "2026-01-02T23:00:00Z"
