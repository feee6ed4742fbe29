"""Metrics over replications: each policy's per-metric mean, 95 % half-width and values."""
from __future__ import annotations

from decimal import Decimal

from .metrics import METRICS, MONEY
from .stats import mean_ci


def _fmt(name: str, value: Decimal) -> str | int:
    if name in MONEY:
        return f"{value:.4f}"
    if value == value.to_integral_value():
        return int(value)
    return f"{value:.4f}"


def aggregate(per_rep: list[dict], policy_names: list[str]) -> dict:
    out = {}
    for name in policy_names:
        out[name] = {}
        for m in METRICS:
            values = [rep[name][m] for rep in per_rep]
            mean, half = mean_ci(values)
            out[name][m] = {"mean": f"{mean:.4f}", "ci95_half_width": f"{half:.4f}",
                            "replications": [_fmt(m, v) for v in values]}
    return out
