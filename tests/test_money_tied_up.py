"""Money tied up, months and warm-up (issue 10), worked by hand on tiny replayed cases:
average_balance (exact time-weighted integral over the horizon), max_balance, the monthly
figures, warmup_days, the pro-rata first month (switch first_month_allowance, R4) and
validate's warning about a start off the 1st."""
from decimal import Decimal as D

import yaml

from .billing_cases import PAYG_CREDITS, PLAN_CREDITS, call, run_case, run_cli, user, write_case, NUMBER

H = 10 * 86400       # 10 days


def _case(tmp_path, calls, policies, **scenario):
    path = write_case(tmp_path, users=[user("alice", "US", PAYG_CREDITS)], calls=calls, policies=policies,
                      rates={"outbound": {"*": "0.1000"}}, days=scenario.pop("days", 10))
    doc = yaml.safe_load(path.read_text())
    doc.update(scenario)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_average_and_max_balance_by_hand(tmp_path):
    # 20.00 bought at t=0; a 150 s call on day 2 (t=172800) pays 3 increments of 0.10 at
    # 172800, 172860, 172920. Integral: 20 * 172800 + 19.9 * 60 + 19.8 * 60 + 19.7 * (864000 - 172920)
    # = 3,456,000 + 1,194 + 1,188 + 13,614,276 = 17,072,658 money-seconds; / 864,000 s = 19.76002083
    path = _case(tmp_path, [call("c1", "alice", "2026-01-03T00:00:00Z", 150, dest=NUMBER["US"])],
                 [{"name": "p", "initial_funds": "20.00"}])
    m = run_case(path)["p"].metrics
    assert m["average_balance"] == D("19.7600") and m["max_balance"] == D("20.0000")
    assert m["credits_spent"] == D("0.3000") and m["final_balance"] == D("19.7000")


def test_warm_up_days_are_simulated_but_not_counted(tmp_path):
    # warmup_days 3: the call on day 2 happens (the balance is 19.70 after it) but is not counted;
    # from day 3 on the balance is 19.70 throughout, and the peak restarts there.
    path = _case(tmp_path, [call("c1", "alice", "2026-01-03T00:00:00Z", 150, dest=NUMBER["US"]),
                            call("c2", "alice", "2026-01-05T00:00:00Z", 60, dest=NUMBER["US"])],
                 [{"name": "p", "initial_funds": "20.00"}], warmup_days=3)
    m = run_case(path)["p"].metrics
    assert m["calls_attempted"] == 1 and m["credits_spent"] == D("0.1000") and m["credits_purchased"] == 0
    # 19.7 for 1 day (259200 -> 345600, c2 on 5 Jan) + 19.6 for 6 days, over 7 days = 19.614285...
    assert m["average_balance"] == D("19.6143") and m["max_balance"] == D("19.7000")
    assert m["final_balance"] == D("19.6000") and m["opening_balance"] == D("19.7000")
    # R7 over the measured days: opening + purchased = spent + expired + final
    assert m["opening_balance"] + m["credits_purchased"] == m["credits_spent"] + m["credits_expired"] + m["final_balance"]


def test_validate_names_the_warm_up(tmp_path):
    path = _case(tmp_path, [call("c1", "alice", "2026-01-03T00:00:00Z", 150, dest=NUMBER["US"])],
                 [{"name": "p", "initial_funds": "20.00"}], warmup_days=3)
    code, out, _ = run_cli("validate", str(path))
    assert code == 0 and "+ 10 days (the first 3 simulated, not counted)" in out


def test_warm_up_must_leave_days_to_measure(tmp_path):
    path = _case(tmp_path, [call("c1", "alice", "2026-01-03T00:00:00Z", 150, dest=NUMBER["US"])],
                 [{"name": "p", "initial_funds": "20.00"}], warmup_days=10)
    code, _, err = run_cli("validate", str(path))
    assert code == 2 and "warmup_days" in err and "fewer than days" in err


def test_monthly_figures_by_hand(tmp_path):
    # Jan: 0.20 spent on 2 increments, 20.00 bought; Feb: 0.10 spent and a 25.00 top-up on 1 Feb.
    path = _case(tmp_path, [call("c1", "alice", "2026-01-20T00:00:00Z", 120, dest=NUMBER["US"]),
                            call("c2", "alice", "2026-02-03T00:00:00Z", 30, dest=NUMBER["US"])],
                 [{"name": "p", "initial_funds": "20.00", "top_ups": [{"at": "2026-02-01T00:00:00Z",
                                                                          "amount": "25.00"}]}],
                 start="2026-01-10T00:00:00Z", days=30)
    res = run_case(path)
    monthly = res.summary["monthly"]["p"]
    assert [m["month"] for m in monthly] == ["2026-01", "2026-02"]
    assert monthly[0]["spent"]["mean"] == "0.2000" and monthly[0]["purchased"]["mean"] == "20.0000"
    assert monthly[1]["spent"]["mean"] == "0.1000" and monthly[1]["purchased"]["mean"] == "25.0000"
    assert monthly[1]["spent"]["p50"] == "0.1000" and monthly[1]["hours_exhausted"]["p95"] == "0.0000"
    assert monthly[0]["disruptions"]["mean"] == "0.0000"


def test_pro_rata_first_month_and_the_warning(tmp_path):
    # start 16 Jan: 16 of January's 31 days remain; 3000 minutes x 16/31 = 1548.39 -> 1548 (whole minutes)
    path = write_case(tmp_path, users=[user("bob", "US", PLAN_CREDITS)],
                      calls=[call("c1", "bob", "2026-02-03T00:00:00Z", 60, dest=NUMBER["US"])],
                      policies=[{"name": "p", "initial_funds": "20.00"}], start="2026-01-16T00:00:00Z")
    code, out, _ = run_cli("validate", str(path))
    assert code == 0 and "warning: the scenario starts 2026-01-16" in out and "52% of a month" in out
    assert "3000" in out
    doc = yaml.safe_load(path.read_text())
    doc["switches"] = {"first_month_allowance": "pro_rata"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, out, _ = run_cli("validate", str(path))
    assert code == 0 and "1548" in out and "scaled to it" in out
    res = run_case(path)
    pools = [r for r in res["p"].pools if r["scope"] == "domestic"]
    assert [(r["month"], r["Total minutes"]) for r in pools] == [("2026-01", "1548"), ("2026-02", "3000")]
