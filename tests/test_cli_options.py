"""Command-line options beyond the contract's minimum."""
from tests.billing_cases import PLAN_CREDITS, call, run_cli, user, write_case


def test_no_xlsx_skips_only_the_workbook(tmp_path):
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)],
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 90, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.00"}])
    code, _, err = run_cli("run", str(path), "--out", str(tmp_path / "a"), "-q", "--no-xlsx")
    assert code == 0, err
    assert not (tmp_path / "a" / "report.xlsx").exists()
    assert (tmp_path / "a" / "summary.json").exists() and (tmp_path / "a" / "p" / "cdr.csv").exists()
    code, _, err = run_cli("run", str(path), "--out", str(tmp_path / "b"), "-q")
    assert code == 0, err
    assert (tmp_path / "b" / "report.xlsx").exists()
