"""R9 Notifications: every kind journalled with instant and kind; balance_exhausted once per
episode, re-armed by the next purchase; hours exhausted (R11).

Worked by hand in each docstring (billing-rules.md R5, R8, R9, R11).
"""
from decimal import Decimal

from tests.billing_cases import CONF_CREDITS, PAYG_CREDITS, call, run_case, user, write_case


def test_R9_balance_exhausted_once_per_episode_rearmed_by_the_next_purchase(tmp_path):
    """R9/R11: balance_exhausted when the balance reaches 0 (or first fails to fund), once per
    episode; the next purchase re-arms it; hours_exhausted = notification -> next purchase.

    minimum_purchase 0.01; initial 0.20; rates US 0.1000, AE 10.0000; horizon to 2026-02-01.
      Jan 5 10:00 c1 US 180 s: 10:00 -> 0.1000; 10:01 -> 0.0000: balance_exhausted (10:01);
                  10:02 cut insufficient_funds (no second notification).
      Jan 5 12:00 c2 US 60 s: blocked insufficient_funds (same episode: no notification).
      Jan 6 00:00 top-up 20.00: episode 1 ends: 13 h 59 min.
      Jan 7 10:00 c3 AE 180 s: 10:00 -> 10.0000; 10:01 -> 0.0000: balance_exhausted (10:01);
                  10:02 cut.
      Episode 2 runs to the horizon: Jan 7 10:01 -> Feb 1 00:00 = 24 d 13 h 59 min.
    hours_exhausted = (839 + 35399) min / 60 = 603.9666.. -> 603.9667. notifications 2.
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 180, to="US"),
                             call("c2", "paul", "2026-01-05T12:00:00Z", 60, to="US"),
                             call("c3", "paul", "2026-01-07T10:00:00Z", 180, to="AE")],
                      policies=[{"name": "p", "initial_funds": "0.20",
                                 "top_ups": [{"at": "2026-01-06T00:00:00Z", "amount": "20.00"}]}],
                      rates={"outbound": {"US": "0.1000", "AE": "10.0000"}}, switches={"minimum_purchase": "0.01"})
    p = run_case(path)["p"]
    assert [(n["time"], n["kind"], n["detail"]) for n in p.notifications] == [
        ("2026-01-05T10:01:00Z", "balance_exhausted", "balance 0.0000"),
        ("2026-01-07T10:01:00Z", "balance_exhausted", "balance 0.0000")]
    assert [(d["time"], d["usage_id"], d["reason"]) for d in p.disruptions] == [
        ("2026-01-05T10:02:00Z", "c1", "insufficient_funds"), ("2026-01-05T12:00:00Z", "c2", "insufficient_funds"),
        ("2026-01-07T10:02:00Z", "c3", "insufficient_funds")]
    m = p.metrics
    assert m["notifications"] == 2 and m["hours_exhausted"] == Decimal("603.9667")
    assert (m["calls_blocked"], m["calls_cut"], m["users_affected"]) == (1, 2, 1)


def test_R9_all_five_kinds_with_instant_and_kind(tmp_path):
    """R9: recharge_succeeded, recharge_failed, balance_exhausted, dialout_pool_80,
    dialout_pool_100 each journalled with its instant; the notifications metric counts them.

    olga (GB, conferencing + credits): dial-out pool 60 min. initial 20.00, trigger 10.00,
    amount 20.00, card good through 2026-01-05, max_retries 0. Rates DE 0.0400, AE 5.0000.
      Jan 5 10:00 m1 -> DE 3600 s: pool; 80 % at 10:47, 100 % at 10:59.
      Jan 5 12:00 m2 -> AE 180 s: 12:00 -> 15.00; 12:01 -> 10.00 (= trigger: no);
                  12:02 -> 5.00 (crossing): recharge succeeds -> 25.00 (recharge_succeeded 12:02).
      Jan 6 12:00 m3 -> AE 600 s: 12:00 20.00, 12:01 15.00, 12:02 10.00, 12:03 5.00 (crossing):
                  card expired -> recharge_failed 12:03, no retry (max_retries 0);
                  12:04 -> 0.00: balance_exhausted 12:04; 12:05 cut.
    """
    path = write_case(tmp_path, users=[user("olga", "GB", CONF_CREDITS)],
                      calls=[call("m1", "olga", "2026-01-05T10:00:00Z", 3600, call_type="conf_out", to="DE", conference="a"),
                             call("m2", "olga", "2026-01-05T12:00:00Z", 180, call_type="conf_out", to="AE", conference="b"),
                             call("m3", "olga", "2026-01-06T12:00:00Z", 600, call_type="conf_out", to="AE", conference="c")],
                      policies=[{"name": "p", "initial_funds": "20.00",
                                 "auto_recharge": {"trigger": "10.00", "amount": "20.00"},
                                 "payment": {"card_expires": "2026-01-05", "max_retries": 0}}],
                      rates={"outbound": {"DE": "0.0400", "AE": "5.0000"}})
    p = run_case(path)["p"]
    assert p.notes() == [("2026-01-05T10:47:00Z", "dialout_pool_80"), ("2026-01-05T10:59:00Z", "dialout_pool_100"),
                         ("2026-01-05T12:02:00Z", "recharge_succeeded"), ("2026-01-06T12:03:00Z", "recharge_failed"),
                         ("2026-01-06T12:04:00Z", "balance_exhausted")]
    assert [(d["time"], d["usage_id"], d["minutes_lost"]) for d in p.disruptions] == [
        ("2026-01-06T12:05:00Z", "m3", "5.00")]
    m = p.metrics
    assert (m["notifications"], m["recharges_succeeded"], m["recharges_failed"], m["final_balance"]) == (5, 1, 1, 0)
