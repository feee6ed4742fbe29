"""The headline of the printed output and comparison.md: each policy against the baseline,
in words ("auto-200-at-50 blocks 2,104 ± 126 fewer calls than one-time-500"), then the paired
differences of every table metric (summary.json `comparisons`)."""
from __future__ import annotations

from decimal import Decimal

from sim.analysis.metrics import MONEY

from .rounding import shown, symmetric

# metric: (phrase when the policy's value is lower, when higher); {x} is the size of the difference
PHRASES = {
    "calls_blocked": ("blocks {x} fewer calls", "blocks {x} more calls"),
    "calls_cut": ("cuts {x} fewer calls", "cuts {x} more calls"),
    "users_affected": ("disrupts {x} fewer users", "disrupts {x} more users"),
    "prob_disruption": ("is {x} less likely to disrupt any call", "is {x} more likely to disrupt any call"),
    "hours_exhausted": ("runs dry {x} fewer hours", "runs dry {x} more hours"),
    "credits_spent": ("spends {x} less", "spends {x} more"),
    "credits_expired": ("forfeits {x} less to expiry", "forfeits {x} more to expiry"),
    "average_balance": ("ties up {x} less on average", "ties up {x} more on average"),
}
HEADLINE = list(PHRASES)


def _num(value: Decimal, metric: str) -> str:
    value = abs(value)
    if metric in MONEY:
        return shown(value, 2, grouped=True)
    if metric == "prob_disruption":
        return shown(value * 100, 0, grouped=True)
    return shown(value, 0 if value == value.to_integral_value() or value >= 100 else 1, grouped=True)


def _spread(c: dict, show) -> str:
    """The interval after a difference: ` ± h` when symmetric about it, ` (low to high)` when not
    (the skewness-corrected interval of skewed differences), nothing when it never varied; `show`
    formats a number. For a decrease the ends are shown as sizes (negated, in order)."""
    diff, half = Decimal(c["diff_mean"]), Decimal(c["half_width"])
    if not half:
        return ""
    low, high = Decimal(c["ci95_low"]), Decimal(c["ci95_high"])
    if symmetric(diff, low, high):
        return f" ± {show(half)}"
    return f" ({show(low)} to {show(high)})"


def _size(c: dict | None, diff: Decimal, metric: str, currency: str) -> str:
    """The size of a difference, with its interval when `c` (its comparison) is given."""
    spread = "" if c is None else _spread(c if diff >= 0 else _negated(c), lambda v: _num(v, metric))
    text = _num(diff, metric) + spread
    if metric == "prob_disruption":
        return text + " percentage points"
    return f"{text} {currency}" if metric in MONEY else text


def _negated(c: dict) -> dict:
    return {"diff_mean": -Decimal(c["diff_mean"]), "half_width": c["half_width"],
            "ci95_low": -Decimal(c["ci95_high"]), "ci95_high": -Decimal(c["ci95_low"])}


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def headline(comparisons: dict, baseline: str, replications: int, currency: str) -> str:
    """One line per policy and significant headline metric; the rest named as not different."""
    if replications < 2:
        return (f"One replication: no comparison with the baseline {baseline} is possible "
                "(run with --replications 2 or more; 10+ for intervals that can be trusted).")
    # Every difference the same in every replication: nothing in the run is random (replayed calls,
    # no card declines), the replications are copies and the differences are exact, not estimates.
    exact = all(Decimal(c["half_width"]) == 0 for per in comparisons.values() for c in per.values())
    if exact:
        lines = [f"Against the baseline {baseline}: every replication gave the same figures (nothing random in "
                 "this run, e.g. replayed calls without card declines), so these differences are exact:"]
    else:
        lines = [f"Against the baseline {baseline} (paired over {replications} replications on the same calls; "
                 "mean difference with its 95 % interval, Holm-adjusted p):"]
    for name, per_metric in comparisons.items():
        said, same = [], []
        for m in HEADLINE:
            c = per_metric.get(m)
            if c is None:
                continue
            if exact:
                diff = Decimal(c["diff_mean"])
                if diff:
                    said.append(f"- {name} {PHRASES[m][0 if diff < 0 else 1].format(x=_size(None, diff, m, currency))}"
                                f" than {baseline}")
                continue
            if not c["significant"]:
                if c["p_value"] < 1.0 or Decimal(c["diff_mean"]) != 0:
                    same.append(m)
                continue
            diff = Decimal(c["diff_mean"])
            phrase = PHRASES[m][0 if diff < 0 else 1].format(x=_size(c, diff, m, currency))
            every = " in every replication" if Decimal(c["half_width"]) == 0 else ""
            said.append(f"- {name} {phrase} than {baseline}{every} ({_p(c['p_holm'])})")
        if not said:
            said.append(f"- {name}: no {'' if exact else 'significant '}difference from {baseline} in any headline metric")
        lines += said
        if same:
            lines.append(f"  {name}: no significant difference in {', '.join(same)}")
    return "\n".join(lines)


def _signed(value: Decimal, digits: int) -> str:
    """An interval end: a minus sign only when it shows a non-zero figure (never "−0.0")."""
    text = shown(abs(value), digits, grouped=True)
    return ("−" if value < 0 and text.strip("0.,") else "") + text


def paired_table(comparisons: dict, metrics: list[tuple[str, str]]) -> str:
    """Policy rows, metric columns: mean difference and its interval (± half-width, or the ends
    of a skewed difference's), * when Holm-significant."""
    from tabulate import tabulate

    def cell(c: dict, metric: str) -> str:
        diff = Decimal(c["diff_mean"])
        digits = 2 if metric in MONEY else 1
        text = ("+" if diff > 0 else "−") + shown(abs(diff), digits, grouped=True) if diff else "0"
        text += _spread(c, lambda v: _signed(v, digits))
        return text + (" *" if c["significant"] else "")

    rows = [[f"{name} − baseline"] + [cell(per_metric[m], m) if m in per_metric else "" for m, _ in metrics]
            for name, per_metric in comparisons.items()]
    return tabulate(rows, headers=["difference"] + [label for _, label in metrics], tablefmt="github",
                    disable_numparse=True)
