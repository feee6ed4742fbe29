"""The per-policy metrics of summary.json (names fixed by scenario-format.md)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from models.calls import CallKind
from models.money import to_decimal

Q4 = Decimal("0.0001")

# What the credits were spent on (connection fees included); they add up to credits_spent.
SPENT_ON = {"credits_spent_user_out": (CallKind.USER_OUT,),
            "credits_spent_toll_free_in": (CallKind.UCAP_IN,),
            "credits_spent_conf_in_toll_free": (CallKind.CONF_IN_TOLL_FREE,),
            "credits_spent_conf_out": (CallKind.CONF_OUT,)}
# The part of calls_blocked / calls_cut / users_affected that the funding policy causes: reasons
# pool_exhausted and insufficient_funds (R11), not no_licence, dialout_policy, no_credits_licence.
FUNDING = ("calls_blocked_funding", "calls_cut_funding", "users_affected_funding")
MONEY = ("credits_purchased", "credits_spent", "credits_expired", "final_balance", "overdraft", *SPENT_ON,
         "average_balance", "max_balance", "opening_balance")
METRICS = ("calls_attempted", "calls_connected", "calls_blocked", "calls_cut", "minutes_lost",
           "users_affected", *FUNDING, "credits_purchased", "credits_spent", "credits_expired", "final_balance",
           "recharges_succeeded", "recharges_failed", "notifications", "hours_exhausted",
           "pool_minutes_used", "overdraft", *SPENT_ON, "prob_disruption", "average_balance", "max_balance",
           "opening_balance")
# Counts of events: zero in every replication gets the rule-of-three bound (sim.analysis.stats).
COUNTS = ("calls_attempted", "calls_connected", "calls_blocked", "calls_cut", "users_affected", *FUNDING,
          "recharges_succeeded", "recharges_failed", "notifications")
PROPORTIONS = ("prob_disruption",)      # 0/1 per replication: the share of replications, Wilson interval
# may be negative (owed: postpay, overdraft); every other metric is >= 0
UNBOUNDED = ("final_balance", "average_balance", "max_balance", "opening_balance")
# Per calendar month (summary.json `monthly`): figure -> how it is read from two running totals
MONTHLY = ("spent", "expired", "purchased", "disruptions", "hours_exhausted")
MONTHLY_QUANTILES = ("spent", "hours_exhausted")     # P50 and P95 across replications too


def _between(a: dict, b: dict) -> dict[str, Decimal]:
    """The monthly figures of the period between running totals a and b."""
    return {"spent": to_decimal(b["spent"] - a["spent"]), "expired": to_decimal(b["forfeited"] - a["forfeited"]),
            "purchased": to_decimal(b["purchased"] - a["purchased"]),
            "disruptions": Decimal(b["blocked"] + b["cut"] - a["blocked"] - a["cut"]),
            "hours_exhausted": Decimal(b["exhausted_seconds"] - a["exhausted_seconds"]) / 3600}


def metrics_of(run) -> dict:
    """One replication's metrics, all as exact Decimals, counted from the end of the warm-up
    (the account's running totals then, `base`, to those at the close), and under "monthly"
    the list of (month, figures) of each calendar month (the first from the warm-up's end)."""
    a = run.account
    led = a.ledger
    (t0, base), (_, end) = a.base, a.marks[-1]

    def d(key):
        return end[key] - base[key]

    measured = a.horizon - t0
    # exact: an integer time-integral of the balance (Ledger.area) over [t0, horizon)
    area = end["area"] - base["area"] + base["balance"] * measured
    values = {
        "calls_attempted": d("attempts"),
        "calls_connected": d("connected"),
        "calls_blocked": d("blocked"),
        "calls_cut": d("cut"),
        "minutes_lost": Decimal(d("seconds_lost")) / 60,
        "users_affected": len(a.affected),
        "calls_blocked_funding": d("blocked_funding"),
        "calls_cut_funding": d("cut_funding"),
        "users_affected_funding": len(a.affected_funding),
        "credits_purchased": to_decimal(d("purchased")),
        "credits_spent": to_decimal(d("spent")),
        "credits_expired": to_decimal(d("forfeited")),
        "final_balance": to_decimal(led.balance),
        "recharges_succeeded": d("recharges_succeeded"),
        "recharges_failed": d("recharges_failed"),
        "notifications": d("notifications"),
        "hours_exhausted": Decimal(d("exhausted_seconds")) / 3600,
        "pool_minutes_used": Decimal(d("pool_seconds")) / 60,
        "overdraft": to_decimal(d("overdrawn")),
        "prob_disruption": 1 if d("blocked") or d("cut") else 0,
        "average_balance": (to_decimal(area) / measured).quantize(Q4, ROUND_HALF_UP),
        "max_balance": to_decimal(led.peak),
        # so that opening + purchased = spent + expired + final balance over the measured days (R7)
        "opening_balance": to_decimal(base["balance"]),
    }
    for name, kinds in SPENT_ON.items():
        values[name] = to_decimal(sum(end["spent_by_kind"][k] - base["spent_by_kind"][k] for k in kinds))
    out = {k: Decimal(v) for k, v in values.items()}
    points = [(t0, base), *a.marks]
    out["monthly"] = [(a.clock.month_key(ts), _between(x, y)) for (ts, x), (_, y) in zip(points, points[1:])]
    return out
