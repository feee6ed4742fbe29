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


def test_R11_credits_spent_by_kind_say_what_the_money_went_on(tmp_path):
    """Outbound 0.1000/min to GB with a 0.0500 connection fee; toll-free inbound 0.0500/min.
    alice (domestic plan, US) calls GB for 150 s: 3 increments x 0.1000 + fee 0.0500 = 0.3500,
    all credits (no international pool). A US caller rings the toll-free queue for 61 s:
    2 x 0.0500 = 0.1000. credits_spent = 0.4500 = 0.3500 (user_out) + 0.1000 (toll_free_in)."""
    from tests.billing_cases import run_case, toll_free_in
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)], toll_free=True,
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 150, to="GB"),
                             toll_free_in("t1", "2026-01-05T11:00:00Z", 61, origin="US")],
                      rates={"outbound": {"*": {"per_minute": "0.1000", "connection_fee": "0.0500"}},
                             "toll_free_inbound": {"*": "0.0500"}},
                      policies=[{"name": "p", "initial_funds": "20.00"}])
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    m = res["p"].metrics
    assert str(m["credits_spent"]) == "0.4500"
    assert str(m["credits_spent_user_out"]) == "0.3500"
    assert str(m["credits_spent_toll_free_in"]) == "0.1000"
    assert str(m["credits_spent_conf_out"]) == "0.0000" and str(m["credits_spent_conf_in_toll_free"]) == "0.0000"


def test_R1_amounts_in_yaml_never_pass_through_a_float(tmp_path):
    """123456789012345.6789 has 19 significant digits: a float would make it ...345.67.
    Read from the YAML text as a decimal, it is bought to the last digit."""
    from tests.billing_cases import run_case
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)],
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 90, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.00"}])
    path.write_text(path.read_text().replace("initial_funds: '20.00'", "initial_funds: 123456789012345.6789"))
    assert "initial_funds: 123456789012345.6789" in path.read_text()
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    assert res.summary["policies"]["p"]["credits_purchased"]["replications"] == ["123456789012345.6789"]
    assert res["p"].ledger[0]["amount"] == "123456789012345.6789"
