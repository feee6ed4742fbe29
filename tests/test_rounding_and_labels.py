"""Issue 12: one half-up rounding rule for every figure shown (R1), totals that reconcile, and
labels that mean what they say (R10 postpay "invoiced", R11 funding vs other disruptions)."""
from decimal import Decimal

from sim.outputs.rounding import reconciliation, shown, shown_mean
from sim.outputs.table import comparison_table
from tests.billing_cases import PLAN_CREDITS, call, run_case, user, write_case


def stat(*values):
    return {"mean": "0", "ci95_half_width": "0.0000", "ci95_low": None, "ci95_high": None,
            "ci_method": "none", "replications": list(values)}


def test_R1_half_up_not_half_even():
    """499.9850 is exactly half a cent: the CDR rounds it up, so must the table (Python's
    format would give 499.98, a float 499.98 or 499.99 depending on its binary error)."""
    assert shown("499.9850") == "499.99"
    assert shown("186.5750") == "186.58"
    assert shown("-0.0050") == "-0.01"
    assert shown("1234567.005", grouped=True) == "1,234,567.01"


def test_R1_a_mean_is_rounded_once_from_the_exact_values():
    """Replications 0.0049 and 0.0050: exact mean 0.00495 -> 0.00 at 2 places; rounding the
    4-place mean 0.0050 again would show 0.01."""
    assert shown_mean(stat("0.0049", "0.0050")) == "0.00"


def test_R7_reconciliation_line_only_when_rounded_columns_do_not_add_up():
    """purchased 10.0000 = spent 3.3350 + expired 3.3350 + balance 3.3300 exactly; rounded half-up
    to cents 10.00 vs 3.34 + 3.34 + 3.33 = 10.01: the table says '− 0.01 of rounding'."""
    summary = {"p": {"credits_purchased": stat("10.0000"), "credits_spent": stat("3.3350"),
                     "credits_expired": stat("3.3350"), "final_balance": stat("3.3300")},
               "q": {"credits_purchased": stat("10.0000"), "credits_spent": stat("5.0000"),
                     "credits_expired": stat("0.0000"), "final_balance": stat("5.0000")}}
    lines = reconciliation(summary)
    assert len(lines) == 1 and lines[0].startswith("p: purchased 10.00 = spent 3.34 + expired 3.34 + "
                                                   "final balance 3.33 − 0.01 of rounding")


def test_R10_R11_postpay_is_invoiced_and_the_table_leads_with_funding_disruptions(tmp_path):
    """alice (credits) calls GB 90 s twice at 0.1000/min: 2 increments = 0.2000 a call. bob may
    not dial out (`dialout_policy: none`): his call is blocked for dialout_policy, which no
    funding changes. `prepaid` holds 20.00, enough for both of alice's calls; `postpay` invoices
    0.4000. So in both calls_blocked = 1 but calls_blocked_funding = 0, users_affected = 1 but
    users_affected_funding = 0, and postpay's 0.40 is labelled invoiced."""
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS), user("bob", "US", PLAN_CREDITS, "none")],
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 90, to="GB"),
                             call("c2", "alice", "2026-01-05T11:00:00Z", 90, to="GB"),
                             call("c3", "bob", "2026-01-05T12:00:00Z", 90, to="GB")],
                      policies=[{"name": "prepaid", "initial_funds": "20.00"}, {"name": "postpay", "billing": "postpay"}])
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    for name in ("prepaid", "postpay"):
        m = res[name].metrics
        assert (m["calls_blocked"], m["calls_blocked_funding"]) == (1, 0)
        assert (m["users_affected"], m["users_affected_funding"]) == (1, 0)
        assert m["calls_cut_funding"] == 0
    assert str(res["postpay"].metrics["overdraft"]) == "0.4000"
    table = comparison_table(res.summary["policies"], postpay={"postpay"})
    header = table.splitlines()[0]
    assert header.index("blocked by funding") < header.index("blocked, any reason")
    assert "0.40 invoiced" in table and "overdraft / invoiced" in header


def test_R11_insufficient_funds_counts_as_funding(tmp_path):
    """carol (credits) calls GB twice for 60 s at 15.0000/min with 20.00 of funds: the first call
    costs 15.00, leaving 5.00; the second's first increment (15.00) is not covered, so it is
    blocked for insufficient_funds (R6), a funding disruption."""
    path = write_case(tmp_path, users=[user("carol", "US", PLAN_CREDITS)],
                      calls=[call("c1", "carol", "2026-01-05T10:00:00Z", 60, to="GB"),
                             call("c2", "carol", "2026-01-05T11:00:00Z", 60, to="GB")],
                      rates={"outbound": {"*": "15.0000"}},
                      policies=[{"name": "p", "initial_funds": "20.00"}])
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    m = res["p"].metrics
    assert (m["calls_blocked"], m["calls_blocked_funding"], m["users_affected_funding"]) == (1, 1, 1)


def test_R12_summary_explains_the_cdr_rounding(tmp_path):
    """Three 60 s calls to GB at 0.0125/min: each Charge 0.0125 shows as 0.01 (half-up of
    0.0125 at 2 places is 0.01), the CDR total 0.03 against credits_spent 0.0375: -0.0075."""
    path = write_case(tmp_path, users=[user("dave", "US", PLAN_CREDITS)],
                      calls=[call(f"c{i}", "dave", f"2026-01-05T1{i}:00:00Z", 60, to="GB") for i in range(3)],
                      rates={"outbound": {"*": "0.0125"}}, policies=[{"name": "p", "initial_funds": "20.00"}])
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    got = res.summary["cdr_rounding"]
    assert got["policies"]["p"] == {"cdr_total": "0.03", "credits_spent": "0.0375", "difference": "-0.0075",
                                    "cdr_rows": 3}
    assert "half-up" in got["why"]
    assert Decimal(res["p"].cdr["c0"]["Charge"]) == Decimal("0.01")
