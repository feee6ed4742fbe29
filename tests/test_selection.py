"""optimise's bounds (sim/analysis/selection.py) worked by hand, and the known gap an audit
measured: a candidate that saw no disruption in its first replications is bounded as if
disruptions came one at a time (README, Choosing a policy)."""
import math
from decimal import Decimal

import pytest

from sim.analysis.selection import bound, paired_bound
from sim.commands.optimise import Constraint, Verdict, _decide

D = Decimal


def test_bounds_by_hand():
    # prob_disruption none of 10: Clopper-Pearson upper bound 1 - 0.05^(1/10) = 0.2589
    assert bound("prob_disruption", [D(0)] * 10, 0.05).high == pytest.approx(0.2589, abs=1e-4)
    # a count none of 8, nothing seen anywhere: Poisson -ln(0.05)/8 = 0.3745
    assert bound("calls_blocked", [D(0)] * 8, 0.05).high == pytest.approx(0.3745, abs=1e-4)
    # an amount none of 8: that value, as if certain (the gap the README states)
    assert bound("minutes_lost", [D(0)] * 8, 0.05).high == 0.0
    # a non-zero constant: itself; 9, 10, 11: 10 + t(0.95, 2) / sqrt(3) = 10 + 2.919986 x 0.57735
    assert bound("credits_purchased", [D(500)] * 8, 0.05).high == 500.0
    assert bound("credits_spent", [D(9), D(10), D(11)], 0.05).high == pytest.approx(11.6859, abs=1e-4)
    # the same difference 2 in all 5 replications: sign test 0.5^5 = 0.03125 <= 0.05: above 2 for sure
    d = paired_bound([D(12)] * 5, [D(10)] * 5, 0.05)
    assert (d.low, d.high) == (2.0, math.inf)
    assert paired_bound([D(12)] * 4, [D(10)] * 4, 0.05).low == -math.inf       # 0.0625: not decided


def test_skewed_values_are_bounded_by_halls_correction():
    # 0 x 8, 3, 40 (skewness > 1 from 10): the ends of Hall's two-sided 95 % interval are
    # one-sided bounds at 2.5 % (worked by hand in tests/test_stats_intervals.py): -1.4867 and
    # 32.9131; t's are 4.3 ± 8.9985. Each bound is the farther of the two: a t upper bound would
    # stop at 13.30, below what the tail suggests
    values = [D(0)] * 8 + [D(3), D(40)]
    b = bound("calls_blocked", values, 0.025)
    assert (b.mean, b.low, b.high) == (pytest.approx(4.3), pytest.approx(-4.6985, abs=1e-4), pytest.approx(32.9131))
    d = paired_bound(values, [D(0)] * 10, 0.025)
    assert (d.low, d.high) == (pytest.approx(-4.6985, abs=1e-4), pytest.approx(32.9131))
    # not skewed: Student t as before
    assert bound("credits_spent", [D(v) for v in (5, 6, 7, 5, 6, 7, 5, 6, 7, 6)], 0.025).high == pytest.approx(
        6.0 + 2.262157 * math.sqrt(2 / 3) / math.sqrt(10), abs=1e-4)


def test_a_quiet_candidate_is_declared_feasible_by_the_poisson_bound():
    """c0 saw no disruption in 8 replications: -ln(0.05/6)/8 = ln(120)/8 = 0.5984 <= 0.6, feasible, however
    large the bursts another candidate showed (their size tells nothing about c0's: a richer
    policy may be immune to them). The audit measured this letting an infeasible candidate
    (25 blocked calls in 24 % of replications) win 12-13 % of the time; the README says so."""
    values = {"c0": [{"disruptions": D(0), "credits_purchased": D(100)} for _ in range(8)],
              "c1": [{"disruptions": D(25 if k < 2 else 0), "credits_purchased": D(90)} for k in range(8)]}
    verdicts = {c: Verdict() for c in values}
    _decide(["c0", "c1"], values, verdicts, "credits_purchased",
            [Constraint("disruptions", "<=", 0.6, "disruptions<=0.6")], 0.05 / 6)
    assert verdicts["c0"].status == "feasible"
    assert verdicts["c0"].bounds["disruptions"].high == pytest.approx(0.5984, abs=1e-4)
    # c1: 25, 25 and six zeros: mean 6.25, s = 11.57, t(1 - 0.05/6, 7) = 3.13: lower bound -6.55, undecided
    assert verdicts["c1"].status == "in" and verdicts["c1"].bounds["disruptions"].low < 0.6
