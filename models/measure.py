"""The running totals a run's metrics are read from (sim/analysis/metrics.py): the account's
counters and ledger totals, taken at the end of the warm-up (`base`), at every month start
after it and at the close (`marks`). A mixin of `Account`: bookkeeping, not billing.
"""
from __future__ import annotations

PRIO_MEASURE = -4         # before anything else at the same instant (month resets are -3)


class Measured:
    def totals(self, t: int) -> dict:
        """The running totals the metrics are differences of (exact at t: see _settle_ahead)."""
        led, rc = self.ledger, self.recharge
        exhausted = self.exhausted_seconds
        if self.exhausted_since is not None:
            exhausted += max(0, min(t, self.horizon) - self.exhausted_since)
        return {"attempts": self.attempts, "connected": self.connected, "blocked": self.blocked, "cut": self.cut,
                "blocked_funding": self.blocked_funding, "cut_funding": self.cut_funding,
                "seconds_lost": self.seconds_lost, "purchased": led.purchased, "spent": led.spent,
                "forfeited": led.forfeited, "overdrawn": led.overdrawn, "balance": led.balance, "area": led.area,
                "recharges_succeeded": rc.succeeded if rc else 0, "recharges_failed": rc.failed if rc else 0,
                "notifications": self.notification_count, "exhausted_seconds": exhausted,
                "pool_seconds": sum(row[5] for row in self.pools.report) + self.pools.used_seconds(),
                "spent_by_kind": tuple(self.spent_by_kind)}

    def _settle_ahead(self, t: int, priority: int) -> None:
        """Make the running totals exact at (t, priority). The pure core funds nothing ahead of
        time; the engine's account (sim/engine/funding.py) settles what it did."""

    def _begin_measuring(self, t: int) -> None:
        """End of the warm-up: metrics count from here; users affected and the peak balance restart."""
        self._settle_ahead(t, PRIO_MEASURE)
        self.base = (t, self.totals(t))
        self.affected, self.affected_funding = set(), set()
        self.ledger.peak = self.ledger.balance
