"""monthly.png: per calendar month and policy, credits spent (mean, with the P50–P95 band
across replications), credits expired (mean; with the month they expire) and hours with the
balance exhausted (mean and P95), from summary.json's `monthly`."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from .plots import COLOURS, _figure, _save


def monthly_figure(world, monthly: dict):
    fig = _figure((11, 8.5), layout="constrained")
    spent_ax, expired_ax, hours_ax = fig.subplots(3, 1, sharex=True)
    months = [r["month"] for r in next(iter(monthly.values()))] if monthly else []
    x = np.arange(len(months))
    for i, (name, rows) in enumerate(monthly.items()):
        colour = COLOURS[i % len(COLOURS)]

        def series(figure, key):
            return np.array([float(Decimal(r[figure][key])) for r in rows])

        spent_ax.plot(x, series("spent", "mean"), marker="o", color=colour, label=name, gid=f"spent:{name}")
        spent_ax.fill_between(x, series("spent", "p50"), series("spent", "p95"), color=colour, alpha=0.15)
        expired_ax.plot(x, series("expired", "mean"), marker="o", color=colour, label=name, gid=f"expired:{name}")
        hours_ax.plot(x, series("hours_exhausted", "mean"), marker="o", color=colour, label=name,
                      gid=f"hours:{name}")
        hours_ax.plot(x, series("hours_exhausted", "p95"), linestyle=":", color=colour)
    spent_ax.set_ylabel(f"credits spent ({world.scenario.currency})")
    spent_ax.set_title("credits spent per month: mean, band P50–P95 across replications", fontsize=9, loc="left")
    expired_ax.set_ylabel(f"credits expired ({world.scenario.currency})")
    expired_ax.set_title("credits forfeited at expiry, in the month they expire: mean", fontsize=9, loc="left")
    hours_ax.set_ylabel("hours exhausted")
    hours_ax.set_title("hours with the balance exhausted per month: mean (line), P95 (dotted)", fontsize=9,
                       loc="left")
    hours_ax.set_xticks(x, months, rotation=45 if len(months) > 12 else 0)
    for ax in (spent_ax, expired_ax, hours_ax):
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_ylim(bottom=0)
    spent_ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"{world.scenario.name}: months", fontsize=11)
    return fig


def monthly_plot(path: Path, world, monthly: dict) -> None:
    _save(monthly_figure(world, monthly), path)
