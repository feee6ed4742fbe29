"""The engine's account: models.account.Account plus the bookkeeping of funding ahead of time
(sim/engine/ahead.py), which is the engine's business, not the billing core's.

It holds the pools' reservations and the credits held for calls, and the driver's hooks that
give them back (`release`, `release_credits`) or debit them (`flush_credits`). Before the pure
account funds an increment, buys, lets a lot expire or reads its running totals, this one makes
sure nothing held ahead could change the outcome: results are exactly the pure account's with one
event per increment (tests/test_properties.py).
"""
from __future__ import annotations

from heapq import merge
from itertools import repeat
from typing import Callable

import numpy as np

from models.account import PRIO_EXPIRY, PRIO_PAYMENT, Account, Call
from models.calls import Reason
from models.pools import Pool

NO_GUARD = -(1 << 60)      # below any balance: postpay holds every increment ahead


class EngineAccount(Account):
    _HOOKS = Account._HOOKS + ("release", "flush_credits", "release_credits")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Calls whose later increments a pool paid ahead of time (its `remaining` already
        # excludes them), per pool; release(pool, t, priority) gives back those not started.
        self.reserved: dict[Pool, list[Call]] = {}
        self.release: Callable[[Pool, int, int], None] | None = None
        # Credits held for calls' later increments (debited in bulk by flush_credits). While
        # anything is held, the balance less the held money stays >= credit_guard, so no held
        # increment can fail, cross the trigger or empty the balance; release_credits undoes holds.
        self.credit_held = 0
        self.credit_guard = NO_GUARD
        self._set_guard()
        self.disruptions_unordered = False         # refused in bulk: later events' disruptions may come first
        self.flush_credits: Callable[[int, int], None] | None = None
        self.release_credits: Callable[[int, int], None] | None = None

    def detach(self) -> None:
        """After the run: drop the driver's hooks, which hold its event loop and every column it
        read (hundreds of MB at a tenant-year) alive for as long as the results are kept."""
        for hook in self._HOOKS:
            setattr(self, hook, None)

    def fund(self, call: Call, t: int) -> str | None:
        pool = call.route.pool
        if pool is not None and (pool.remaining < self.inc or pool.alerts and not pool.quiet_after(self.inc, self.inc)) \
                and self.reserved.get(pool):
            # Increments reserved ahead of time make the pool look shorter (or fuller: R5's
            # alerts) than it is now: give back those not yet started, then decide on what is
            # really left.
            self.release(pool, t, call.idx)
        if self.credit_held:
            r = call.route
            if self.ledger.balance - self.credit_held - (r.price or 0) - r.fee < self.credit_guard:
                # held increments could now matter (this increment may be debited): back to one by one
                self.release_credits(t, call.idx)
        return Account.fund(self, call, t)

    def _set_guard(self) -> None:
        """The guard for the balance now. The trigger fires only on a step from >= trigger to
        below it (R8), so below the trigger the guard is one unit (no held increment may empty
        the balance, R9) until a purchase lifts the balance again: credits are held while a
        recharge is pending too. Postpay has no guard: its increments never fail (overdraft:
        invoiced), and nothing happens when its balance falls (no trigger, no exhausted notice,
        R10)."""
        trigger = self._trigger
        self.credit_guard = NO_GUARD if self.postpay else \
            max(trigger, 1) if trigger is not None and self.ledger.balance >= trigger else 1

    def _balance_fell(self, t: int, old: int) -> None:
        Account._balance_fell(self, t, old)
        self._set_guard()

    def _purchase(self, t: int, amount: int, note: str) -> None:
        if self.credit_held:
            self.flush_credits(t, PRIO_PAYMENT)    # the balance before it, for the ledger's peak
        Account._purchase(self, t, amount, note)
        self._set_guard()
        self._release_below_guard(t, PRIO_PAYMENT)   # lifted above the trigger, held increments could cross it

    def _expire(self, t: int) -> None:
        if self.credit_held:
            self.flush_credits(t, PRIO_EXPIRY)     # what was spent before t came from these lots
        Account._expire(self, t)
        self._release_below_guard(t, PRIO_EXPIRY)

    def _release_below_guard(self, t: int, priority: int) -> None:
        """Give back what is held when the balance less it no longer stays at or above the guard."""
        if self.credit_held and self.ledger.balance - self.credit_held < self.credit_guard:
            self.release_credits(t, priority)

    def only_events_buy(self) -> bool:
        """No debit can start a recharge (R8: there is none, or the balance is below its trigger
        already, so no step can cross it): money can come only from an account event."""
        return self._trigger is None or self.ledger.balance < self._trigger

    def refuse_for_funds(self, t: np.ndarray, idx: np.ndarray, payer: np.ndarray, kind: np.ndarray,
                         duration: np.ndarray) -> None:
        """Calls (in arrival order) whose first increment the balance cannot fund, nothing held
        and nothing able to buy before the last arrives (`only_events_buy`, and no account event
        due): each blocked as `start_call` would block it (R6 INSUFFICIENT_FUNDS, R9's exhausted
        notice on the first), all at once."""
        n = len(idx)
        self.attempts += n
        self._exhausted(int(t[0]))
        self.blocked += n
        self.blocked_funding += n
        self.seconds_lost += int(duration.sum(dtype=np.int64))
        payers = payer[payer >= 0].tolist()          # toll-free callers are not the tenant's users
        self.affected.update(payers)
        self.affected_funding.update(payers)
        if self.keep_records:
            self.disruptions.extend(zip(t.tolist(), idx.tolist(), payer.tolist(), kind.tolist(),
                                        repeat(Reason.INSUFFICIENT_FUNDS), duration.tolist()))
            self.disruptions_unordered = True

    def _month_reset(self, t: int) -> None:
        Account._month_reset(self, t)
        self.reserved.clear()                     # reservations never cross a reset: all have run

    def _settle_ahead(self, t: int, priority: int) -> None:
        """Make the running totals exact at (t, priority): debit held credits already started,
        give back held credits and pool reservations not yet started (the driver re-creates
        their events; results do not change)."""
        if self.credit_held:
            self.release_credits(t, priority)
        for pool, calls in list(self.reserved.items()):
            if calls:
                self.release(pool, t, priority)


class PlannedAccount(EngineAccount):
    """The engine's account when the replication's pre-pass (sim/engine/prepass.py) decided
    every attempt that cannot reach credits: the running totals add its counters, the pools it
    planned show its draws at each reset, measurement start and the close, and the records add
    its disruptions, users affected and R5's pool alerts."""

    # the pre-pass's counters are the running totals' (`totals`), kept in these attributes
    ATTRIBUTE = {"notifications": "notification_count"}

    def __init__(self, *args, prepass, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepass = prepass
        everything = self.pools.all()
        self._planned = [everything[j] for j in prepass.pool_index]
        self._closing = False
        self._notice_keys: list[tuple[int, int]] = []    # with records: each notification's event key

    def _notify(self, t: int, kind: str, detail: str = "") -> None:
        EngineAccount._notify(self, t, kind, detail)
        if self.keep_records:          # the ledger logs (sim/engine/ledger_log.py): it knows the running event
            self._notice_keys.append(self.ledger.key)

    def _show_pools(self, t: int | None) -> None:
        for s, pool in enumerate(self._planned):
            pool.remaining = pool.capacity - self.prepass.used_before(s, t)

    def totals(self, t: int) -> dict:
        if self._closing:              # the pre-pass's counters are folded into the account's by now
            return EngineAccount.totals(self, t)
        self._show_pools(t)
        out = EngineAccount.totals(self, t)
        for key, value in self.prepass.before[t].items():
            out[key] += value
        return out

    def _month_reset(self, t: int) -> None:
        self._show_pools(t)
        EngineAccount._month_reset(self, t)

    def close(self, t: int) -> None:
        self._closing = True
        self._show_pools(None)
        pre = self.prepass
        for key, value in pre.total.items():          # the counters of models.account.Account
            attribute = self.ATTRIBUTE.get(key, key)
            setattr(self, attribute, getattr(self, attribute) + value)
        self.affected |= pre.affected
        self.affected_funding |= pre.affected_funding
        if self.disruptions_unordered:              # event order: by instant, then attempt (R6 ties)
            self.disruptions.sort(key=lambda x: (x[0], x[1]))
        if self.keep_records and pre.disruptions:
            self.disruptions = list(merge(pre.disruptions, self.disruptions, key=lambda x: (x[0], x[1])))
        if self.keep_records and pre.alerts:         # R5's, where their increments' events would have run
            mine = zip(self._notice_keys, self.notifications)
            theirs = (((a, i), (a, kind, detail)) for a, i, kind, detail in pre.alerts)
            self.notifications = [x for _, x in merge(mine, theirs, key=lambda e: e[0])]
        EngineAccount.close(self, t)

    def detach(self) -> None:
        """Closed, the account needs the pre-pass no more: the replication's cache decides how
        long it lives (sim/engine/prepass.py), not these results."""
        EngineAccount.detach(self)
        self.prepass = None
