"""R6 Funding each billing increment: block, cut, races, connection fee, increment length,
dial-out policy, and no debit after a call ends.

All figures are worked by hand in the docstrings (billing-rules.md R6, R9, R11, R12).
"""
from decimal import Decimal

import pytest

from tests.billing_cases import DI_PLAN_CREDITS, PAYG_CREDITS, PLAN, PLAN_CREDITS, call, run_case, user, write_case

SMALL = {"minimum_purchase": "0.01"}          # lets a case start with a few cents
RATE_10 = {"outbound": {"*": "0.1000"}}


def funds(amount):
    return [{"name": "p", "initial_funds": amount}]


def test_R6_first_increment_unfunded_blocks_the_call(tmp_path):
    """R6: if no source can fund the first increment the call is blocked (never connects).

    paul (PAYG + credits), balance 0.0500, rate 0.1000: c1 at 10:00 for 90 s is blocked
    insufficient_funds; no CDR row, no debit, minutes lost 1.50; R9 balance_exhausted at
    10:00 (first failure to fund an increment). hours_exhausted runs from 2026-01-05T10:00
    to the horizon 2026-02-01T00:00 = 26 d 14 h = 638 h.
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 90, to="US")],
                      policies=funds("0.05"), rates=RATE_10, switches=SMALL)
    p = run_case(path)["p"]
    assert p.cdr == {} and p.debits() == []
    assert [(d["time"], d["usage_id"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("2026-01-05T10:00:00Z", "c1", "insufficient_funds", "1.50")]
    assert p.notes() == [("2026-01-05T10:00:00Z", "balance_exhausted")]
    m = p.metrics
    assert (m["calls_attempted"], m["calls_connected"], m["calls_blocked"], m["calls_cut"]) == (1, 0, 1, 0)
    assert m["final_balance"] == Decimal("0.05") and m["hours_exhausted"] == 638


def test_R6_call_cut_mid_minute_at_an_increment_start(tmp_path):
    """R6/R11: a later increment that cannot be funded cuts the call at that increment's start.

    paul, balance 0.30, rate 0.1000. c1 at 10:00:00 for 250 s (5 increments wanted):
      10:00 debit 0.1000 -> 0.2000; 10:01 -> 0.1000; 10:02 -> 0.0000 (balance_exhausted at
      10:02, balance reached 0); 10:03 cannot be funded -> cut at 10:03:00.
    Connected 180 s (End Time 10:03:00), Charge 0.30. minutes lost = (250 - 180) / 60
    = 1.1666.. -> disruptions.csv "1.17", summary minutes_lost 1.1667 (4 places).
    No second balance_exhausted for the failure at 10:03 (same episode).
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 250, to="US")],
                      policies=funds("0.30"), rates=RATE_10, switches=SMALL)
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "kind", "amount", "balance_after")[1:] == [
        ("2026-01-05T10:00:00Z", "debit", "0.1000", "0.2000"),
        ("2026-01-05T10:01:00Z", "debit", "0.1000", "0.1000"),
        ("2026-01-05T10:02:00Z", "debit", "0.1000", "0.0000")]
    c1 = p.cdr["c1"]
    assert (c1["Duration Seconds"], c1["End Time"], c1["Charge"]) == ("180", "2026-01-05T10:03:00Z", "0.30")
    assert [(d["time"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("2026-01-05T10:03:00Z", "insufficient_funds", "1.17")]
    assert p.notes() == [("2026-01-05T10:02:00Z", "balance_exhausted")]
    assert p.metrics["calls_cut"] == 1 and p.metrics["minutes_lost"] == Decimal("1.1667")


@pytest.mark.parametrize("rows_in_file", ["early_first", "late_first"])
def test_R6_concurrent_calls_race_for_the_last_pool_minute(tmp_path, rows_in_file):
    """R6: concurrent calls share the pool; at the same instant the earlier call wins.

    alice and bob (plan + credits); allowances 1 minute per user -> US pool 2 minutes.
    Rate US 0.0200.
      a (alice) starts 09:59:00 for 120 s: 09:59 takes pool minute 1.
      b (bob) starts 10:00:00 for 60 s.
    At 10:00:00 a's 2nd increment and b's 1st both want the last pool minute: a is the
    earlier call, so a gets it (a: Charge 0.00, MCOPSTN1) and b pays credits 0.0200
    (Charge 0.02, MCOPSTNPP). The report's row order does not matter (b's row may come
    first): attempts are ordered by Start Time.
    """
    a = call("a", "alice", "2026-01-05T09:59:00Z", 120, to="US")
    b = call("b", "bob", "2026-01-05T10:00:00Z", 60, to="US")
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS), user("bob", "US", PLAN_CREDITS)],
                      calls=[a, b] if rows_in_file == "early_first" else [b, a], policies=funds("20.00"),
                      rates={"outbound": {"US": "0.0200"}},
                      switches={"allowances": {"DOMESTIC_CALLING_PLAN": {"US": 1}}})
    p = run_case(path)["p"]
    assert p.pools[0]["Total minutes"] == "2"
    assert {k: (r["Charge"], r["Capability"]) for k, r in p.cdr.items()} == {
        "a": ("0.00", "MCOPSTN1"), "b": ("0.02", "MCOPSTNPP")}
    assert [(d["time"], d["usage_id"]) for d in p.debits()] == [("2026-01-05T10:00:00Z", "b")]


@pytest.mark.parametrize("first", ["x", "y"])
def test_R6_concurrent_calls_race_for_the_last_cents(tmp_path, first):
    """R6: two calls starting at the same instant draw on one balance; ties go to the earlier
    call (the earlier report row); the balance never goes below zero with cutoff on.

    Balance 0.30, rate 0.1000; x (paul) and y (pia), both at 10:00:00 for 300 s.
    Let F be the first row, S the second.
      10:00:00 F 0.1000 -> 0.2000, S 0.1000 -> 0.1000
      10:01:00 F 0.1000 -> 0.0000 (balance_exhausted); S cannot be funded -> cut at 10:01,
               60 s connected, minutes lost 4.00
      10:02:00 F cannot be funded -> cut at 10:02, 120 s connected, minutes lost 3.00
    Spent 0.30 = purchased; final balance 0.0000; overdraft 0.
    """
    second = "y" if first == "x" else "x"
    rows = {"x": call("x", "paul", "2026-01-05T10:00:00Z", 300, to="US"),
            "y": call("y", "pia", "2026-01-05T10:00:00Z", 300, to="US")}
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS), user("pia", "US", PAYG_CREDITS)],
                      calls=[rows[first], rows[second]], policies=funds("0.30"), rates=RATE_10, switches=SMALL)
    p = run_case(path)["p"]
    assert [(d["time"][11:16], d["usage_id"], d["balance_after"]) for d in p.debits()] == [
        ("10:00", first, "0.2000"), ("10:00", second, "0.1000"), ("10:01", first, "0.0000")]
    assert [(d["time"][11:16], d["usage_id"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("10:01", second, "insufficient_funds", "4.00"), ("10:02", first, "insufficient_funds", "3.00")]
    assert (p.cdr[first]["Duration Seconds"], p.cdr[second]["Duration Seconds"]) == ("120", "60")
    m = p.metrics
    assert (m["credits_spent"], m["final_balance"], m["overdraft"], m["calls_cut"], m["users_affected"]) == (
        Decimal("0.3"), 0, 0, 2, 2)


def test_R6_connection_fee_charged_once_with_the_first_credit_funded_increment(tmp_path):
    """R6/R12: the connection fee goes with the first credit-funded increment, once per call.

    dan (US, DOMESTIC_INTERNATIONAL + credits), international pool 1 minute. Rate IN
    0.0900/min + connection fee 0.0500. Balance 20.00.
      c1 -> IN 10:00:00, 150 s: 10:00 intl pool (no fee: the pool paid); 10:01 credits
         0.0900 + 0.0500 = 0.1400 in one debit; 10:02 credits 0.0900.
         CDR Charge 0.18 (minutes only), Connection Fee 0.05, MCOPSTNPP.
      c2 -> IN 11:00:00, 60 s: pool empty; 0.1400 (a new call, its own fee).
         CDR Charge 0.09, Connection Fee 0.05.
    Balance 20.0000 - 0.1400 - 0.0900 - 0.1400 = 19.6300; credits_spent 0.3700.
    """
    path = write_case(tmp_path, users=[user("dan", "US", DI_PLAN_CREDITS)],
                      calls=[call("c1", "dan", "2026-01-05T10:00:00Z", 150, to="IN"),
                             call("c2", "dan", "2026-01-05T11:00:00Z", 60, to="IN")],
                      policies=funds("20.00"),
                      rates={"outbound": {"IN": {"per_minute": "0.0900", "connection_fee": "0.0500"}}},
                      switches={"allowances": {"DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"US": {"international": 1}}}})
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "amount", "balance_after", "usage_id")[1:] == [
        ("2026-01-05T10:01:00Z", "0.1400", "19.8600", "c1"),
        ("2026-01-05T10:02:00Z", "0.0900", "19.7700", "c1"),
        ("2026-01-05T11:00:00Z", "0.1400", "19.6300", "c2")]
    assert (p.cdr["c1"]["Charge"], p.cdr["c1"]["Connection Fee"], p.cdr["c1"]["Capability"]) == ("0.18", "0.05", "MCOPSTNPP")
    assert (p.cdr["c2"]["Charge"], p.cdr["c2"]["Connection Fee"]) == ("0.09", "0.05")
    assert p.metrics["credits_spent"] == Decimal("0.37")


def test_R6_connection_fee_must_be_covered_together_with_the_increment(tmp_path):
    """R6: balance 0.1000 covers the 0.0900 minute but not 0.0900 + 0.0500 fee -> blocked
    insufficient_funds; nothing debited."""
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 60, to="IN")], policies=funds("0.10"),
                      rates={"outbound": {"IN": {"per_minute": "0.0900", "connection_fee": "0.0500"}}}, switches=SMALL)
    p = run_case(path)["p"]
    assert p.debits() == [] and [d["reason"] for d in p.disruptions] == ["insufficient_funds"]


def test_R6_billing_increment_of_6_seconds(tmp_path):
    """R6 switch billing_increment_seconds = 6.

    One 6 s increment of 0.0185/min is 0.00185, which 4 places cannot hold: it is rounded
    half-up to 0.0019 per increment (models/money.increment_price, a documented choice).
      c1 paul (PAYG) -> US 61 s: ceil(61/6) = 11 increments x 0.0019 = 0.0209 (ledger rows at
         +0, +6, ..., +60 s), CDR Charge 0.02, Duration 61.
      c2 alice (plan, US pool 1 minute = 60 s = 10 increments) -> US 61 s: 10 pool
         increments, the 11th (at +60 s) from credits 0.0019 -> Capability MCOPSTNPP.
         pools.csv: used 1 (minute).
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS), user("alice", "US", PLAN_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 61, to="US"),
                             call("c2", "alice", "2026-01-05T11:00:00Z", 61, to="US")],
                      policies=funds("20.00"), rates={"outbound": {"US": "0.0185"}},
                      switches={"billing_increment_seconds": 6, "allowances": {"DOMESTIC_CALLING_PLAN": {"US": 1}}})
    p = run_case(path)["p"]
    c1 = p.debits("c1")
    assert [d["time"][14:19] for d in c1] == [f"00:{s:02d}" for s in range(0, 60, 6)] + ["01:00"]
    assert {d["amount"] for d in c1} == {"0.0019"}
    assert (p.cdr["c1"]["Charge"], p.cdr["c1"]["Duration Seconds"]) == ("0.02", "61")
    assert [(d["time"], d["amount"]) for d in p.debits("c2")] == [("2026-01-05T11:01:00Z", "0.0019")]
    assert (p.cdr["c2"]["Capability"], p.cdr["c2"]["Charge"]) == ("MCOPSTNPP", "0.00")
    assert p.pools[0]["Minutes used"] == "1"
    assert p.metrics["credits_spent"] == Decimal("0.0228")


def test_R6_billing_increment_of_30_seconds_with_a_cut(tmp_path):
    """R6 billing_increment_seconds = 30: rate 0.0200/min -> 0.0100 per increment.

    c1 paul -> US at 10:00:00 for 61 s = ceil(61/30) = 3 increments.
      policy p (balance 20.00): debits at 10:00:00, 10:00:30, 10:01:00 = 0.0300, Charge 0.03.
      policy q (balance 0.02): 10:00:00 and 10:00:30 funded (balance 0), 10:01:00 fails:
        cut at 10:01:00, 60 s connected, Charge 0.02, minutes lost (61 - 60) / 60 -> "0.02".
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 61, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.00"}, {"name": "q", "initial_funds": "0.02"}],
                      rates={"outbound": {"US": "0.0200"}}, switches={"billing_increment_seconds": 30, **SMALL})
    res = run_case(path)
    assert [(d["time"][11:19], d["amount"]) for d in res["p"].debits()] == [
        ("10:00:00", "0.0100"), ("10:00:30", "0.0100"), ("10:01:00", "0.0100")]
    assert res["p"].cdr["c1"]["Charge"] == "0.03"
    q = res["q"]
    assert [(d["time"][11:19], d["balance_after"]) for d in q.debits()] == [("10:00:00", "0.0100"), ("10:00:30", "0.0000")]
    assert [(d["time"][11:19], d["minutes_lost"]) for d in q.disruptions] == [("10:01:00", "0.02")]
    assert (q.cdr["c1"]["Duration Seconds"], q.cdr["c1"]["Charge"]) == ("60", "0.02")


def test_R6_dialout_policy_blocks_before_any_source(tmp_path):
    """R6: a dial-out policy that forbids the call blocks it before any pool or credits.

      dom (policy domestic) -> US: allowed, pool pays.  dom -> GB: blocked dialout_policy.
      non (policy none) -> US: blocked dialout_policy although the pool has minutes.
      non receives an inbound call: allowed, free (policy is about dialling out).
    """
    path = write_case(tmp_path, users=[user("dom", "US", PLAN_CREDITS, "domestic"), user("non", "US", PLAN_CREDITS, "none")],
                      calls=[call("c1", "dom", "2026-01-05T10:00:00Z", 60, to="US"),
                             call("c2", "dom", "2026-01-05T10:10:00Z", 60, to="GB"),
                             call("c3", "non", "2026-01-05T10:20:00Z", 60, to="US"),
                             call("c4", "non", "2026-01-05T10:30:00Z", 60, call_type="user_in", caller="+12065550123",
                                  dest="+12065550100", number_type="user")],
                      policies=funds("20.00"), rates={"outbound": {"*": "0.0200"}})
    p = run_case(path)["p"]
    assert [(d["usage_id"], d["reason"]) for d in p.disruptions] == [("c2", "dialout_policy"), ("c3", "dialout_policy")]
    assert set(p.cdr) == {"c1", "c4"} and p.debits() == []
    assert p.metrics["pool_minutes_used"] == 1


@pytest.mark.parametrize("seconds, increments", [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (119, 2), (120, 2),
                                                 (121, 3), (3599, 60), (3601, 61)])
def test_R6_billed_increments_are_ceil_of_connected_seconds(tmp_path, seconds, increments):
    """R6 'every started minute is billed' and 'no funds are drawn after a call has ended':
    a call of s seconds has exactly ceil(s / 60) debits of 0.1000 (a 0 s call none), the
    last one at start + 60 * (ceil(s/60) - 1), and no debit at or after its end."""
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", seconds, to="US")],
                      policies=funds("20.00"), rates=RATE_10)
    p = run_case(path)["p"]
    debits = p.debits("c1")
    assert len(debits) == increments and {d["amount"] for d in debits} <= {"0.1000"}
    from datetime import datetime, timedelta
    start = datetime(2026, 1, 5, 10)
    assert [d["time"] for d in debits] == [(start + timedelta(minutes=k)).strftime("%Y-%m-%dT%H:%M:%SZ")
                                           for k in range(increments)]
    row = p.cdr["c1"]
    assert row["Duration Seconds"] == str(seconds)
    assert Decimal(row["Charge"]) == Decimal(increments) / 10
