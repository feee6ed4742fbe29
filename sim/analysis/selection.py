"""The statistics of `optimise`: one-sided confidence bounds on a candidate's mean and on the
paired difference of two candidates (common random numbers), at a level the caller sets
(the optimiser divides 5 % over its looks: Bonferroni).

Bound by metric kind, so that a bound is honest where a t bound would not be:
- 0/1 per replication (`prob_disruption`): exact Clopper-Pearson (scipy.stats.beta);
- a count that is zero in every replication: the Poisson bound -ln(alpha)/n (the rule of three
  at alpha = 5 %);
- the same value in every replication otherwise: that value;
- else Student t on the replications (scipy.stats.t); when the values are skewed, the farther
  of t's bound and Hall's skewness-corrected one (the rule of sim.analysis.stats). On skewed
  metrics a one-sided bound still misses more often than alpha at these replications (Hall's
  correction about halves t's excess; README, Choosing a policy).
Paired differences: the same; a difference that is the same in every replication is bounded
by the sign test (all n of one sign has probability 0.5^n under no difference).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from scipy import stats as st

from .frontier import DISRUPTIONS
from .metrics import COUNTS, PROPORTIONS
from .stats import hall_interval, skewed


@dataclass(frozen=True)
class Bound:
    mean: float
    low: float        # one-sided lower bound at the given alpha
    high: float       # one-sided upper bound at the given alpha
    n: int


def bound(metric: str, values: list[Decimal], alpha: float) -> Bound:
    x = np.array([float(v) for v in values])
    n, mean = len(x), float(x.mean())
    if metric in PROPORTIONS:
        k = int(round(x.sum()))
        low = 0.0 if k == 0 else float(st.beta.ppf(alpha, k, n - k + 1))
        high = 1.0 if k == n else float(st.beta.ppf(1 - alpha, k + 1, n - k))
        return Bound(mean, low, high, n)
    if all(v == values[0] for v in values):
        if values[0] == 0 and (metric in COUNTS or metric == DISRUPTIONS):
            return Bound(0.0, 0.0, -math.log(alpha) / n, n)
        return Bound(mean, mean, mean, n)
    return _mean_bound(values, alpha)


def paired_bound(values: list[Decimal], other: list[Decimal], alpha: float) -> Bound:
    """Bounds on mean(values - other) over the same replications (`bound`'s bounds of the
    differences)."""
    exact = [a - b for a, b in zip(values, other)]
    n = len(exact)
    mean = float(sum(exact, Decimal(0)) / n) if n else math.nan
    if n < 2:
        return Bound(mean, -math.inf, math.inf, n)
    if all(v == exact[0] for v in exact):
        # The same difference in every replication (often so on common random numbers): no t
        # bound exists; the sign test (all n of one sign: p = 0.5^n) decides its side.
        if mean != 0 and 0.5 ** n <= alpha:
            return Bound(mean, mean, math.inf, n) if mean > 0 else Bound(mean, -math.inf, mean, n)
        return Bound(mean, -math.inf, math.inf, n)
    return _mean_bound(exact, alpha)


def _mean_bound(values: list[Decimal], alpha: float) -> Bound:
    """One-sided bounds at alpha on the mean of values that vary."""
    n = len(values)
    centre = sum(values, Decimal(0)) / n
    mean = float(centre)
    if n < 2:
        return Bound(mean, -math.inf, math.inf, n)
    # the spread from exact deviations: money of 1e12 has no float digits left for it
    sd = float(np.std([float(v - centre) for v in values], ddof=1))
    half = float(st.t.ppf(1 - alpha, n - 1)) * sd / math.sqrt(n)
    if skewed(values):          # each end of a two-sided interval at 1 - 2 alpha is a bound at alpha
        iv = hall_interval(values, level=1 - 2 * alpha)
        return Bound(mean, min(mean - half, float(iv.low)), max(mean + half, float(iv.high)), n)
    return Bound(mean, mean - half, mean + half, n)
