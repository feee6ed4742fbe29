"""Replication statistics: mean and 95 % Student-t confidence half-width, exactly.

Money metrics stay Decimal (mean and half-width quantised to 4 places); counts
and minutes use Decimal too, so summaries are identical on every machine.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

# Two-sided 95 % Student t quantiles t(0.975, df).
_T975 = {1: "12.706", 2: "4.303", 3: "3.182", 4: "2.776", 5: "2.571", 6: "2.447", 7: "2.365",
         8: "2.306", 9: "2.262", 10: "2.228", 11: "2.201", 12: "2.179", 13: "2.160", 14: "2.145",
         15: "2.131", 16: "2.120", 17: "2.110", 18: "2.101", 19: "2.093", 20: "2.086", 21: "2.080",
         22: "2.074", 23: "2.069", 24: "2.064", 25: "2.060", 26: "2.056", 27: "2.052", 28: "2.048",
         29: "2.045", 30: "2.042", 40: "2.021", 60: "2.000", 120: "1.980"}


def t975(df: int) -> Decimal:
    if df in _T975:
        return Decimal(_T975[df])
    # Between tabulated rows take the next smaller df: its t is larger, so the
    # interval errs on the wide (conservative) side.
    return Decimal(_T975[max(k for k in _T975 if k <= df)])


Q4 = Decimal("0.0001")


def mean_ci(values: list[Decimal]) -> tuple[Decimal, Decimal]:
    """(mean, half-width) of per-replication values; half-width 0 for one replication."""
    n = len(values)
    with localcontext() as ctx:
        ctx.prec = 40
        mean = sum(values, Decimal(0)) / n
        if n < 2:
            return mean.quantize(Q4, ROUND_HALF_UP), Decimal(0).quantize(Q4)
        var = sum(((v - mean) ** 2 for v in values), Decimal(0)) / (n - 1)
        half = t975(n - 1) * (var / n).sqrt()
        return mean.quantize(Q4, ROUND_HALF_UP), half.quantize(Q4, ROUND_HALF_UP)
