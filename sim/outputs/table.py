"""The policy comparison table (printed and comparison.md) and summary.json."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sim.analysis.metrics import MONEY


TABLE_METRICS = [("calls_blocked", "blocked"), ("calls_cut", "cut"), ("minutes_lost", "minutes lost"),
                 ("users_affected", "users affected"), ("hours_exhausted", "hours exhausted"),
                 ("credits_purchased", "purchased"), ("credits_spent", "spent"),
                 ("credits_expired", "expired"), ("final_balance", "final balance"),
                 ("overdraft", "overdraft"), ("recharges_failed", "recharges failed")]


def comparison_table(summary: dict, replications: int) -> str:
    from tabulate import tabulate

    def cell(stat, money):
        mean = Decimal(stat["mean"])
        text = f"{mean:.2f}" if money else (f"{mean:.1f}" if mean != mean.to_integral_value() else f"{mean:.0f}")
        half = Decimal(stat["ci95_half_width"])
        return text if replications < 2 else f"{text} ± {half:.2f}"

    rows = [[name] + [cell(stats[m], m in MONEY) for m, _ in TABLE_METRICS] for name, stats in summary.items()]
    return tabulate(rows, headers=["policy"] + [label for _, label in TABLE_METRICS], tablefmt="github",
                    disable_numparse=True)


def write_summary(folder: Path, doc: dict) -> None:
    (folder / "summary.json").write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n", encoding="utf-8")
