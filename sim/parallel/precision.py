"""Replications to a precision (issue 10): add replications in batches until every named metric
of every policy has a 95 % interval no wider than a share of its mean, or a cap is reached.

The interval is the one the table shows (sim.analysis.stats' rule per metric); its relative
half-width is half-width / |mean|. A metric that is the same in every replication (a constant,
or zero everywhere: shown with its rule-of-three bound) has nothing left to estimate and counts
as met. The next batch aims at the estimated need, n x (relative half-width / target)^2 (a
half-width shrinks as 1/sqrt(n)), at least 10 more and at most four times as many as so far.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from sim.analysis.summary import interval_of

from .runner import run_replications

DEFAULT_METRICS = ("calls_blocked", "calls_cut", "credits_spent")
MIN_BATCH, MAX_GROWTH = 10, 4


@dataclass(frozen=True)
class Shortfall:
    policy: str
    metric: str
    relative: float        # half-width / |mean| (inf: no interval yet)


@dataclass
class Precision:
    target: float                   # e.g. 0.05
    metrics: tuple[str, ...]
    replications: int = 0
    met: bool = False
    shortfalls: tuple[Shortfall, ...] = ()

    def as_json(self, rule: str) -> dict:
        return {"rule": rule, "target": percent(self.target), "metrics": list(self.metrics), "met": self.met,
                "replications": self.replications,
                "shortfalls": [{"policy": s.policy, "metric": s.metric,
                                "relative_half_width": round(s.relative, 4) if math.isfinite(s.relative) else None}
                               for s in self.shortfalls]}

    def describe(self) -> str:
        target = f"±{percent(self.target)}"
        if self.met:
            return f"precision {target} reached on {', '.join(self.metrics)} after {self.replications} replications"
        worst = sorted(self.shortfalls, key=lambda s: -s.relative)[:3]
        shown = ", ".join(f"{s.metric} of {s.policy} at ±{s.relative:.0%}" if math.isfinite(s.relative)
                          else f"{s.metric} of {s.policy} (no interval)" for s in worst)
        more = len(self.shortfalls) - len(worst)
        return (f"precision {target} not reached after {self.replications} replications: {shown}"
                + (f" and {more} more" if more > 0 else ""))


def percent(share: float) -> str:
    return f"{share * 100:.4g}%"


def relative_half_width(metric: str, values: list[Decimal]) -> float:
    iv = interval_of(metric, values)
    if iv.method in ("constant", "rule_of_three"):
        return 0.0
    if iv.low is None or iv.mean == 0:
        return math.inf
    return float(iv.half_width / abs(iv.mean))


def shortfalls(per_rep: list[dict], names: list[str], metrics, target: float) -> list[Shortfall]:
    out = []
    for name in names:
        for m in metrics:
            rel = relative_half_width(m, [rep[name][m] for rep in per_rep])
            if rel > target:
                out.append(Shortfall(name, m, rel))
    return out


def next_total(n: int, short: list[Shortfall], target: float, cap: int) -> int:
    worst = max(s.relative for s in short)
    need = n * (worst / target) ** 2 if math.isfinite(worst) else MAX_GROWTH * n
    return min(cap, max(n + MIN_BATCH, min(math.ceil(need), MAX_GROWTH * n)))


def replicate_to_precision(engine, job, start: int, target: float, metrics, cap: int) -> tuple[list[dict], Precision]:
    """Per-replication metrics of every policy of the job, and whether the precision was met."""
    names = [p.name for p in job.world.policies]
    per_rep = run_replications(engine, job, range(min(start, cap)))
    while True:
        short = shortfalls(per_rep, names, metrics, target)
        n = len(per_rep)
        if not short or n >= cap:
            return per_rep, Precision(target, tuple(metrics), n, not short, tuple(short))
        per_rep += run_replications(engine, job, range(n, next_total(n, short, target, cap)))
