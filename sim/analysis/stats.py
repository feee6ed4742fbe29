"""Confidence intervals over replications (95 %), one function per kind, and the rule that
picks one per metric (`metric_interval`). Every function takes the per-replication values
and returns an `Interval`; the run's summary, its comparisons and the precision loop all
call these.

The rule (README, "Reading the comparison table"):
- one replication: no interval;
- the same value in every replication: that value, no interval ("constant"); a count that is
  zero in every replication: 0 with the rule-of-three upper bound 3/n ("rule_of_three");
- `prob_disruption` (a 0/1 value per replication): Wilson score interval ("wilson");
- values skewed (|bias-corrected sample skewness| > 1) from at least 10 replications: Student t
  corrected for the skewness by Hall's transformation, never shorter than t's on either side
  ("hall", `mean_interval`);
- otherwise Student t ("t");
and no interval reaches past the metric's natural bound (counts and money that cannot be
negative stay >= 0, a probability in [0, 1]).

Means are exact Decimals; interval ends are quantised half-up to 4 places.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np

# LAZY: scipy.stats is imported where it is used: it costs ~1.5 s and ~70 MiB, which a run needs
# only once its simulations are over (not in the workers, not at a tenant-year's memory peak).

LEVEL = 0.95
Q4 = Decimal("0.0001")
SKEW_LIMIT = 1.0              # |skewness| above this: Hall's skewness-corrected t
SKEW_MIN_N = 10               # fewer replications estimate the skewness too poorly to correct by it


@dataclass(frozen=True)
class Interval:
    mean: Decimal
    low: Decimal | None       # None: no interval (one replication)
    high: Decimal | None
    method: str               # none, constant, rule_of_three, wilson, hall, t

    @property
    def half_width(self) -> Decimal:
        """Half the interval's width (the ± of a symmetric interval); 0 without an interval."""
        if self.low is None:
            return Decimal(0).quantize(Q4)
        return ((self.high - self.low) / 2).quantize(Q4, ROUND_HALF_UP)


def _q(x) -> Decimal:
    q = Decimal(x).quantize(Q4, ROUND_HALF_UP)
    return q if q else abs(q)            # never "-0.0000"


def _mean(values: list[Decimal]) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return sum(values, Decimal(0)) / len(values)


def t_quantile(df: int, level: float = LEVEL) -> Decimal:
    """Two-sided Student t quantile, to 6 decimals (the same on every machine)."""
    from scipy import stats as st       # LAZY (above)
    return Decimal(f"{st.t.ppf((1 + level) / 2, df):.6f}")


def t_interval(values: list[Decimal], lower: Decimal | None = None, upper: Decimal | None = None) -> Interval:
    """Student t interval of the mean, exact Decimal arithmetic, clipped to [lower, upper]."""
    n = len(values)
    mean = _mean(values)
    if n < 2:
        return Interval(_q(mean), None, None, "none")
    with localcontext() as ctx:
        ctx.prec = 40
        var = sum(((v - mean) ** 2 for v in values), Decimal(0)) / (n - 1)
        half = t_quantile(n - 1) * (var / n).sqrt()
    return _clip(Interval(_q(mean), _q(mean - half), _q(mean + half), "t"), lower, upper)


def wilson_interval(successes: int, n: int) -> Interval:
    """Wilson score interval of a proportion (successes of n)."""
    from scipy import stats as st       # LAZY (above)
    if n < 1:
        raise ValueError("a proportion needs n >= 1")
    p = successes / n
    z = st.norm.ppf((1 + LEVEL) / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    mean = Decimal(successes) / Decimal(n)
    return Interval(_q(mean), _q(max(0.0, centre - half)), _q(min(1.0, centre + half)), "wilson")


def rule_of_three(n: int) -> Decimal:
    """95 % upper bound on a count's mean per replication when all n replications saw none:
    the total over n replications is Poisson(n λ), and P(0) = e^(-nλ) >= 0.05 gives λ <= 3/n."""
    return _q(Decimal(3) / Decimal(n))


def hall_interval(values: list[Decimal], lower: Decimal | None = None, level: float = LEVEL,
                  upper: Decimal | None = None) -> Interval:
    """Student t interval corrected for the values' skewness by Hall's transformation (P. Hall,
    "On the removal of skewness by transformation", JRSS B 54, 1992): the studentised mean
    T = sqrt(n) (mean - mu) / s is skewed when the values are, so it is compared with the t
    quantile c after the monotone map g(T) = T + a T^2 + a^2 T^3 / 3 + b, a = gamma / (3 sqrt(n)),
    b = gamma / (6 sqrt(n)) (gamma: the values' skewness). Inverted, mu lies in
    [mean - s/sqrt(n) g^-1(c), mean - s/sqrt(n) g^-1(-c)], g^-1(y) = (cbrt(1 + 3a (y - b)) - 1) / a.

    Why not a bootstrap: on skewed metrics BCa covered hardly more often than t (lognormal
    sigma 1, 10 replications: 83 % against 82 %), Hall's interval 89 %, as well as a
    bootstrap-t and without resampling (README, "Reading the comparison table"). `level` is
    two-sided; a one-sided bound at alpha is an end at level 1 - 2 alpha. Exact Decimal
    arithmetic."""
    mean, scale, a, b = _hall_terms(values)
    if scale == 0:
        return Interval(_q(mean), _q(mean), _q(mean), "hall")
    with localcontext() as ctx:
        ctx.prec = 40
        c = t_quantile(len(values) - 1, level)

        def g_inverse(y: Decimal) -> Decimal:
            if a == 0:
                return y - b
            u = 1 + 3 * a * (y - b)
            root = abs(u) ** (Decimal(1) / 3)
            return ((root if u >= 0 else -root) - 1) / a

        low, high = mean - scale * g_inverse(c), mean - scale * g_inverse(-c)
    return _clip(Interval(_q(mean), _q(low), _q(high), "hall"), lower, upper)


def hall_p_value(values: list[Decimal]) -> float:
    """Two-sided p-value of "mean = 0" that Hall's interval inverts: p < 1 - LEVEL exactly
    when `hall_interval` at LEVEL leaves out 0 (up to its rounding). The larger of it and t's
    inverts `mean_interval`'s union. The values must vary."""
    from scipy import stats as st       # LAZY (above)
    mean, scale, a, b = _hall_terms(values)
    with localcontext() as ctx:
        ctx.prec = 40
        t = mean / scale
        g = t + a * t * t + a * a * t ** 3 / 3 + b
    return float(2 * st.t.sf(abs(float(g)), len(values) - 1))


def _hall_terms(values: list[Decimal]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(mean, s / sqrt(n), a, b) of Hall's transformation (`hall_interval`), exactly: a and b
    from the values' skewness gamma = m3 / m2^1.5; scale 0 when they do not vary."""
    n = len(values)
    mean = _mean(values)
    with localcontext() as ctx:
        ctx.prec = 40
        dev = [v - mean for v in values]
        m2 = sum((d * d for d in dev), Decimal(0)) / n
        if m2 == 0:
            return mean, Decimal(0), Decimal(0), Decimal(0)
        gamma = sum((d ** 3 for d in dev), Decimal(0)) / n / (m2 * m2.sqrt())
        root_n = Decimal(n).sqrt()
        return mean, (m2 * n / (n - 1)).sqrt() / root_n, gamma / (3 * root_n), gamma / (6 * root_n)


def skewed(values: list[Decimal]) -> bool:
    """The rule's test for Hall's correction: enough replications and |skewness| > SKEW_LIMIT."""
    return len(values) >= SKEW_MIN_N and abs(skewness(values)) > SKEW_LIMIT


def skewness(values: list[Decimal]) -> float:
    from scipy import stats as st       # LAZY (above)
    if len(values) < 3 or all(v == values[0] for v in values):
        return 0.0
    mean = _mean(values)        # deviations taken exactly: money of 1e12 has no float digits left
    x = np.array([float(v - mean) for v in values])
    return float(st.skew(x, bias=False))


def metric_interval(values: list[Decimal], *, count: bool, lower: Decimal | None = Decimal(0),
                    proportion: bool = False) -> Interval:
    """The interval the module docstring's rule picks for one metric's per-replication values.
    `count`: the values are counts of events (the rule of three applies); `lower`: the natural
    lower bound (None: unbounded, e.g. a balance that may be owed); `proportion`: 0/1 values."""
    n = len(values)
    if n < 2:
        return Interval(_q(_mean(values)), None, None, "none")
    if proportion:
        return wilson_interval(sum(1 for v in values if v), n)
    if all(v == values[0] for v in values):
        if count and values[0] == 0:
            return Interval(_q(0), _q(0), rule_of_three(n), "rule_of_three")
        return Interval(_q(values[0]), None, None, "constant")
    return mean_interval(values, lower)


def mean_interval(values: list[Decimal], lower: Decimal | None = None) -> Interval:
    """The rule's interval of a mean that varies: t, or when the values are skewed, the union
    of t's and Hall's. Why the union: one outlier among symmetric heavy-tailed values (the usual
    shape of a paired difference between two bursty policies) makes the sample skewed, and
    Hall's interval alone then shrinks on the side away from it, covering less than t (a
    review: t with 3 df, 40 replications, 93 % against t's 95 %); the union keeps t's coverage
    there and Hall's on skewed values, for 5-7 % more width."""
    t = t_interval(values, lower)
    if not skewed(values):
        return t
    hall = hall_interval(values, lower)
    return Interval(t.mean, min(t.low, hall.low), max(t.high, hall.high), "hall")


def _clip(iv: Interval, lower: Decimal | None, upper: Decimal | None) -> Interval:
    low, high = iv.low, iv.high
    if lower is not None:
        low, high = max(low, lower), max(high, lower)
    if upper is not None:
        low, high = min(low, upper), min(high, upper)
    return Interval(iv.mean, low, high, iv.method)


def quantile(values: list[Decimal], q: Decimal) -> Decimal:
    """The q-quantile with linear interpolation between order statistics (numpy's default,
    Hyndman & Fan type 7), in exact Decimal arithmetic, quantised to 4 places."""
    x = sorted(values)
    h = (len(x) - 1) * Decimal(q)
    lo = int(h)
    frac = h - lo
    value = x[lo] if frac == 0 else x[lo] + frac * (x[lo + 1] - x[lo])
    return _q(value)
