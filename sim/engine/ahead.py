"""Funding a call's later increments ahead of time, exactly (R6 order kept).

Most increments are certain to be paid: by a pool holding far more minutes than the
calls in progress need, or from a balance far above the trigger. Paying those at
once saves one SimPy event each. Both mechanisms hold only while nothing else could
change a held increment's outcome; the moment something could, `release` gives back
every held increment that has not yet started and re-creates its event, so every
funding decision is the one one-event-per-increment makes. Property tests compare
the two (tests/test_properties.py).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Callable

import numpy as np

from models.account import Call

from .funding import EngineAccount


def started_by(call: Call, t: int, priority: int, inc: int) -> int:
    """How many of the call's increments (at start + k*inc) have run by the event (t, priority):
    at the same instant, lower call numbers run first (R6 ties)."""
    q, r = divmod(t - call.start, inc)
    return q + 1 if (r or call.idx < priority) else q


def time_weight(call: Call, a: int, b: int, inc: int, horizon: int) -> int:
    """Sum over the call's increments a..b-1 (at start + k*inc) of (horizon - their instant),
    those before the horizon only: what debiting them one by one adds to `Ledger.area`."""
    top = min(b, max(a, -(-(horizon - call.start) // inc)))
    m = top - a
    return m * (horizon - call.start) - inc * m * (a + top - 1) // 2 if m > 0 else 0


def increments_of(call: Call, inc: int) -> int:
    return -(-call.duration // inc)


class PoolReservations:
    """A pool pays all of a call's later increments at once when it surely can: it holds
    them all, they end before the next monthly reset, the pool has no DNI partner (whose
    emptiness could refuse them) and they cross none of its alerts (R5's 80 % / 100 %, whose
    instants matter). The pool's `remaining` then already excludes them; `EngineAccount.fund`
    (sim/engine/funding.py) calls `release` when a pool looks short, or a draw would alert,
    while it holds reservations: the draw then sees the pool as one increment at a time would."""

    def __init__(self, inc: int, resets: list[int], resume: Callable[[Call, int], None], enabled: bool = True,
                 reserved: dict | None = None):
        self.inc = inc
        self.resets = resets
        self.resume = resume          # resume(call, delay): re-create the call's next increment event
        self.enabled = enabled
        self.reserved = {} if reserved is None else reserved     # pool -> calls (the account's)

    def applies(self, pool) -> bool:
        return self.enabled and pool is not None and pool.partner is None

    def reserve(self, call: Call, pool, t: int) -> bool:
        inc = self.inc
        total = increments_of(call, inc)
        k = bisect_right(self.resets, t)
        if k < len(self.resets) and call.start + (total - 1) * inc >= self.resets[k]:
            return False
        future = total - call.increments
        if pool.remaining < future * inc or (pool.alerts and not pool.quiet_after(future * inc, inc)):
            return False
        pool.remaining -= future * inc
        call.pool_increments += future
        call.increments = total
        held = self.reserved.setdefault(pool, [])
        held.append(call)
        if len(held) & 1023 == 0:                       # forget calls that have ended
            held[:] = [c for c in held if c.start + (c.increments - 1) * inc >= t]
        return True

    def release(self, pool, t: int, priority: int) -> None:
        inc = self.inc
        for call in self.reserved.pop(pool, ()):
            started = started_by(call, t, priority, inc)
            future = call.increments - started
            if future > 0:
                pool.remaining += future * inc
                call.pool_increments -= future
                call.increments = started
                self.resume(call, call.start + started * inc - t)


@dataclass
class HeldBlock:
    """Calls held whole from their first increment by `CreditHolds.hold_block`, as columns."""

    pos: np.ndarray         # the driver's numbers for them (to re-create their Call on release)
    start: np.ndarray
    total: np.ndarray       # increments
    price: np.ndarray       # per increment
    fee: np.ndarray         # with the first
    idx: np.ndarray         # attempt numbers (R6 ties)
    kind: np.ndarray
    done: np.ndarray        # increments debited so far

    def started(self, t: int, priority: int, inc: int) -> np.ndarray:
        """`started_by` for every call of the block."""
        q, r = np.divmod(t - self.start, inc)
        return np.clip(q + ((r != 0) | (self.idx < priority)), self.done, self.total)


def time_weights(start, a, b, inc: int, horizon: int) -> np.ndarray:
    """`time_weight` of many calls at once (int64, exact)."""
    top = np.minimum(b, np.maximum(a, -(-(horizon - start) // inc)))
    m = np.maximum(top - a, 0)
    return m * (horizon - start) - inc * (m * (a + top - 1) // 2)


def _add_by_kind(spent_by_kind: list[int], kind: np.ndarray, money: np.ndarray) -> None:
    sums = np.zeros(len(spent_by_kind), np.int64)
    np.add.at(sums, kind, money)
    for k in np.flatnonzero(sums).tolist():
        spent_by_kind[k] += int(sums[k])


class CreditHolds:
    """Credits pay all of a call's later increments at once while the balance less
    everything held stays >= the account's credit_guard (the trigger, or one unit): no
    held increment can then fail, cross the trigger or empty the balance. Only for routes
    without a pool (a refilled pool would pay again). Held increments are debited in bulk by
    `flush`, before every expiry and purchase, every 1024 holds and at the end: soonest-
    expiring-first spending is cumulative, so every lot holds what one debit per increment
    leaves; a ledger that keeps a journal logs each of them for the journal's replay
    (sim/engine/ledger_log.py). `hold_block` holds many whole calls at once (HeldBlock)."""

    def __init__(self, account: EngineAccount, inc: int, resume: Callable[[Call, int], None], enabled: bool = True):
        self.account = account
        self.inc = inc
        self.resume = resume
        self.enabled = enabled
        self.held: list[list] = []                    # [call, increments already debited]
        self.blocks: list[HeldBlock] = []
        self.block_calls = 0
        self.make_call: Callable | None = None        # (driver number, increments debited) -> Call, for release
        account.flush_credits, account.release_credits = self.flush, self.release

    def hold_block(self, t: int, block: HeldBlock, cost: np.ndarray, need: int) -> None:
        """Hold the whole of every call in `block` (none started before (t, its first number);
        some may arrive later), costing `need` in total: the caller checked the guard for all of
        it. Counted as arrived and connected at once; `release` un-counts those not yet arrived."""
        a = self.account
        a.credit_held += need
        _add_by_kind(a.spent_by_kind, block.kind, cost)
        self.blocks.append(block)
        self.block_calls += len(block.pos)
        if self.block_calls >= 1 << 16 or len(self.blocks) >= 256:
            self.flush(t, int(block.idx[0]))      # debit what has started and forget ended calls

    def applies(self, call: Call) -> bool:
        return self.enabled and call.route.pool is None and call.credit_increments == call.increments

    def hold(self, call: Call, t: int) -> bool:
        a = self.account
        future = increments_of(call, self.inc) - call.increments
        need = future * call.route.price
        if a.ledger.balance - a.credit_held - need < a.credit_guard:
            return False
        self.held.append([call, call.increments])
        a.credit_held += need
        a.spent_by_kind[call.kind] += need
        call.charge += need
        call.credit_increments += future
        call.increments += future
        if len(self.held) & 1023 == 0:
            self.flush(t, call.idx)          # debit what has started and forget ended calls
        return True

    def flush(self, t: int, priority: int) -> None:
        """Debit every held increment started by (t, priority). A ledger that logs (records kept,
        sim/engine/ledger_log.py) gets them as segments, each call's from its first instant."""
        amount = weight = 0
        ledger = self.account.ledger
        log = getattr(ledger, "log_held", None)
        segments: list[tuple] = []              # (first instant, increments, attempt, price), logged
        keep = []
        for h in self.held:
            call, done = h
            started = min(call.increments, started_by(call, t, priority, self.inc))
            if started > done:
                p = call.route.price
                amount += (started - done) * p
                weight += p * time_weight(call, done, started, self.inc, ledger.horizon)
                if log:
                    segments.append((call.start + done * self.inc, started - done, call.idx, p))
                h[1] = started
            if started < call.increments:
                keep.append(h)
        self.held[:] = keep
        if segments:              # a call held one by one had its first increment (and fee) funded
            cols = np.array(segments, np.int64).T
            log(*cols, np.zeros(len(segments), np.int64))
        if self.blocks:
            amount, weight = self._flush_blocks(t, priority, amount, weight, log)
        if amount:
            self.account.credit_held -= amount
            overdraft = self.account.postpay
            paid = ledger.debit_held(t, amount, overdraft) if log else ledger.debit(t, amount, "", overdraft)
            assert paid, "a held increment could not be paid"       # the guard makes this impossible
            # the increments were spent at their own instants, not at t: correct the balance integral
            ledger.area += amount * max(ledger.horizon - t, 0) - weight
        if log:                   # after the debit: the log compares the lots before and after
            ledger.logged_through(t, priority)

    def _flush_blocks(self, t: int, priority: int, amount: int, weight: int, log) -> tuple[int, int]:
        horizon = self.account.ledger.horizon
        inc = self.inc
        keep = []
        for b in self.blocks:
            started = b.started(t, priority, inc)
            first = (b.done == 0) & (started > 0)
            amount += int(((started - b.done) * b.price).sum()) + int(b.fee[first].sum())
            weight += int((b.price * time_weights(b.start, b.done, started, inc, horizon)).sum())
            weight += int((b.fee[first] * np.maximum(horizon - b.start[first], 0)).sum())
            if log:
                log(b.start + b.done * inc, started - b.done, b.idx, b.price, np.where(b.done == 0, b.fee, 0))
            b.done = started
            live = started < b.total
            if live.all():
                keep.append(b)
            elif live.any():
                keep.append(HeldBlock(*(getattr(b, f)[live] for f in HeldBlock.__dataclass_fields__)))
        self.blocks = keep
        self.block_calls = sum(len(b.pos) for b in keep)
        return amount, weight

    def flush_all(self) -> None:
        """At the end of the run: held increments need no events, some start after the last one."""
        ends = [c.start + c.increments * self.inc for c, _ in self.held]
        ends += [int((b.start + b.total * self.inc).max()) for b in self.blocks]
        if ends:
            self.flush(max(ends), 1 << 62)

    def release(self, t: int, priority: int) -> None:
        """Flush, then give back every held increment not started by (t, priority)."""
        self.flush(t, priority)
        for call, started in self.held:
            future = call.increments - started
            back = future * call.route.price
            self.account.credit_held -= back
            self.account.spent_by_kind[call.kind] -= back
            call.charge -= back
            call.credit_increments -= future
            call.increments = started
            self.resume(call, call.start + started * self.inc - t)
        self.held.clear()
        for b in self.blocks:
            back = (b.total - b.done) * b.price + np.where(b.done == 0, b.fee, 0)
            self.account.credit_held -= int(back.sum())
            _add_by_kind(self.account.spent_by_kind, b.kind, -back)
            for pos, done in zip(b.pos.tolist(), b.done.tolist()):
                call = self.make_call(pos, done)          # None: not arrived yet, it arrives again
                if call is not None:
                    self.resume(call, call.start + done * self.inc - t)
        self.blocks = []
        self.block_calls = 0
