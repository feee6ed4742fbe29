"""Replications to a precision (issue 10): add replications in batches until every named metric
of every policy has a 95 % interval no wider than a share of its mean, or a cap is reached.

The interval is the one the table shows (sim.analysis.stats' rule per metric); its relative
half-width is half-width / |mean|. A metric with the same non-zero value in every replication
has nothing left to estimate and counts as met. One that is zero in every replication (no
disruption seen) says nothing about the size of a rare one: it counts as met once the
replications rule out, at 95 %, that a replication sees any with a chance above the target
(Clopper-Pearson with none seen: 1 - 0.05^(1/n) <= target; 29 replications for 10 %, 59 for
5 %). An audit found the old rule (met at once) covering rare bursts 23-40 % of the time.
The next batch aims at the estimated need, n x (relative half-width / target)^2 (a half-width
shrinks as 1/sqrt(n)), or the replications that rule out an unseen event, at least 10 more and
at most four times as many as so far.
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
    relative: float        # half-width / |mean| (inf: no interval yet); none seen: the bound on P(any)
    none_seen: bool = False     # zero in every replication so far


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
                                "relative_half_width": None if s.none_seen or not math.isfinite(s.relative)
                                else round(s.relative, 4),
                                **({"none_seen": True, "p_any_high": round(s.relative, 4)} if s.none_seen else {})}
                               for s in self.shortfalls]}

    def describe(self) -> str:
        target = f"±{percent(self.target)}"
        if self.met:
            return f"precision {target} reached on {', '.join(self.metrics)} after {self.replications} replications"
        worst = sorted(self.shortfalls, key=lambda s: -s.relative)[:3]
        shown = ", ".join(_shown(s) for s in worst)
        more = len(self.shortfalls) - len(worst)
        return (f"precision {target} not reached after {self.replications} replications: {shown}"
                + (f" and {more} more" if more > 0 else ""))


def _shown(s: Shortfall) -> str:
    if s.none_seen:
        return f"{s.metric} of {s.policy} (none seen yet: a chance of up to {s.relative:.0%} per replication)"
    if math.isfinite(s.relative):
        return f"{s.metric} of {s.policy} at ±{s.relative:.0%}"
    return f"{s.metric} of {s.policy} (no interval)"


NONE_SEEN_LEVEL = 0.05


def none_seen_bound(n: int) -> float:
    """95 % upper bound on the chance that a replication sees an event none of n saw (Clopper-Pearson)."""
    return 1 - NONE_SEEN_LEVEL ** (1 / n)


def to_rule_out(target: float) -> int:
    """Replications, all without the event, that bound its chance per replication by `target`."""
    return math.ceil(math.log(NONE_SEEN_LEVEL) / math.log(1 - target))


def percent(share: float) -> str:
    return f"{share * 100:.4g}%"


def relative_half_width(metric: str, values: list[Decimal]) -> float:
    """How far the metric's interval reaches from its mean, relative to |mean|: the half-width of
    a symmetric interval, the farther end of any other (a skewed or clipped interval's half-width
    would understate its long side: a met "±10 %" could leave the high end 17 % above the mean);
    0 for a non-zero constant (see `shortfalls` for a metric zero in every replication)."""
    iv = interval_of(metric, values)
    if iv.method in ("constant", "rule_of_three"):
        return 0.0
    if iv.low is None or iv.mean == 0:
        return math.inf
    return float(max(iv.high - iv.mean, iv.mean - iv.low) / abs(iv.mean))


def shortfalls(per_rep: list[dict], names: list[str], metrics, target: float) -> list[Shortfall]:
    out = []
    for name in names:
        for m in metrics:
            values = [rep[name][m] for rep in per_rep]
            if values and not any(values):
                bound = none_seen_bound(len(values))
                if bound > target:
                    out.append(Shortfall(name, m, bound, none_seen=True))
                continue
            rel = relative_half_width(m, values)
            if rel > target:
                out.append(Shortfall(name, m, rel))
    return out


def next_total(n: int, short: list[Shortfall], target: float, cap: int) -> int:
    needs = [to_rule_out(target) if s.none_seen else n * (s.relative / target) ** 2 if math.isfinite(s.relative)
             else MAX_GROWTH * n for s in short]
    return min(cap, max(n + MIN_BATCH, min(math.ceil(max(needs)), MAX_GROWTH * n)))


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
