"""Replications to a precision and the default replication rule (issue 10): batches until every
named metric is within the target, or the cap, saying which; the same figures as a fixed -r run
of the same length; bad options exit 2."""
import json
import math
from decimal import Decimal

import pytest

from sim.cli import main
from sim.parallel.precision import Precision, Shortfall, next_total, relative_half_width, replicate_to_precision, shortfalls

from .test_reproducibility import _scenario


def _summary(folder):
    return json.loads((folder / "summary.json").read_text())


def test_relative_half_width_and_the_next_batch_by_hand():
    assert relative_half_width("calls_blocked", [Decimal(0)] * 5) == 0.0        # rule of three: nothing to estimate
    assert relative_half_width("credits_spent", [Decimal(7)] * 5) == 0.0        # constant
    assert relative_half_width("credits_spent", [Decimal(1)]) == math.inf       # no interval from one replication
    # values 9, 10, 11: mean 10, s = 1, t(0.975, 2) = 4.302653 -> half-width 2.4841 -> 24.8 %
    assert relative_half_width("credits_spent", [Decimal(9), Decimal(10), Decimal(11)]) == pytest.approx(0.24841, abs=1e-4)
    # an interval that is not symmetric counts by its farther end (a review: the half-width
    # understated the long side). 0, 0, 0, 0, 10: mean 2, t 2 ± 5.5529 clipped at 0 to 0-7.5529:
    # the high end is 5.5529 = 278 % away (the clipped half-width, 3.7765, would say 189 %);
    # 0 x 8, 3, 40: Hall's union 0-32.9131 about 4.3 (tests/test_stats_intervals.py): 28.6131
    assert relative_half_width("calls_blocked", [Decimal(0)] * 4 + [Decimal(10)]) == pytest.approx(2.77645, abs=1e-4)
    assert relative_half_width("calls_blocked", [Decimal(0)] * 8 + [Decimal(3), Decimal(40)]) == pytest.approx(
        28.6131 / 4.3, abs=1e-4)
    # 10 replications at ±20 % need 10 x (20/10)^2 = 40 for ±10 %; growth is capped at 4x and by the cap
    assert next_total(10, [Shortfall("p", "m", 0.20)], 0.10, 1000) == 40
    assert next_total(10, [Shortfall("p", "m", 0.50)], 0.10, 1000) == 40
    assert next_total(10, [Shortfall("p", "m", 0.11)], 0.10, 1000) == 20     # at least 10 more
    assert next_total(10, [Shortfall("p", "m", 0.50)], 0.10, 25) == 25


def test_a_metric_seen_as_zero_is_met_only_when_the_replications_rule_out_a_rare_one():
    """An audit: a policy hit by a burst of ~25 blocked calls in 5 % of replications showed zero
    in 10 quiet ones, counted as met, and the interval then covered 23-40 % of the time. None
    seen in n replications bounds the chance per replication by 1 - 0.05^(1/n) (Clopper-Pearson):
    0.2589 at n = 10, 0.1015 at 28, 0.0981 at 29; so ±10 % needs 29, ±5 % needs 59
    (ln 0.05 / ln 0.95 = 58.4)."""
    zero = [{"p": {"calls_cut": Decimal(0)}}]
    short = shortfalls(zero * 10, ["p"], ["calls_cut"], 0.10)
    assert [(s.none_seen, round(s.relative, 4)) for s in short] == [(True, 0.2589)]
    assert shortfalls(zero * 28, ["p"], ["calls_cut"], 0.10)[0].relative == pytest.approx(0.1015, abs=1e-4)
    assert shortfalls(zero * 29, ["p"], ["calls_cut"], 0.10) == []
    assert next_total(10, short, 0.10, 1000) == 29 and next_total(10, short, 0.05, 1000) == 40     # 4x at most
    assert next_total(40, [Shortfall("p", "m", 0.0738, none_seen=True)], 0.05, 1000) == 59
    one = [{"p": {"calls_cut": Decimal(0)}}] * 9 + [{"p": {"calls_cut": Decimal(25)}}]
    assert shortfalls(one, ["p"], ["calls_cut"], 0.10)[0].none_seen is False        # seen: its interval decides
    described = Precision(0.10, ("calls_cut",), 10, False, tuple(short)).describe()
    assert "calls_cut of p (none seen yet: a chance of up to 26% per replication)" in described


def test_the_loop_runs_a_quiet_policy_until_a_rare_event_is_ruled_out(monkeypatch):
    """replicate_to_precision on a policy that never disrupts: 10, then 29 replications (±10 %)."""
    import sim.parallel.precision as precision
    batches = []

    def fake(engine, job, reps):
        batches.append(len(reps))
        return [{"p": {"calls_cut": Decimal(0), "credits_spent": Decimal(5)}} for _ in reps]

    monkeypatch.setattr(precision, "run_replications", fake)
    job = type("Job", (), {"world": type("World", (), {"policies": [type("P", (), {"name": "p"})()]})()})()
    per_rep, prec = replicate_to_precision(None, job, 10, 0.10, ("calls_cut", "credits_spent"), 40)
    assert batches == [10, 19] and len(per_rep) == 29 and prec.met


def test_precision_loop_stops_when_met_and_matches_a_fixed_run_of_that_length(tmp_path):
    scen = _scenario(tmp_path)
    assert main(["-q", "run", str(scen), "--precision", "25%", "--precision-metrics", "credits_spent",
                 "--no-xlsx", "--out", str(tmp_path / "p")]) == 0
    got = _summary(tmp_path / "p")
    prec = got["precision"]
    assert prec["met"] is True and prec["target"] == "25%" and prec["metrics"] == ["credits_spent"]
    n = got["replications"]
    assert 10 <= n == prec["replications"]
    for policy in got["policies"].values():
        stat = policy["credits_spent"]
        if stat["ci_method"] not in ("constant", "rule_of_three"):
            assert Decimal(stat["ci95_half_width"]) <= Decimal("0.25") * abs(Decimal(stat["mean"]))
    assert main(["-q", "run", str(scen), "-r", str(n), "--no-xlsx", "--out", str(tmp_path / "f")]) == 0
    assert _summary(tmp_path / "f")["policies"] == got["policies"]


def test_a_precision_not_reached_stops_at_the_cap_and_says_so(tmp_path, capsys):
    scen = _scenario(tmp_path)
    assert main(["run", str(scen), "--precision", "0.5%", "--max-replications", "12", "--no-xlsx",
                 "--out", str(tmp_path / "p")]) == 0
    err = capsys.readouterr().err
    assert "warning: precision ±0.5% not reached after 12 replications: " in err
    got = _summary(tmp_path / "p")
    assert got["replications"] == 12 and got["precision"]["met"] is False and got["precision"]["shortfalls"]


def test_the_default_rule_runs_10_to_40_replications(tmp_path):
    scen = _scenario(tmp_path)
    assert main(["-q", "run", str(scen), "--no-xlsx", "--out", str(tmp_path / "d")]) == 0
    got = _summary(tmp_path / "d")
    assert 10 <= got["replications"] <= 40
    assert got["precision"]["rule"].startswith("default: 10 replications")


def test_a_fixed_r_runs_exactly_r_and_warns_when_precision_is_poor(tmp_path, capsys):
    scen = _scenario(tmp_path)
    assert main(["run", str(scen), "-r", "2", "--no-xlsx", "--out", str(tmp_path / "r")]) == 0
    assert _summary(tmp_path / "r")["replications"] == 2
    assert "warning: precision ±10% not reached after 2 replications" in capsys.readouterr().err


@pytest.mark.parametrize("opts, option", [(["--precision", "abc"], "--precision"),
                                          (["--precision", "150%"], "--precision"),
                                          (["--precision", "5%", "--precision-metrics", "luck"], "--precision-metrics"),
                                          (["--precision", "5%", "--max-replications", "0"], "--max-replications"),
                                          (["-r", "3", "--max-replications", "9"], "--max-replications")])
def test_bad_precision_options_exit_2(tmp_path, capsys, opts, option):
    scen = _scenario(tmp_path)
    assert main(["run", str(scen), *opts, "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {option}: ")
