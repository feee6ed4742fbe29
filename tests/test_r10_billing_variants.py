"""R10 Billing account variants (prepaid / postpay) and the R6 mid_call_cutoff=false overdraft.

Worked by hand in each docstring (billing-rules.md R6, R7, R9, R10).
"""
from decimal import Decimal

from tests.billing_cases import PAYG_CREDITS, PLAN, TOLL_FREE, call, run_case, toll_free_in, user, write_case

RATE_10 = {"outbound": {"*": "0.1000"}, "toll_free_inbound": {"*": "0.0500"}}


def test_R10_postpay_is_never_blocked_for_funds_and_invoices_at_the_same_rate(tmp_path):
    """R10: postpay has no credit balance; every increment credits would have paid is
    invoiced at the same rate and never blocked for funds. Prepaid with no funds, same calls,
    for contrast.

    paul (PAYG + credits), alice (plan, no credits). Rates outbound 0.1000, toll-free 0.0500.
      c1 paul -> US 150 s at 10:00: postpay debits 0.1000 x 3 as overdraft (no lot):
         balances -0.1000, -0.2000, -0.3000; Charge 0.30, MCOPSTNPP.
      t1 toll-free inbound from US, 60 s at 11:00: 0.0500 -> -0.3500.
      c2 alice -> GB at 12:00: still needs the credits licence: blocked no_credits_licence.
    postpay metrics: purchased 0, spent 0.35, overdraft 0.35, final -0.35, notifications 0
    (no balance to exhaust), blocked 1.
    prepaid 'pre' (no funds): c1 and t1 blocked insufficient_funds, c2 no_credits_licence.
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS), user("alice", "US", PLAN)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 150, to="US"),
                             toll_free_in("t1", "2026-01-05T11:00:00Z", 60, "US"),
                             call("c2", "alice", "2026-01-05T12:00:00Z", 60, to="GB")],
                      policies=[{"name": "post", "billing": "postpay"}, {"name": "pre"}], rates=RATE_10, toll_free=True)
    res = run_case(path)
    post = res["post"]
    assert post.ledger_tuples() == [
        ("2026-01-05T10:00:00Z", "debit", "0.1000", "-0.1000", "", "c1", "overdraft"),
        ("2026-01-05T10:01:00Z", "debit", "0.1000", "-0.2000", "", "c1", "overdraft"),
        ("2026-01-05T10:02:00Z", "debit", "0.1000", "-0.3000", "", "c1", "overdraft"),
        ("2026-01-05T11:00:00Z", "debit", "0.0500", "-0.3500", "", "t1", "overdraft"),
    ]
    assert (post.cdr["c1"]["Charge"], post.cdr["c1"]["Capability"], post.cdr["t1"]["Charge"]) == ("0.30", "MCOPSTNPP", "0.05")
    assert [(d["usage_id"], d["reason"]) for d in post.disruptions] == [("c2", "no_credits_licence")]
    m = post.metrics
    assert (m["credits_purchased"], m["credits_spent"], m["overdraft"], m["final_balance"], m["notifications"]) == (
        0, Decimal("0.35"), Decimal("0.35"), Decimal("-0.35"), 0)
    pre = res["pre"]
    assert [(d["usage_id"], d["reason"]) for d in pre.disruptions] == [
        ("c1", "insufficient_funds"), ("t1", "insufficient_funds"), ("c2", "no_credits_licence")]
    assert pre.ledger == [] and pre.metrics["calls_blocked"] == 3


def test_R10_postpay_spends_prepaid_initial_funds_first(tmp_path):
    """R10: a prepaid balance given as initial_funds is spent first, then invoiced.

    minimum_purchase 0.01, initial 0.15, rate 0.1000; c1 paul -> US 180 s at 10:00:
      10:00 debit 0.1000 lot 1                    0.0500
      10:01 debit 0.0500 lot 1 + 0.0500 overdraft 0.0000, -0.0500 (two rows)
      10:02 debit 0.1000 overdraft               -0.1500
    purchased 0.15 = spent 0.30 + expired 0 + balance -0.15; overdraft 0.15; Charge 0.30.
    No balance_exhausted under postpay and the call is never cut.
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 180, to="US")],
                      policies=[{"name": "post", "billing": "postpay", "initial_funds": "0.15"}], rates=RATE_10,
                      switches={"minimum_purchase": "0.01"})
    p = run_case(path)["post"]
    assert p.ledger_tuples("time", "kind", "amount", "balance_after", "lot_id", "note") == [
        ("2026-01-01T00:00:00Z", "purchase", "0.1500", "0.1500", "1", "initial funds"),
        ("2026-01-05T10:00:00Z", "debit", "0.1000", "0.0500", "1", ""),
        ("2026-01-05T10:01:00Z", "debit", "0.0500", "0.0000", "1", ""),
        ("2026-01-05T10:01:00Z", "debit", "0.0500", "-0.0500", "", "overdraft"),
        ("2026-01-05T10:02:00Z", "debit", "0.1000", "-0.1500", "", "overdraft"),
    ]
    m = p.metrics
    assert (m["credits_purchased"], m["credits_spent"], m["overdraft"], m["final_balance"]) == (
        Decimal("0.15"), Decimal("0.3"), Decimal("0.15"), Decimal("-0.15"))
    assert m["credits_purchased"] == m["credits_spent"] + m["credits_expired"] + m["final_balance"]
    assert p.notifications == [] and p.disruptions == [] and p.cdr["c1"]["Charge"] == "0.30"


def test_R6_mid_call_cutoff_false_a_connected_call_completes_into_overdraft(tmp_path):
    """R6 switch mid_call_cutoff=false (prepaid): a connected call always completes, the
    balance may go below zero (overdraft); a new call still needs its first increment funded;
    the next purchase first repays the overdraft.

    minimum_purchase 0.01, initial 0.20, rate 0.1000. paul (PAYG + credits).
      Jan 5 10:00 c1 300 s: 10:00 -> 0.1000; 10:01 -> 0.0000 (balance_exhausted);
                  10:02, 10:03, 10:04 overdraft -> -0.1000, -0.2000, -0.3000. Completes:
                  Duration 300, Charge 0.50.
      Jan 5 11:00 c2 60 s: first increment cannot be funded -> blocked insufficient_funds.
      Jan 6 00:00 top-up 20.00 (lot 2): repays 0.30 -> balance 19.7000.
      Jan 7 10:00 c3 60 s: 0.1000 from lot 2 -> 19.6000.
    Metrics: purchased 20.20 = spent 0.60 + expired 0 + final 19.60; overdraft 0.30;
    cut 0, blocked 1; hours_exhausted Jan 5 10:01 -> Jan 6 00:00 = 13.9833.
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 300, to="US"),
                             call("c2", "paul", "2026-01-05T11:00:00Z", 60, to="US"),
                             call("c3", "paul", "2026-01-07T10:00:00Z", 60, to="US")],
                      policies=[{"name": "p", "initial_funds": "0.20",
                                 "top_ups": [{"at": "2026-01-06T00:00:00Z", "amount": "20.00"}]}],
                      rates=RATE_10, switches={"minimum_purchase": "0.01", "mid_call_cutoff": False})
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "kind", "amount", "balance_after", "lot_id", "usage_id", "note")[1:] == [
        ("2026-01-05T10:00:00Z", "debit", "0.1000", "0.1000", "1", "c1", ""),
        ("2026-01-05T10:01:00Z", "debit", "0.1000", "0.0000", "1", "c1", ""),
        ("2026-01-05T10:02:00Z", "debit", "0.1000", "-0.1000", "", "c1", "overdraft"),
        ("2026-01-05T10:03:00Z", "debit", "0.1000", "-0.2000", "", "c1", "overdraft"),
        ("2026-01-05T10:04:00Z", "debit", "0.1000", "-0.3000", "", "c1", "overdraft"),
        ("2026-01-06T00:00:00Z", "purchase", "20.0000", "19.7000", "2", "", "top-up"),
        ("2026-01-07T10:00:00Z", "debit", "0.1000", "19.6000", "2", "c3", ""),
    ]
    assert (p.cdr["c1"]["Duration Seconds"], p.cdr["c1"]["Charge"]) == ("300", "0.50")
    assert [(d["usage_id"], d["reason"]) for d in p.disruptions] == [("c2", "insufficient_funds")]
    assert p.notes() == [("2026-01-05T10:01:00Z", "balance_exhausted")]
    m = p.metrics
    assert (m["credits_purchased"], m["credits_spent"], m["final_balance"], m["overdraft"]) == (
        Decimal("20.2"), Decimal("0.6"), Decimal("19.6"), Decimal("0.3"))
    assert (m["calls_cut"], m["calls_blocked"], m["hours_exhausted"]) == (0, 1, Decimal("13.9833"))


def test_R6_mid_call_cutoff_false_also_completes_a_call_whose_pool_runs_out(tmp_path):
    """R6 mid_call_cutoff=false, literal reading: 'a connected call always completes'. alice
    (plan, *no* credits licence), US pool 1 minute, initial 20.00, rate 0.1000.
    c1 -> US 150 s: 10:00 pool; 10:01 and 10:02 no pool minute and no licence, but the call
    is connected, so both are charged to the balance (0.1000 each): Charge 0.20, MCOPSTNPP.
    With cutoff on (policy run 'on' in a second scenario) it is cut at 10:01 pool_exhausted.
    """
    common = dict(users=[user("alice", "US", PLAN)], rates=RATE_10,
                  calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 150, to="US")],
                  policies=[{"name": "p", "initial_funds": "20.00"}])
    allow = {"DOMESTIC_CALLING_PLAN": {"US": 1}}
    off = run_case(write_case(tmp_path / "off", **common, switches={"mid_call_cutoff": False, "allowances": allow}))["p"]
    assert [(d["time"][11:16], d["amount"], d["balance_after"]) for d in off.debits()] == [
        ("10:01", "0.1000", "19.9000"), ("10:02", "0.1000", "19.8000")]
    assert (off.cdr["c1"]["Duration Seconds"], off.cdr["c1"]["Charge"], off.cdr["c1"]["Capability"]) == (
        "150", "0.20", "MCOPSTNPP")
    on = run_case(write_case(tmp_path / "on", **common, switches={"allowances": allow}))["p"]
    assert [(d["time"][11:16], d["reason"], d["minutes_lost"]) for d in on.disruptions] == [
        ("10:01", "pool_exhausted", "1.50")]
    assert on.debits() == []
