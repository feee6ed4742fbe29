"""One rounding rule for every figure shown (R1): half-up at the shown precision, as the CDR's
`Charge` does (499.9850 -> 499.99), never Python's half-to-even or a float's binary rounding.

The table, the workbook's comparison sheet and the pictures' labels all format through here, so
they show the same figures. A shown mean is rounded once, from the exact mean of the
replications' values (summary.json keeps them to the last digit), not from the 4-decimal mean.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

MONEY_PLACES = 2


def half_up(value, places: int = MONEY_PLACES) -> Decimal:
    """`value` (Decimal, int or decimal text) rounded half-up to `places` decimals."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def shown(value, places: int = MONEY_PLACES, grouped: bool = False) -> str:
    """The text of a figure: half-up to `places`; `grouped` adds thousands separators."""
    q = half_up(value, places)
    return f"{q:,.{places}f}" if grouped else f"{q:.{places}f}"


def symmetric(centre: Decimal, low: Decimal, high: Decimal) -> bool:
    """An interval is shown as `centre ± half-width` only when its ends are as far from the
    centre, to the 4-decimal rounding of summary.json; else by its ends."""
    return abs((centre - low) - (high - centre)) <= Decimal("0.0002")


def exact_mean(stat: dict) -> Decimal:
    """A summary.json metric's mean from its per-replication values (exact), else its `mean`."""
    values = stat.get("replications")
    if not values:
        return Decimal(stat["mean"])
    with localcontext() as ctx:
        ctx.prec = 50
        return sum((Decimal(str(v)) for v in values), Decimal(0)) / len(values)


def shown_mean(stat: dict, places: int = MONEY_PLACES, grouped: bool = False) -> str:
    return shown(exact_mean(stat), places, grouped)


def count_text(value: Decimal, grouped: bool = False) -> str:
    """A count or minutes: whole when whole, else one decimal (half-up)."""
    places = 0 if value == value.to_integral_value() else 1
    return shown(value, places, grouped)


# Conservation (R7) per policy: purchased = spent + expired + final balance, exactly; after a
# warm-up (warmup_days) the balance it left, opening_balance, joins the purchases.
CONSERVATION = ("credits_purchased", "credits_spent", "credits_expired", "final_balance")


def reconciliation(summary: dict) -> list[str]:
    """Lines saying where, after rounding each column half-up from its exact mean, the table's
    purchased differs from spent + expired + final balance (by at most 0.02); none when it adds up."""
    lines = []
    for name, stats in summary.items():
        p, s, e, b = (half_up(exact_mean(stats[m])) for m in CONSERVATION)
        if "opening_balance" in stats:
            p += half_up(exact_mean(stats["opening_balance"]))
        gap = p - (s + e + b)
        if gap:
            lines.append(f"{name}: purchased {p:.2f} = spent {s:.2f} + expired {e:.2f} + final balance {b:.2f} "
                         f"{'+' if gap > 0 else '−'} {abs(gap):.2f} of rounding (each column is rounded half-up "
                         "from its exact mean; summary.json balances to the last digit)")
    return lines


CDR_ROUNDING_WHY = ("cdr.csv shows each call's Charge and Connection Fee rounded half-up to 2 decimals, "
                    "as Teams' export does (R1, R12); credits_spent is the exact ledger to 4 decimals. "
                    "Their totals differ by the sum of the per-call roundings (at most 0.005 per amount), "
                    "for replication 0, whose files the folder holds.")


def cdr_rounding(first: dict, summary: dict) -> dict:
    """Per policy: the CDR's 2-decimal Charge + Connection Fee total against replication 0's exact
    credits_spent, and the difference (summary.json `cdr_rounding`). `first` is replication 0's
    {policy: metrics}; the policy's files writer added the CDR's totals under "cdr" as it wrote
    them (`CdrTotals`), in any --format."""
    out = {"why": CDR_ROUNDING_WHY, "policies": {}}
    for name, stats in summary.items():
        cdr = first.get(name, {}).get("cdr")
        if cdr is None:
            continue                      # no files written (no results folder): nothing to compare
        total = Decimal(cdr["total"])
        spent = Decimal(str(stats["credits_spent"]["replications"][0]))
        out["policies"][name] = {"cdr_total": f"{total:.2f}", "credits_spent": f"{spent:.4f}",
                                 "difference": f"{total - spent:.4f}", "cdr_rows": cdr["rows"]}
    return out
