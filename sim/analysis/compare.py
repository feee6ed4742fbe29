"""Paired comparisons of every policy against a baseline, on common random numbers.

All policies of a replication bill the same call attempts (and the same payment-decline
draws), so the per-replication difference d_r = policy_r - baseline_r removes the traffic's
variation from the comparison. Per (policy, metric): the mean of d over the replications,
its 95 % interval and the two-sided p-value of "mean difference = 0" that the interval inverts
(p < 0.05 exactly when the interval leaves out 0, before Holm's correction): Student t
(scipy.stats.ttest_1samp), or, when the differences are skewed, the union of t's and Hall's
skewness-corrected t (stats.mean_interval: a plain t test of skewed differences rejects a true
"no difference" more often than 5 %), whose p-value is the larger of the two; when d is the
same non-zero value in every replication, the exact sign test (scipy.stats.binomtest).
p-values are Holm-corrected across the whole table (every policy x metric with any non-zero
difference: a difference that is zero in every replication is not a test and stays p = 1);
`significant` means Holm-adjusted p < 0.05.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

# LAZY: scipy.stats is imported where it is used: it costs ~1.5 s and ~70 MiB, which a run needs
# only once its simulations are over (not in the workers, not at a tenant-year's memory peak).

from .stats import Interval, hall_p_value, mean_interval, t_interval

ALPHA = 0.05


@dataclass(frozen=True)
class Paired:
    diff: Interval            # mean difference (policy - baseline) and its interval
    p_value: float            # unadjusted
    p_holm: float             # Holm-adjusted across the table
    tested: bool              # False: zero difference in every replication

    @property
    def significant(self) -> bool:
        return self.tested and self.p_holm < ALPHA


def paired_difference(values: list[Decimal], baseline: list[Decimal]) -> tuple[Interval, float | None]:
    """(interval of the mean difference, unadjusted p-value or None when no difference at all)."""
    from scipy import stats as st       # LAZY (above)
    if len(values) != len(baseline):
        raise ValueError("paired values need the same replications")
    d = [a - b for a, b in zip(values, baseline)]
    n = len(d)
    if all(x == d[0] for x in d):                   # no variance: the t statistic is undefined
        return t_interval(d), None if d[0] == 0 else float(st.binomtest(n, n, 0.5).pvalue)
    iv = mean_interval(d)
    p = float(st.ttest_1samp(np.array([float(v) for v in d]), 0.0).pvalue)
    # the union of t's and Hall's intervals (stats.mean_interval) leaves out 0 when both do
    return iv, max(p, hall_p_value(d)) if iv.method == "hall" else p


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given), capped at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def compare(per_rep: list[dict], names: list[str], baseline: str, metrics) -> dict[str, dict[str, Paired]]:
    """{policy: {metric: Paired}} for every policy but the baseline; needs 2+ replications."""
    if len(per_rep) < 2:
        return {}
    raw = {}
    for name in names:
        if name == baseline:
            continue
        for m in metrics:
            raw[(name, m)] = paired_difference([rep[name][m] for rep in per_rep],
                                               [rep[baseline][m] for rep in per_rep])
    tested = [k for k, (_, p) in raw.items() if p is not None]
    adjusted = dict(zip(tested, holm([raw[k][1] for k in tested])))
    out: dict[str, dict[str, Paired]] = {}
    for (name, m), (iv, p) in raw.items():
        out.setdefault(name, {})[m] = Paired(iv, 1.0 if p is None else p, adjusted.get((name, m), 1.0), p is not None)
    return out
