"""The results folder's pictures (scenario-format.md), PNG through matplotlib's Agg renderer.

- `<policy>/balance.png`: the credit balance over time from the ledger journal (R7) as
  ledger.csv has it (its rows' balance_after, per call or per increment), with purchases,
  auto-recharges, failed recharges (R8, from the notifications), lot expiries and
  balance-exhausted periods (R9) marked, and blocked / cut calls (R11) per day in a panel below.
- `comparison.png`: per policy, disruptions (blocked + cut calls) beside credits spent
  and credits expired, with 95 % CI error bars from the summary.

Figures are built on `matplotlib.figure.Figure` with an Agg canvas: no pyplot, no
global state, safe in the replication worker processes. Money becomes float here
for drawing only; every number written to a file elsewhere stays exact.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from models.money import SCALE

from models.ledger import EXPIRE, PURCHASE

from sim.analysis.frontier import DISRUPTIONS
from sim.analysis.summary import interval_json
from .journal import KINDS, journal_columns

from .rounding import exact_mean

DPI = 100
BALANCE_SIZE = (11, 6.5)          # inches: 1100 x 650 px
MAX_POINTS = 20_000               # longer balance series are reduced to a min/max envelope
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def _figure(size, layout: str | None = None) -> Figure:
    fig = Figure(figsize=size, dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": "pstn-credits-sim"})


# ---- balance.png -------------------------------------------------------------------------

def _envelope(t: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """A step series too long to draw, reduced to each time bin's min and max (what pixels show)."""
    edges = np.linspace(t[0], t[-1] + 1, bins + 1)
    idx = np.searchsorted(t, edges[:-1], side="left")
    idx = np.unique(idx[idx < len(t)])
    lo = np.minimum.reduceat(y, idx)
    hi = np.maximum.reduceat(y, idx)
    x = np.repeat(t[idx], 2)
    v = np.empty(2 * len(idx))
    v[0::2], v[1::2] = hi, lo
    return x, v


def balance_plot(path: Path, world, attempts, run, cols: dict | None = None) -> None:
    """Write `path` (balance.png) for one policy's replication-0 run; `cols`: its journal's
    columns when already read (journal_columns)."""
    _save(balance_figure(world, attempts, run, cols), path)


def balance_figure(world, attempts, run, cols: dict | None = None) -> Figure:
    """The balance figure. Its artists carry gids for tests: 'balance' (the line), 'trigger',
    'purchases', 'recharges', 'recharge_failed', 'expiries', 'exhausted', 'blocked', 'cut'."""
    account = run.account
    policy = run.policy
    clock = world.clock
    horizon = world.horizon
    currency = world.scenario.currency
    journal = account.ledger.journal
    start = np.datetime64(clock.start.replace(tzinfo=None), "s")

    def when(seconds) -> np.ndarray:
        return start + np.asarray(seconds, dtype="int64").astype("timedelta64[s]")

    if cols is None:
        cols = journal_columns(journal)      # whole columns: no Python loop over millions of rows
    t = cols["t"]
    bal = cols["balance"] / SCALE
    # The balance before the first entry is 0; it holds until the end of the horizon.
    t_line = np.concatenate(([0], t, [max(horizon, int(t[-1]) if len(t) else 0)]))
    b_line = np.concatenate(([0.0], bal, [bal[-1] if len(bal) else 0.0]))

    def balance_at(instants: np.ndarray) -> np.ndarray:
        return b_line[np.searchsorted(t_line, instants, side="right") - 1]

    fig = _figure(BALANCE_SIZE)         # fixed margins: a constrained layout costs 60 % more per picture
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    fig.subplots_adjust(left=0.075, right=0.985, top=0.935, bottom=0.075, hspace=0.2)
    title = f"{world.scenario.name} / {policy.name}: credit balance"
    if policy.billing == "postpay":
        title += " (postpay: below 0 = invoiced)"
    fig.suptitle(title, fontsize=12)

    if len(t_line) > MAX_POINTS:
        x, y = _envelope(t_line, b_line, MAX_POINTS // 2)
        top.plot(when(x), y, color="#1f77b4", linewidth=0.8, gid="balance")
    else:
        top.plot(when(t_line), b_line, drawstyle="steps-post", color="#1f77b4", linewidth=1.0, gid="balance")
    handles = [Line2D([], [], color="#1f77b4", label="balance")]

    if policy.auto_recharge is not None:
        trig = policy.auto_recharge.trigger / SCALE
        top.axhline(trig, color="#7f7f7f", linestyle="--", linewidth=0.8, gid="trigger")
        handles.append(Line2D([], [], color="#7f7f7f", linestyle="--", label=f"auto-recharge trigger {trig:.2f}"))
    if policy.billing == "postpay" or (len(bal) and bal.min() < 0):
        top.axhline(0, color="black", linewidth=0.6)

    def mark(entries, marker, colour, label, gid, size=60):
        if not entries:
            return
        x = np.array([e[0] for e in entries], dtype=np.int64)
        y = np.array([e[1] for e in entries], dtype=np.float64)
        top.scatter(when(x), y, marker=marker, color=colour, s=size, zorder=3, edgecolors="none", gid=gid)
        handles.append(Line2D([], [], linestyle="", marker=marker, color=colour, label=f"{label} ({len(entries)})"))

    kind = cols["kind"]
    bought = np.flatnonzero(kind == KINDS.index(PURCHASE))
    auto = np.array([cols["texts"].get(i, ("", ""))[1].startswith("auto") for i in bought.tolist()], dtype=bool)

    def points(rows: np.ndarray) -> list[tuple[int, float]]:
        return list(zip(t[rows].tolist(), bal[rows].tolist()))

    purchases = points(bought[~auto]) if len(bought) else []
    recharges = points(bought[auto]) if len(bought) else []
    expiries = points(np.flatnonzero(kind == KINDS.index(EXPIRE)))
    failed_t = np.array([n[0] for n in account.notifications if n[1] == "recharge_failed"], dtype=np.int64)
    failed = list(zip(failed_t.tolist(), balance_at(failed_t).tolist()))
    mark(purchases, "^", "#2ca02c", "purchase / top-up", "purchases")
    mark(recharges, "^", "#17becf", "auto-recharge", "recharges")
    mark(failed, "X", "#d62728", "recharge failed", "recharge_failed", size=70)
    mark(expiries, "v", "#ff7f0e", "lot expired", "expiries")

    # Balance-exhausted periods (R9): from each notification to the next purchase.
    buys = t[bought]
    spans = 0
    for n in account.notifications:
        if n[1] != "balance_exhausted":
            continue
        later = buys[buys >= n[0]]
        end = int(later[0]) if len(later) else horizon
        top.axvspan(when(n[0]), when(end), color="#d62728", alpha=0.08, linewidth=0, gid="exhausted")
        spans += 1
    if spans:
        handles.append(Patch(color="#d62728", alpha=0.15, label=f"balance exhausted ({spans})"))
    top.set_ylabel(f"balance ({currency})")
    top.grid(True, alpha=0.3)
    top.legend(handles=handles, loc="best", fontsize=8, framealpha=0.9)

    _disruption_panel(bottom, account, run, attempts, horizon, when)
    bottom.set_xlim(when(0), when(int(t_line[-1])))   # calls under way at the horizon end later
    locator = AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return fig


def _disruption_panel(ax, account, run, attempts, horizon, when) -> None:
    """Blocked and cut calls (R11) per day (per week beyond 200 days), stacked."""
    width = 86400 if horizon <= 200 * 86400 else 7 * 86400
    nbins = max(1, -(-horizon // width))
    blocked = np.zeros(nbins)
    cut = np.zeros(nbins)
    connected = run.outcomes.connected if run.outcomes is not None else None
    for d in account.disruptions:
        t, idx = d[0], d[1]
        b = min(int(t) // width, nbins - 1)
        was_blocked = connected[idx] < 0 if connected is not None else int(attempts.t[idx]) == t
        if was_blocked:
            blocked[b] += 1
        else:
            cut[b] += 1
    left = when(np.arange(nbins) * width)
    w = np.timedelta64(width, "s")
    ax.bar(left, blocked, width=w, align="edge", color="#d62728", label=f"blocked ({int(blocked.sum())})",
           gid="blocked")
    ax.bar(left, cut, width=w, align="edge", bottom=blocked, color="#9467bd", label=f"cut ({int(cut.sum())})",
           gid="cut")
    ax.set_ylabel("calls / day" if width == 86400 else "calls / week")
    ax.set_title("disruptions: blocked and cut calls", fontsize=9, loc="left")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    if not account.disruptions:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "no disruptions", transform=ax.transAxes, ha="center", va="center",
                color="#7f7f7f")


# ---- comparison.png ------------------------------------------------------------------------

def disruption_stat(summary: dict, name: str) -> dict:
    """The calls blocked or cut by funding (R11: the part a funding policy causes), per
    replication summed, as summary.json holds a metric: mean, interval by the table's rule
    (sim.analysis.stats), values."""
    blocked = summary[name]["calls_blocked_funding"]["replications"]
    cut = summary[name]["calls_cut_funding"]["replications"]
    return interval_json(DISRUPTIONS, [Decimal(str(b)) + Decimal(str(c)) for b, c in zip(blocked, cut)])


def comparison_plot(path: Path, world, summary: dict) -> None:
    _save(comparison_figure(world, summary), path)


def _bar(stat: dict, money: bool) -> tuple[float, float, float, str]:
    """(bar length, error below, error above, label) of a metric: the error bar spans the
    interval's ends (a skewed or clipped one is not symmetric), the label is the table's cell."""
    from .table import interval_cell
    mean = float(exact_mean(stat))
    if stat.get("ci95_low") is None:
        return mean, 0.0, 0.0, interval_cell(stat, money)
    below, above = mean - float(Decimal(stat["ci95_low"])), float(Decimal(stat["ci95_high"])) - mean
    return mean, max(below, 0.0), max(above, 0.0), interval_cell(stat, money)


def comparison_figure(world, summary: dict) -> Figure:
    """Three panels sharing the policy axis; each panel's bars carry gid 'disruptions', 'spent'
    or 'expired', and their labels are the comparison table's figures (sim.outputs.rounding)."""
    names = list(summary)
    currency = world.scenario.currency
    reps = len(next(iter(summary.values()))["calls_blocked"]["replications"]) if summary else 0

    panels = [("Disruptions by funding\n(blocked + cut calls)", [_bar(disruption_stat(summary, n), False) for n in names],
               "disruptions"),
              (f"Credits spent ({currency})", [_bar(summary[n]["credits_spent"], True) for n in names], "spent"),
              (f"Credits expired ({currency})", [_bar(summary[n]["credits_expired"], True) for n in names],
               "expired")]
    height = max(3.2, 1.2 + 0.55 * len(names))
    fig = _figure((12, height), layout="constrained")     # fits policy names of any length
    axes = fig.subplots(1, len(panels), sharey=True)
    y = np.arange(len(names))
    colours = [COLOURS[i % len(COLOURS)] for i in range(len(names))]
    for ax, (title, bars, gid) in zip(axes, panels):
        mean = np.array([m for m, _, _, _ in bars])
        below, above = np.array([b for _, b, _, _ in bars]), np.array([a for _, _, a, _ in bars])
        ax.barh(y, mean, xerr=np.vstack([below, above]) if reps >= 2 else None, color=colours, alpha=0.85,
                error_kw={"ecolor": "black", "capsize": 4, "linewidth": 1}, gid=gid)
        top = float((mean + above).max()) if len(mean) else 0.0
        ax.set_xlim(0, top * 1.3 if top > 0 else 1)
        for yi, m, a, (_, _, _, label) in zip(y, mean, above, bars):
            ax.text(m + a + (top or 1) * 0.02, yi, label, va="center", fontsize=8, gid=f"{gid}-label")
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    note = f"mean and 95 % interval over {reps} replications" if reps >= 2 else "one replication: no confidence intervals"
    fig.suptitle(f"{world.scenario.name}: policy comparison ({note})", fontsize=11)
    return fig


def write_plots(folder: Path, world, summary: dict, monthly: dict | None = None) -> None:
    """The run-level pictures: comparison.png and monthly.png (per-policy balance.png is written
    with each policy's CSVs)."""
    comparison_plot(Path(folder) / "comparison.png", world, summary)
    if monthly:
        from .monthly_plot import monthly_plot
        monthly_plot(Path(folder) / "monthly.png", world, monthly)
