"""R4 Calling Plan minute pools: sizes, pool-then-credits straddling, dni_cap, monthly reset.

Each expected figure is worked by hand in the docstring (billing-rules.md R4, R6, R12).
"""
from decimal import Decimal

import pytest

from tests.billing_cases import DI_PLAN_CREDITS, PLAN, PLAN_CREDITS, call, run_case, user, write_case

FUNDS = [{"name": "p", "initial_funds": "20.00"}]
RATES = {"outbound": {"US": "0.0200", "GB": "0.0350", "*": "0.0500"}}


def _pools(p):
    return [(r["month"], r["Country or region"], r["Capability"], r["scope"], r["Total minutes"], r["Minutes used"],
             r["Minutes available"]) for r in p.pools]


def test_R4_pool_size_is_users_times_monthly_allowance(tmp_path):
    """R2/R4/R5: one pool per (usage country, plan), size = users x allowance; US and PR share.

    Users: 2 US + 1 PR + 1 US(E5) on DOMESTIC_CALLING_PLAN -> US MCOPSTN1 4 x 3000 = 12000;
    1 CA on DOMESTIC_INTERNATIONAL -> CA MCOPSTN2 domestic 3000 + international 600;
    1 DE on DOMESTIC_CALLING_PLAN -> DE MCOPSTN1 1200 (1200 outside US/PR/CA);
    1 DE on DOMESTIC_INTERNATIONAL -> DE MCOPSTN2 1200 + 600;
    2 GB on _120 -> GB MCOPSTN5 240; 1 GB on _240 -> GB MCOPSTN6 240;
    1 FR on PAY_AS_YOU_GO -> no pool.
    Dial-out pool (R5): E5 user + 1 AUDIO_CONFERENCING user = 2 x 60 = 120 minutes.
    """
    users = [user("us1", "US", PLAN), user("us2", "US", PLAN), user("pr1", "PR", PLAN),
             user("e5", "US", ["E5", "DOMESTIC_CALLING_PLAN"]),
             user("ca1", "CA", ["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN"]),
             user("de1", "DE", PLAN), user("de2", "DE", ["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN"]),
             user("gb1", "GB", ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_120"]),
             user("gb2", "GB", ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_120"]),
             user("gb3", "GB", ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_240"]),
             user("fr1", "FR", ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]),
             user("conf", "GB", ["AUDIO_CONFERENCING"])]
    path = write_case(tmp_path, users=users, calls=[call("c1", "pr1", "2026-01-05T10:00:00Z", 60, to="US")],
                      policies=FUNDS, rates=RATES)
    p = run_case(path)["p"]
    assert sorted(r[1:5] for r in _pools(p)) == sorted([
        ("US", "MCOPSTN1", "domestic", "12000"), ("CA", "MCOPSTN2", "domestic", "3000"),
        ("CA", "MCOPSTN2", "international", "600"), ("DE", "MCOPSTN1", "domestic", "1200"),
        ("DE", "MCOPSTN2", "domestic", "1200"), ("DE", "MCOPSTN2", "international", "600"),
        ("GB", "MCOPSTN5", "domestic", "240"), ("GB", "MCOPSTN6", "domestic", "240"),
        ("Global", "MCOMEETADD", "dial-out", "120")])
    # the PR user's call drew on the shared US pool
    assert ("2026-01", "US", "MCOPSTN1", "domestic", "12000", "1", "11999") in _pools(p)


def test_R4_call_straddles_pool_and_credits(tmp_path):
    """R4/R6/R12: a call paid partly by the pool and partly by credits; Capability MCOPSTNPP.

    allowances: DOMESTIC_CALLING_PLAN US = 2 minutes -> the US pool holds 2 minutes.
    Rate US 0.0185/min. alice, balance 20.00.
      c1 at 10:00:00, 300 s -> increments at 10:00, 10:01 from the pool (now empty), 10:02,
         10:03, 10:04 from credits: 3 x 0.0185 = 0.0555 (ledger rows 19.9815, 19.9630, 19.9445).
         CDR Charge 0.06 (0.0555 half-up to 2 places), Capability MCOPSTNPP, Duration 300.
      c2 at 11:00, 60 s -> pool empty: credits 0.0185, balance 19.9260, Charge 0.02.
    pools.csv 2026-01: US MCOPSTN1 total 2, used 2, available 0.
    credits_spent 0.0740 = sum of exact charges (R1), pool_minutes_used 2.
    """
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)],
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 300, to="US"),
                             call("c2", "alice", "2026-01-05T11:00:00Z", 60, to="US")],
                      policies=FUNDS, rates={"outbound": {"US": "0.0185"}},
                      switches={"allowances": {"DOMESTIC_CALLING_PLAN": {"US": 2}}})
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "amount", "balance_after", "usage_id")[1:] == [
        ("2026-01-05T10:02:00Z", "0.0185", "19.9815", "c1"),
        ("2026-01-05T10:03:00Z", "0.0185", "19.9630", "c1"),
        ("2026-01-05T10:04:00Z", "0.0185", "19.9445", "c1"),
        ("2026-01-05T11:00:00Z", "0.0185", "19.9260", "c2"),
    ]
    c1 = p.cdr["c1"]
    assert (c1["Duration Seconds"], c1["Charge"], c1["Capability"], c1["End Time"]) == (
        "300", "0.06", "MCOPSTNPP", "2026-01-05T10:05:00Z")
    assert (p.cdr["c2"]["Charge"], p.cdr["c2"]["Capability"]) == ("0.02", "MCOPSTNPP")
    assert _pools(p) == [("2026-01", "US", "MCOPSTN1", "domestic", "2", "2", "0")]
    assert p.metrics["credits_spent"] == Decimal("0.0740") and p.metrics["pool_minutes_used"] == 2


@pytest.mark.parametrize("dni_cap", ["whichever_first", "independent"])
def test_R4_dni_cap_whichever_first_vs_independent(tmp_path, dni_cap):
    """R4 switch dni_cap on a DOMESTIC_INTERNATIONAL_CALLING_PLAN (MCOPSTN2) user.

    allowances: US domestic 10, international 2 minutes. Rates US 0.0200, GB 0.0350.
      d1 dan -> US at 10:00:00 for 300 s: increments at 10:00, 10:01, 10:02, 10:03, 10:04.
      i1 dan -> GB at 10:01:30 for 180 s: increments at 10:01:30, 10:02:30 take the 2
         international minutes (pool empty after 10:02:30); 10:03:30 from credits 0.0350.
      whichever_first: from 10:03 on both MCOPSTN2 pools count as empty, so d1's 10:03 and
         10:04 increments come from credits: 2 x 0.0200. d1: 3 pool + 2 credit increments,
         Charge 0.04, MCOPSTNPP. i1: Charge 0.04 (0.0350), MCOPSTNPP.
         Domestic pool used 3 of 10; international 2 of 2. Spent 0.0750.
      independent: d1 is paid by the domestic pool throughout (5 of 10), Charge 0.00,
         Capability MCOPSTN2; i1 as above. Spent 0.0350.
    """
    path = write_case(tmp_path, users=[user("dan", "US", DI_PLAN_CREDITS)],
                      calls=[call("d1", "dan", "2026-01-05T10:00:00Z", 300, to="US"),
                             call("i1", "dan", "2026-01-05T10:01:30Z", 180, to="GB")],
                      policies=FUNDS, rates=RATES,
                      switches={"dni_cap": dni_cap, "allowances": {
                          "DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"US": {"domestic": 10, "international": 2}}}})
    p = run_case(path)["p"]
    debits = [(d["time"][11:19], d["amount"], d["usage_id"]) for d in p.debits()]
    if dni_cap == "whichever_first":
        assert debits == [("10:03:00", "0.0200", "d1"), ("10:03:30", "0.0350", "i1"), ("10:04:00", "0.0200", "d1")]
        assert (p.cdr["d1"]["Charge"], p.cdr["d1"]["Capability"]) == ("0.04", "MCOPSTNPP")
        assert [r[3:] for r in _pools(p)] == [("domestic", "10", "3", "7"), ("international", "2", "2", "0")]
        assert p.metrics["credits_spent"] == Decimal("0.0750")
    else:
        assert debits == [("10:03:30", "0.0350", "i1")]
        assert (p.cdr["d1"]["Charge"], p.cdr["d1"]["Capability"]) == ("0.00", "MCOPSTN2")
        assert [r[3:] for r in _pools(p)] == [("domestic", "10", "5", "5"), ("international", "2", "2", "0")]
        assert p.metrics["credits_spent"] == Decimal("0.0350")
    assert (p.cdr["i1"]["Charge"], p.cdr["i1"]["Capability"], p.cdr["i1"]["Domestic/International"]) == (
        "0.04", "MCOPSTNPP", "International")


@pytest.mark.parametrize("dni_cap, intl_paid_by", [("whichever_first", "credits"), ("independent", "pool")])
def test_R4_dni_cap_empty_domestic_pool_gates_international(tmp_path, dni_cap, intl_paid_by):
    """R4 the other way round: the domestic MCOPSTN2 pool (1 minute) empties first.

      d1 -> US 60 s at 10:00: the last domestic minute.
      i1 -> GB 60 s at 11:00: whichever_first -> credits 0.0350, MCOPSTNPP;
                              independent -> international pool, MCOPSTN2, Charge 0.00.
    """
    path = write_case(tmp_path, users=[user("dan", "US", DI_PLAN_CREDITS)],
                      calls=[call("d1", "dan", "2026-01-05T10:00:00Z", 60, to="US"),
                             call("i1", "dan", "2026-01-05T11:00:00Z", 60, to="GB")],
                      policies=FUNDS, rates=RATES,
                      switches={"dni_cap": dni_cap, "allowances": {
                          "DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"*": {"domestic": 1, "international": 5}}}})
    p = run_case(path)["p"]
    assert p.cdr["d1"]["Capability"] == "MCOPSTN2"
    if intl_paid_by == "credits":
        assert (p.cdr["i1"]["Capability"], p.cdr["i1"]["Charge"]) == ("MCOPSTNPP", "0.04")
        assert [(d["amount"], d["usage_id"]) for d in p.debits()] == [("0.0350", "i1")]
    else:
        assert (p.cdr["i1"]["Capability"], p.cdr["i1"]["Charge"]) == ("MCOPSTN2", "0.00")
        assert p.debits() == []


def test_R4_pools_reset_on_the_first_of_the_month_without_roll_over(tmp_path):
    """R4: pools refill at 00:00 UTC on the 1st; unused minutes do not roll over.

    Start 2026-01-31T00:00Z, 2 days. allowances DOMESTIC_CALLING_PLAN US = 3 minutes.
    Rate US 0.0200.
      a1 Jan 31 10:00, 60 s          -> pool (January used 1)
      a2 Jan 31 23:59:00, 180 s      -> 23:59 pool (January used 2); 00:00 Feb 1: the reset
                                        runs before the increment, pool full again -> pool,
                                        00:01 pool (February used 2). Charge 0.00, MCOPSTN1.
      a3 Feb 1 12:00, 180 s          -> 12:00 pool (February used 3, empty), 12:01 and 12:02
                                        credits: 0.0400, Charge 0.04, MCOPSTNPP. (January's
                                        unused minute would have paid 12:01 had it rolled over.)
    pools.csv: 2026-01 US 3 used 2 available 1; 2026-02 US 3 used 3 available 0.
    """
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)], start="2026-01-31T00:00:00Z", days=2,
                      calls=[call("a1", "alice", "2026-01-31T10:00:00Z", 60, to="US"),
                             call("a2", "alice", "2026-01-31T23:59:00Z", 180, to="US"),
                             call("a3", "alice", "2026-02-01T12:00:00Z", 180, to="US")],
                      policies=FUNDS, rates=RATES, switches={"allowances": {"DOMESTIC_CALLING_PLAN": {"US": 3}}})
    p = run_case(path)["p"]
    assert _pools(p) == [("2026-01", "US", "MCOPSTN1", "domestic", "3", "2", "1"),
                         ("2026-02", "US", "MCOPSTN1", "domestic", "3", "3", "0")]
    assert (p.cdr["a2"]["Charge"], p.cdr["a2"]["Capability"], p.cdr["a2"]["End Time"]) == (
        "0.00", "MCOPSTN1", "2026-02-01T00:02:00Z")
    assert (p.cdr["a3"]["Charge"], p.cdr["a3"]["Capability"]) == ("0.04", "MCOPSTNPP")
    assert [(d["time"], d["usage_id"]) for d in p.debits()] == [("2026-02-01T12:01:00Z", "a3"),
                                                                ("2026-02-01T12:02:00Z", "a3")]
    assert p.metrics["pool_minutes_used"] == 5


def test_R4_allowances_override_with_wildcard_country(tmp_path):
    """R4 switch allowances: `*` applies to every country not named; a named country wins.

    DOMESTIC_CALLING_PLAN_120: {'*': 10, 'GB': 7}. 1 GB user + 2 IE users on the 120 plan:
    GB MCOPSTN5 = 7, IE MCOPSTN5 = 2 x 10 = 20 (instead of 120 and 240).
    """
    lic = ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_120"]
    path = write_case(tmp_path, users=[user("gb", "GB", lic), user("ie1", "IE", lic), user("ie2", "IE", lic)],
                      calls=[call("c1", "gb", "2026-01-05T10:00:00Z", 60, to="GB")], policies=FUNDS, rates=RATES,
                      switches={"allowances": {"DOMESTIC_CALLING_PLAN_120": {"*": 10, "GB": 7}}})
    p = run_case(path)["p"]
    assert sorted(r[1:7] for r in _pools(p)) == [("GB", "MCOPSTN5", "domestic", "7", "1", "6"),
                                                 ("IE", "MCOPSTN5", "domestic", "20", "0", "20")]


def test_R4_pool_exhausted_without_credits_licence_blocks_then_cuts(tmp_path):
    """R6 reason pool_exhausted: a plan user without the credits licence, pool of 2 minutes.

      c1 at 10:00, 150 s: 10:00 and 10:01 from the pool; at 10:02 no pool minute and no
         credits licence -> cut at 10:02 (120 s connected), reason pool_exhausted,
         minutes lost (150 - 120) / 60 = 0.50.
      c2 at 11:00, 60 s: blocked pool_exhausted, minutes lost 1.00.
    Metrics: attempted 2, connected 1, blocked 1, cut 1, minutes_lost 1.5, users_affected 1.
    """
    path = write_case(tmp_path, users=[user("alice", "US", PLAN)],
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 150, to="US"),
                             call("c2", "alice", "2026-01-05T11:00:00Z", 60, to="US")],
                      policies=FUNDS, rates=RATES, switches={"allowances": {"DOMESTIC_CALLING_PLAN": {"US": 2}}})
    p = run_case(path)["p"]
    assert [(d["time"], d["usage_id"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("2026-01-05T10:02:00Z", "c1", "pool_exhausted", "0.50"),
        ("2026-01-05T11:00:00Z", "c2", "pool_exhausted", "1.00")]
    assert (p.cdr["c1"]["Duration Seconds"], p.cdr["c1"]["Capability"], p.cdr["c1"]["Charge"]) == ("120", "MCOPSTN1", "0.00")
    m = p.metrics
    assert (m["calls_attempted"], m["calls_connected"], m["calls_blocked"], m["calls_cut"], m["users_affected"]) == (2, 1, 1, 1, 1)
    assert m["minutes_lost"] == Decimal("1.5") and m["credits_spent"] == 0


def test_R4_pools_report_keeps_the_horizon_month_when_a_call_runs_past_it(tmp_path):
    """R4/R12: the pools report is per calendar month of the scenario.

    Start 2026-01-01, 31 days: the horizon is 2026-02-01T00:00Z. c1 starts 2026-01-31T23:59:00Z
    for 300 s; the call completes past the horizon (increments 23:59, 00:00 .. 00:03). The run
    covers January only, so pools.csv has one block, month 2026-01, 5 minutes used (no reset at
    the horizon: the run ends there and the running call completes in its period).
    Bug found: the block was labelled 2026-02 (month of the last event, not of the horizon).
    """
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)], days=31,
                      calls=[call("c1", "alice", "2026-01-31T23:59:00Z", 300, to="US")], policies=FUNDS, rates=RATES)
    p = run_case(path)["p"]
    assert _pools(p) == [("2026-01", "US", "MCOPSTN1", "domestic", "3000", "5", "2995")]
    assert p.cdr["c1"]["End Time"] == "2026-02-01T00:04:00Z"
