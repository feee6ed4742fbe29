"""R12 replay input: a repeated UsageId is reported, not billed twice (anchors.md invariant 7).

Worked by hand: the same calls with and without duplicated rows give the same ledger,
CDR and metrics; the summary lists each duplicate's line and UsageId.
"""
from tests.billing_cases import PAYG_CREDITS, call, run_case, run_cli, user, write_case

RATES = {"outbound": {"*": "0.1000"}}


def test_R12_duplicate_usage_id_rows_are_billed_once(tmp_path):
    """Report A: c1, c2. Report B: c1, c1 (exact copy, line 3), c2, c2 again with another
    duration (line 5: the first row of a UsageId wins).

    Both bill c1 (120 s: 2 x 0.1000) and c2 (60 s: 0.1000): balance 20.0000 -> 19.7000;
    B's summary: rows_billed 2, duplicate_usage_ids [line 3 c1, line 5 c2]; `validate` says
    '(2 duplicate UsageId rows not billed)'.
    """
    c1 = call("c1", "paul", "2026-01-05T10:00:00Z", 120, to="US")
    c2 = call("c2", "paul", "2026-01-05T11:00:00Z", 60, to="US")
    c2_other = dict(c2, **{"Duration Seconds": "999"})
    common = dict(users=[user("paul", "US", PAYG_CREDITS)], rates=RATES, policies=[{"name": "p", "initial_funds": "20.00"}])
    a = run_case(write_case(tmp_path / "a", calls=[c1, c2], **common))
    b_path = write_case(tmp_path / "b", calls=[c1, c1, c2, c2_other], **common)
    b = run_case(b_path)
    assert b["p"].ledger == a["p"].ledger
    assert b["p"].cdr_rows == a["p"].cdr_rows
    assert b["p"].metrics == a["p"].metrics
    assert [(r["kind"], r["amount"], r["balance_after"], r["usage_id"]) for r in b["p"].ledger] == [
        ("purchase", "20.0000", "20.0000", ""), ("debit", "0.1000", "19.9000", "c1"),
        ("debit", "0.1000", "19.8000", "c1"), ("debit", "0.1000", "19.7000", "c2")]
    assert b["p"].metrics["calls_attempted"] == 2
    replay = b.summary["replay"]
    assert replay["rows_billed"] == 2
    assert [(d["line"], d["usage_id"]) for d in replay["duplicate_usage_ids"]] == [(3, "c1"), (5, "c2")]
    assert all(d["file"].endswith("report.csv") for d in replay["duplicate_usage_ids"])
    code, out, _ = run_cli("validate", str(b_path))
    assert code == 0 and "(2 duplicate UsageId rows not billed)" in out
