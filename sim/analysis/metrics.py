"""The per-policy metrics of summary.json (names fixed by scenario-format.md)."""
from __future__ import annotations

from decimal import Decimal

from models.calls import CallKind
from models.money import to_decimal

# What the credits were spent on (connection fees included); they add up to credits_spent.
SPENT_ON = {"credits_spent_user_out": (CallKind.USER_OUT,),
            "credits_spent_toll_free_in": (CallKind.UCAP_IN,),
            "credits_spent_conf_in_toll_free": (CallKind.CONF_IN_TOLL_FREE,),
            "credits_spent_conf_out": (CallKind.CONF_OUT,)}
# The part of calls_blocked / calls_cut / users_affected that the funding policy causes: reasons
# pool_exhausted and insufficient_funds (R11), not no_licence, dialout_policy, no_credits_licence.
FUNDING = ("calls_blocked_funding", "calls_cut_funding", "users_affected_funding")
MONEY = ("credits_purchased", "credits_spent", "credits_expired", "final_balance", "overdraft", *SPENT_ON)
METRICS = ("calls_attempted", "calls_connected", "calls_blocked", "calls_cut", "minutes_lost",
           "users_affected", *FUNDING, "credits_purchased", "credits_spent", "credits_expired", "final_balance",
           "recharges_succeeded", "recharges_failed", "notifications", "hours_exhausted",
           "pool_minutes_used", "overdraft", *SPENT_ON, "prob_disruption")
# Counts of events: zero in every replication gets the rule-of-three bound (sim.analysis.stats).
COUNTS = ("calls_attempted", "calls_connected", "calls_blocked", "calls_cut", "users_affected", *FUNDING,
          "recharges_succeeded", "recharges_failed", "notifications")
PROPORTIONS = ("prob_disruption",)      # 0/1 per replication: the share of replications, Wilson interval
UNBOUNDED = ("final_balance",)          # may be negative (owed); every other metric is >= 0


def metrics_of(run) -> dict[str, Decimal]:
    """One replication's metrics, all as exact Decimals."""
    a = run.account
    led = a.ledger
    rc = a.recharge
    pool_seconds = sum(row[5] for row in a.pools.report)
    values = {
        "calls_attempted": a.attempts,
        "calls_connected": a.connected,
        "calls_blocked": a.blocked,
        "calls_cut": a.cut,
        "minutes_lost": Decimal(a.seconds_lost) / 60,
        "users_affected": len(a.affected),
        "calls_blocked_funding": a.blocked_funding,
        "calls_cut_funding": a.cut_funding,
        "users_affected_funding": len(a.affected_funding),
        "credits_purchased": to_decimal(led.purchased),
        "credits_spent": to_decimal(led.spent),
        "credits_expired": to_decimal(led.forfeited),
        "final_balance": to_decimal(led.balance),
        "recharges_succeeded": rc.succeeded if rc else 0,
        "recharges_failed": rc.failed if rc else 0,
        "notifications": a.notification_count,
        "hours_exhausted": Decimal(a.exhausted_seconds) / 3600,
        "pool_minutes_used": Decimal(pool_seconds) / 60,
        "overdraft": to_decimal(led.overdrawn),
        "prob_disruption": 1 if a.blocked or a.cut else 0,
    }
    for name, kinds in SPENT_ON.items():
        values[name] = to_decimal(sum(a.spent_by_kind[k] for k in kinds))
    return {k: Decimal(v) for k, v in values.items()}
