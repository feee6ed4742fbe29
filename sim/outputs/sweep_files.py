"""A sweep's files: sweep.csv (every candidate), frontier.csv and frontier.png (the Pareto front)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sim.analysis.frontier import COSTS, DISRUPTIONS, FORFEITED, TIED_UP

from .folder import inert, write_csv
from .plots import _figure, _save

LABELS = {DISRUPTIONS: "calls blocked or cut for want of funds", "average_balance": "average balance (money tied up)",
          "final_balance": "final balance", FORFEITED: "credits forfeited at expiry"}


def _value(v) -> str:
    return inert(str(v))


def write_sweep_csv(path: Path, fields: list[str], rows: list[tuple[str, dict, dict]], metrics: list[str]) -> None:
    """One row per candidate: its name, each swept field's value, each metric's mean, 95 % half-width
    and the interval's ends (a skewness-corrected, Wilson or rule-of-three interval is not symmetric: its
    half-width alone misplaces it; empty ends: no interval)."""
    header = ["candidate", *fields] + [f"{m}_{s}" for m in metrics for s in ("mean", "half_width", "ci95_low", "ci95_high")]
    write_csv(path, header, ([name, *(_value(values[f]) for f in fields)]
                             + [x for m in metrics for x in (stats[m]["mean"], stats[m]["ci95_half_width"],
                                                            stats[m].get("ci95_low") or "", stats[m].get("ci95_high") or "")]
                             for name, values, stats in rows))


def write_frontier_csv(path: Path, fields: list[str], rows: list[tuple[str, dict, dict]]) -> None:
    extra = ["prob_disruption", "credits_purchased", "credits_spent"]
    header = ["candidate", *fields] + [f"{m}_{s}" for m in (*COSTS, *extra) for s in ("mean", "ci95_low", "ci95_high")]

    def ends(stat: dict) -> list:
        return [stat["mean"], stat.get("ci95_low") or stat["mean"], stat.get("ci95_high") or stat["mean"]]

    write_csv(path, header, ([name, *(_value(values[f]) for f in fields)]
                             + [x for m in (*COSTS, *extra) for x in ends(stats[m])]
                             for name, values, stats in rows))


def frontier_plot(path: Path, summary: dict, front: list[str], currency: str, title: str) -> None:
    """Disruption against money tied up for every candidate; the front drawn as a line and its
    points coloured by the money they forfeit. Artists carry gids 'candidates' and 'front'."""
    fig = _figure((8, 5), layout="constrained")
    ax = fig.add_subplot()
    mean = lambda name, m: float(Decimal(summary[name][m]["mean"]))          # noqa: E731 (plot only)
    others = [n for n in summary if n not in set(front)]
    ax.scatter([mean(n, TIED_UP) for n in others], [mean(n, DISRUPTIONS) for n in others], s=14,
               color="0.75", label="dominated candidates", gid="candidates")
    xs, ys = [mean(n, TIED_UP) for n in front], [mean(n, DISRUPTIONS) for n in front]
    order = sorted(range(len(front)), key=lambda i: (xs[i], ys[i]))
    ax.plot([xs[i] for i in order], [ys[i] for i in order], color="0.3", lw=1, zorder=1)
    points = ax.scatter(xs, ys, c=[mean(n, FORFEITED) for n in front], cmap="viridis", s=36, zorder=2,
                        label="Pareto front", gid="front")
    fig.colorbar(points, ax=ax, label=f"{LABELS[FORFEITED]} ({currency})")
    for i in order[:12]:
        ax.annotate(front[i], (xs[i], ys[i]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"{LABELS[TIED_UP]} ({currency}, mean over replications)")
    ax.set_ylabel(f"{LABELS[DISRUPTIONS]} (mean)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)
