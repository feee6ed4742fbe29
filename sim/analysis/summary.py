"""Metrics over replications: each policy's per-metric mean, 95 % interval and values, and the
paired comparisons against the baseline, as summary.json holds them."""
from __future__ import annotations

from decimal import Decimal

from .compare import Paired, compare
from .frontier import DISRUPTIONS
from .metrics import COUNTS, METRICS, MONEY, MONTHLY, MONTHLY_QUANTILES, PROPORTIONS, UNBOUNDED
from .stats import Interval, metric_interval, quantile, t_interval


def _fmt(name: str, value: Decimal) -> str | int:
    if name in MONEY:
        return f"{value:.4f}"
    if value == value.to_integral_value():
        return int(value)
    return f"{value:.4f}"


def interval_of(metric: str, values: list[Decimal]) -> Interval:
    """The metric's interval by the stated rule (sim.analysis.stats); `disruptions` (blocked + cut
    by funding, frontier.DISRUPTIONS) is a count too."""
    return metric_interval(values, count=metric in COUNTS or metric == DISRUPTIONS, proportion=metric in PROPORTIONS,
                           lower=None if metric in UNBOUNDED else Decimal(0))


def aggregate(per_rep: list[dict], policy_names: list[str]) -> dict:
    out = {}
    for name in policy_names:
        out[name] = {}
        for m in METRICS:
            values = [rep[name][m] for rep in per_rep]
            out[name][m] = interval_json(m, values)
    return out


def interval_json(metric: str, values: list[Decimal]) -> dict:
    """One metric of one policy as summary.json holds it: mean, interval and the values."""
    iv = interval_of(metric, values)
    return {"mean": f"{iv.mean:.4f}", "ci95_half_width": f"{iv.half_width:.4f}",
            "ci95_low": None if iv.low is None else f"{iv.low:.4f}",
            "ci95_high": None if iv.high is None else f"{iv.high:.4f}",
            "ci_method": iv.method,
            "replications": [_fmt(metric, v) for v in values]}


def comparisons(per_rep: list[dict], policy_names: list[str], baseline: str) -> dict:
    """summary.json's `comparisons`: {policy: {metric: {diff_mean, half_width, ci95_low, ci95_high,
    p_value, p_holm, significant}}}; empty with one replication."""
    return {name: {m: _paired_json(p) for m, p in per_metric.items()}
            for name, per_metric in compare(per_rep, policy_names, baseline, METRICS).items()}


def _paired_json(p: Paired) -> dict:
    d = p.diff
    return {"diff_mean": f"{d.mean:.4f}", "half_width": f"{d.half_width:.4f}",
            "ci95_low": f"{d.low:.4f}", "ci95_high": f"{d.high:.4f}",
            "p_value": float(f"{p.p_value:.6g}"), "p_holm": float(f"{p.p_holm:.6g}"), "significant": p.significant}


def monthly(per_rep: list[dict], policy_names: list[str]) -> dict:
    """summary.json's `monthly`: {policy: [{month, figure: {mean, (p50, p95)}}]}: each calendar
    month's figures (the first from the warm-up's end) over the replications."""
    out = {}
    for name in policy_names:
        rows = []
        for i, (month, _) in enumerate(per_rep[0][name]["monthly"]):
            row: dict = {"month": month}
            for f in MONTHLY:
                values = [rep[name]["monthly"][i][1][f] for rep in per_rep]
                row[f] = {"mean": f"{t_interval(values).mean:.4f}"}
                if f in MONTHLY_QUANTILES:
                    row[f] |= {"p50": f"{quantile(values, Decimal('0.5')):.4f}",
                               "p95": f"{quantile(values, Decimal('0.95')):.4f}"}
            rows.append(row)
        out[name] = rows
    return out
