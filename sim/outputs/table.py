"""The policy comparison table (printed and comparison.md) and summary.json."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sim.analysis.metrics import MONEY, PROPORTIONS


TABLE_METRICS = [("calls_blocked", "blocked"), ("calls_cut", "cut"), ("prob_disruption", "P(disruption)"),
                 ("minutes_lost", "minutes lost"), ("users_affected", "users affected"),
                 ("hours_exhausted", "hours exhausted"), ("credits_purchased", "purchased"),
                 ("credits_spent", "spent"), ("credits_expired", "expired"), ("final_balance", "final balance"),
                 ("overdraft", "overdraft"), ("recharges_failed", "recharges failed")]


def _number(value: Decimal, money: bool) -> str:
    if money:
        return f"{value:.2f}"
    return f"{value:.1f}" if value != value.to_integral_value() else f"{value:.0f}"


def interval_cell(stat: dict, money: bool) -> str:
    """A metric's mean and interval as the table shows it: `mean ± h` for a symmetric interval,
    `mean (low–high)` for an asymmetric or bounded one, `0 (≤ x at 95 %)` by the rule of three,
    and a value that was the same in every replication as such, never `± 0.00`."""
    mean = Decimal(stat["mean"])
    text = _number(mean, money)
    method = stat.get("ci_method", "t")
    if method == "none":
        return text
    if method == "constant":
        return f"{text} (every replication)"
    low, high = Decimal(stat["ci95_low"]), Decimal(stat["ci95_high"])
    if method == "rule_of_three":
        return f"0 (≤ {high:.2f} at 95 %)"
    if method == "t" and mean - low == high - mean:
        return f"{text} ± {Decimal(stat['ci95_half_width']):.2f}"
    return f"{text} ({low:.2f}–{high:.2f})"


def comparison_table(summary: dict) -> str:
    from tabulate import tabulate

    rows = [[name] + [interval_cell(stats[m], m in MONEY or m in PROPORTIONS) for m, _ in TABLE_METRICS]
            for name, stats in summary.items()]
    return tabulate(rows, headers=["policy"] + [label for _, label in TABLE_METRICS], tablefmt="github",
                    disable_numparse=True)


def write_summary(folder: Path, doc: dict) -> None:
    (folder / "summary.json").write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n", encoding="utf-8")
