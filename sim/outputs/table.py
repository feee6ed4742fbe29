"""The policy comparison table (printed and comparison.md) and summary.json."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sim.analysis.metrics import MONEY, PROPORTIONS

from .rounding import count_text, exact_mean, reconciliation, shown, symmetric

# The funding part of the disruptions first: what choosing a funding policy changes (R11).
TABLE_METRICS = [("calls_blocked_funding", "blocked by funding"), ("calls_cut_funding", "cut by funding"),
                 ("users_affected_funding", "users hit by funding"), ("prob_disruption", "P(disruption)"),
                 ("minutes_lost", "minutes lost"), ("calls_blocked", "blocked, any reason"),
                 ("hours_exhausted", "hours exhausted"), ("credits_purchased", "purchased"),
                 ("credits_spent", "spent"), ("credits_expired", "expired"), ("final_balance", "final balance"),
                 ("average_balance", "avg balance"), ("overdraft", "overdraft / invoiced"),
                 ("recharges_failed", "recharges failed")]


def _number(value: Decimal, money: bool) -> str:
    return shown(value) if money else count_text(value)


def interval_cell(stat: dict, money: bool) -> str:
    """A metric's mean and interval as the table shows it: `mean ± h` for a symmetric interval,
    `mean (low–high)` for an asymmetric or bounded one, `0 (≤ x at 95 %)` by the rule of three,
    and a value that was the same in every replication as such, never `± 0.00`."""
    mean = exact_mean(stat)
    text = _number(mean, money)
    method = stat.get("ci_method", "t")
    if method == "none":
        return text
    if method == "constant":
        return f"{text} (every replication)"
    low, high = Decimal(stat["ci95_low"]), Decimal(stat["ci95_high"])
    if method == "rule_of_three":
        return f"0 (≤ {shown(high)} at 95 %)"
    centre = Decimal(stat["mean"])
    if method == "t" and symmetric(centre, low, high):     # not clipped
        return f"{text} ± {shown(stat['ci95_half_width'])}"
    return f"{text} ({shown(low)}–{shown(high)})"


def comparison_table(summary: dict, postpay=()) -> str:
    """Policy rows, TABLE_METRICS columns; a postpay policy's overdraft is what it is invoiced,
    and says so. Below the table, a line per policy whose rounded columns do not add up."""
    from tabulate import tabulate

    def cell(name, stats, m):
        text = interval_cell(stats[m], m in MONEY or m in PROPORTIONS)
        return f"{text} invoiced" if m == "overdraft" and name in postpay else text

    rows = [[name] + [cell(name, stats, m) for m, _ in TABLE_METRICS] for name, stats in summary.items()]
    table = tabulate(rows, headers=["policy"] + [label for _, label in TABLE_METRICS], tablefmt="github",
                     disable_numparse=True)
    notes = reconciliation(summary)
    return table + ("\n\nRounding: " + "\n".join(notes) if notes else "")


def write_summary(folder: Path, doc: dict) -> None:
    (folder / "summary.json").write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n", encoding="utf-8")
