"""Auto-recharge as a state machine (R8).

idle --(balance crosses below trigger)--> pending --settle ok--> idle (+lot)
pending --settle fails--> pending (retry after back-off) ... after max_retries
--> suspended until the next manual top-up. While pending, no second recharge
starts. The account drives it and schedules the settle instants.
"""
from __future__ import annotations

from .policy import CARD, AutoRechargeRule, Payment


class AutoRecharge:
    def __init__(self, rule: AutoRechargeRule, payment: Payment):
        self.rule = rule
        self.payment = payment
        self.pending = False
        self.suspended = False
        self.failures = 0          # consecutive failures in the current episode
        self.requested = 0         # every payment attempt, retries included
        self.succeeded = 0
        self.failed = 0

    def crossed(self, old: int, new: int) -> bool:
        """The trigger fires on the step from >= trigger to < trigger."""
        return old >= self.rule.trigger > new

    def may_start(self, balance: int) -> bool:
        return not self.pending and not self.suspended and balance < self.rule.trigger

    def start(self) -> int:
        """Begin a payment attempt; returns its delay until settling (seconds)."""
        self.pending = True
        self.requested += 1
        return self.payment.delay_seconds

    def outcome(self, t: int, declined: bool) -> str:
        """'card_expired', 'declined' or 'ok' for an attempt settling at t."""
        p = self.payment
        if p.method == CARD:
            if p.card_valid_until is not None and t >= p.card_valid_until:
                return "card_expired"
            if declined:
                return "declined"
        return "ok"

    def settled_ok(self) -> None:
        self.pending = False
        self.failures = 0
        self.succeeded += 1

    def settled_failed(self) -> int | None:
        """Record a failure; returns the back-off before the retry, or None when giving up."""
        self.failed += 1
        self.failures += 1
        if self.failures <= self.payment.max_retries:
            self.requested += 1          # the retry is a new attempt, still pending
            return self.payment.retry_seconds
        self.pending = False
        self.suspended = True
        return None

    def manual_top_up(self) -> None:
        """R8: after its retries, auto-recharge waits for the next manual top-up. A top-up while
        a recharge is still retrying does not give that recharge more retries."""
        self.suspended = False
        if not self.pending:
            self.failures = 0

    @property
    def in_flight(self) -> int:
        return 1 if self.pending else 0
