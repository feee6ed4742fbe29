"""How many replications `run` does (issue 10): a fixed `-r R`, replications to a precision
(`--precision`), or by default the rule below, so that the table is not misleading.

Default rule (no -r, no --precision): 10 replications (enough for every interval kind of the
table, skewness correction included), then batches until the 95 % half-width of calls_blocked, calls_cut
and credits_spent is within ±10 % of the mean for every policy, at most 40 replications; the
run warns about any metric still poorer than that.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.errors import InputError
from sim.parallel.precision import DEFAULT_METRICS, percent

AUTO_START, AUTO_TARGET, AUTO_CAP, PRECISION_CAP = 10, 0.10, 40, 1000


@dataclass(frozen=True)
class Plan:
    start: int                  # replications of the first batch
    cap: int                    # at most this many
    target: float               # relative 95 % half-width aimed at (or warned about)
    metrics: tuple[str, ...]
    rule: str                   # said in summary.json
    advice: str                 # said with the warning when the target is missed


def _share(text: str) -> float:
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise InputError("--precision", f"expected a share of the mean like 5% or 0.05 (between 0 and 1), got {text!r}")
    return value


def _metrics(text: str | None) -> tuple[str, ...]:
    from sim.analysis.metrics import METRICS
    if text is None:
        return DEFAULT_METRICS
    names = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in names if m not in METRICS]
    if bad or not names:
        raise InputError("--precision-metrics", f"expected metric names separated by commas (of {', '.join(METRICS)}), "
                                                f"got {text!r}")
    return names


MOST_REPLICATIONS = 10_000     # -r 1,000,000 queued millions of tasks for days and would not stop


def check_replications(value: int | None, option: str = "--replications") -> None:
    """A count of replications a user gives: 1 to MOST_REPLICATIONS (None: the default)."""
    if value is not None and not 1 <= value <= MOST_REPLICATIONS:
        raise InputError(option, f"expected a whole number from 1 to {MOST_REPLICATIONS:,}, got {value:,}")


def replication_plan(args) -> Plan:
    check_replications(args.replications)
    check_replications(args.max_replications, "--max-replications")
    metrics = _metrics(args.precision_metrics)
    named = ", ".join(metrics)
    if args.precision is not None:
        target = _share(args.precision)
        cap = args.max_replications or PRECISION_CAP
        start = min(args.replications or AUTO_START, cap)
        return Plan(start, cap, target, metrics,
                    f"--precision {percent(target)}: from {start} replications, batches until {named} are within "
                    f"±{percent(target)} for every policy, at most {cap}",
                    "raise --max-replications, or accept a wider --precision")
    if args.replications is not None:
        if args.max_replications is not None:
            raise InputError("--max-replications", "applies with --precision or the default rule, not with -r")
        return Plan(args.replications, args.replications, AUTO_TARGET, metrics,
                    f"-r {args.replications}: fixed", "use --precision 10% (or more replications) for a "
                                                      "table that can be relied on")
    cap = args.max_replications or AUTO_CAP
    start = min(AUTO_START, cap)
    return Plan(start, cap, AUTO_TARGET, metrics,
                f"default: {start} replications, then batches until {named} are within ±{percent(AUTO_TARGET)} "
                f"for every policy, at most {cap}",
                "use --precision 10% --max-replications 1000 to go on")
