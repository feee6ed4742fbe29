"""The journal of a run that funds ahead of time, rebuilt exactly (replication 0 at full speed).

Held credits (sim/engine/ahead.py) are debited in bulk, so the live ledger cannot journal one
row per increment in order. Instead it journals nothing and logs its operations: purchases,
expiries and call debits with the (instant, priority) of the event that ran them (the running
maximum: an event scheduled at the current instant with a lower priority, e.g. a payment with
no delay, runs right after the event that scheduled it), and the held increments of each flush
as segments (a call's increments from an instant, `inc` apart). A flush's segments become
entries at their own (instant, attempt number), where their events would have run: one per
increment, or, for a per-call journal when the lots say which paid them, one per call and lot.
Sorted, that is the order of one event per increment; replayed through a fresh Ledger it gives
the same journal row for row (tests/test_properties.py, tests/test_call_journal.py compare with
the exact loop).

The replay catches up during the run: once a flush has logged every held increment started by
its point, nothing logged later can order before that point or the running event, so what does
is replayed and dropped (`logged_through`); when nothing is held, operations logged before the
running event can go too. The log holds about a million entries at most, not a tenant-year's 17
million increments.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.ledger import DEBIT as JOURNAL_DEBIT, Journal, Ledger

from .call_journal import CallJournal, append_packed
from .held_entries import SPAN, entries, increments, split

PURCHASE, DEBIT, EXPIRE = 0, 1, 2           # the log's operations


class LoggedLedger(Ledger):
    def __init__(self, horizon: int, journal: Journal | None = None, inc: int = 1):
        super().__init__(keep_journal=False, horizon=horizon)
        self.inc = inc                      # the billing increment: held calls' increments are inc apart
        self.key = (-1, 0)                  # the running event's (instant, priority); before the first
        self.ops: list[tuple] = []          # (t, priority, kind, args), not replayed yet
        self.held: tuple[list, list, list] = ([], [], [])     # pieces of (instants, attempts, amounts)
        self.pending = 0                    # held increments logged, not replayed yet
        self._flushing: list[tuple] = []    # the running flush's segments so far (`log_held`)
        self.overdraft_held = False         # held increments may overdraw (postpay): the driver's
        self.done = -SPAN                   # every entry with a key below this one is replayed
        self.nothing_held: Callable[[], bool] | None = None   # the driver's: no held increment unlogged
        # Since the last flush (`logged_through`): the live lots and what they held then, the
        # lots bought, whether a lot expired or a debit could overdraw, the other debits' keys
        self._lots_then: list[tuple] = []
        self._bought: list = []
        self._expired = self._overdrew = False
        self._debited: list[tuple[int, int]] = []
        self._last_op = -1                  # the highest key of an operation since the last flush
        self._spilled = False               # the last flush had one ordering after its point
        # the replay: every operation in event order, journal kept (in `journal` when given)
        self.out = Ledger(keep_journal=True, horizon=horizon)
        if journal is not None:
            self.out.journal = journal

    @classmethod
    def kept_for(cls, account, attempts, journal: str, inc: int) -> "LoggedLedger":
        """A run's records: `account`'s ledger (open it after), journaling per call or per
        increment (`journal`), told by the account whether held increments wait or may overdraw."""
        log = cls(account.horizon, CallJournal(attempts.t, attempts.duration) if journal == "calls" else None, inc)
        account.ledger = log
        log.nothing_held = lambda: account.credit_held == 0
        log.overdraft_held = account.postpay
        return log

    def at(self, t: int, priority: int) -> None:
        """The driver runs an event: later ones never order before earlier ones."""
        if (t, priority) > self.key:
            self.key = (t, priority)

    def _record(self, kind: int, args: tuple) -> int:
        """Log an operation of the running event; its key (instant * SPAN + priority + 15)."""
        t, priority = self.key
        self.ops.append((t, priority, kind, args))
        key = t * SPAN + priority + 15
        if key > self._last_op:
            self._last_op = key
        if len(self.ops) >= CATCH_UP and self.nothing_held is not None and self.nothing_held():
            # calls paid increment by increment (postpay, overdraft, pools then credits): no
            # held increment is waiting to be logged, so all before the running event can go
            self._close_flush()
            self._replay(self.key)
        return key

    def purchase(self, t, amount, expires_at, note=""):
        self._record(PURCHASE, (t, amount, expires_at, note))
        lot = super().purchase(t, amount, expires_at, note)
        self._bought.append(lot)
        return lot

    def debit(self, t, amount, usage_id="", allow_overdraft=False):
        ok = Ledger.debit(self, t, amount, usage_id, allow_overdraft)
        if ok and amount > 0:
            key = self._record(DEBIT, (t, amount, usage_id, allow_overdraft))
            if allow_overdraft:
                self._overdrew = True
            else:
                self._debited.append((key, amount))
        return ok

    def expire(self, t):
        self._expired = True
        self._record(EXPIRE, (t,))
        return super().expire(t)

    def debit_held(self, t: int, amount: int, overdraft: bool = False) -> bool:
        """A bulk debit of held increments: logged one by one by `log_held`, not here."""
        return Ledger.debit(self, t, amount, "", overdraft)

    def log_held(self, first: np.ndarray, count: np.ndarray, attempts: np.ndarray, price: np.ndarray,
                 fee: np.ndarray) -> None:
        """Held increments as segments: `count` increments of call `attempts` from instant `first`,
        `inc` apart, each `price`, the first with `fee` as well (0 unless it is the call's first)."""
        some = count > 0
        if not some.all():
            first, count, attempts, price, fee = (x[some] for x in (first, count, attempts, price, fee))
        if len(first):
            self._flushing.append(tuple(np.asarray(x, np.int64) for x in (first, count, attempts, price, fee)))

    def logged_through(self, t: int, priority: int) -> None:
        """Every held increment started by (t, priority) is logged and debited (CreditHolds.flush):
        nothing logged from now on orders before it or before the running event, so once enough
        is pending, what does is replayed and dropped (the log stays small however long the run).

        A per-call journal only needs each call's sum and first increment per lot, so when it
        is certain which lot paid each increment of this flush, they are logged per call
        (`_drawn_from`)."""
        # an operation that orders after this flush's point (run by an earlier event at this
        # instant with a higher priority) belongs with the next flush's increments: neither is sure
        bound = t * SPAN + min(priority, SPAN - 16) + 15
        spills = self._last_op > bound
        sure = isinstance(self.out.journal, CallJournal) and not spills and not self._spilled
        self._close_flush(self._drawn_from() if sure else None)
        self._lots_then = [(lot, lot.remaining) for lot in self.live_lots()]
        self._bought, self._expired, self._overdrew, self._debited = [], False, False, []
        self._spilled, self._last_op = spills, -1
        if self.pending + len(self.ops) >= CATCH_UP:
            self._replay(min((t, priority), self.key))

    def _drawn_from(self) -> tuple | None:
        """Since the last flush, in any order of its debits: ("one",) when a single lot paid
        every one (or none did: postpay, all beyond the lots); ("two", money) when the lot paying
        then paid exactly `money` and ran out, and one other paid the rest and still pays (the
        increment that empties the first lot is found in event order); None otherwise. Lots are
        spent soonest-expiring first, so the lots' money then and now tells which paid."""
        if self._expired or self.owed and not self.overdraft_held:
            return None
        then = [(lot, before - lot.remaining) for lot, before in self._lots_then]
        drawn = [(lot, d) for lot, d in then + [(x, x.amount - x.remaining) for x in self._bought] if d]
        paying = next((lot for lot in self.live_lots() if lot.remaining > 0), None)
        if not drawn:
            no_money = paying is None and not any(before for _, before in self._lots_then) and not self._bought
            return ("one",) if no_money and self.overdraft_held else None
        if self._overdrew or self.owed:
            return None
        first = next((lot for lot, before in self._lots_then if before > 0), None)
        if len(drawn) == 1 and drawn[0][0] is first is paying:
            return ("one",)
        if len(drawn) == 2 and drawn[0][0] is first and first.remaining == 0 and drawn[1][0] is paying:
            return ("two", drawn[0][1])
        return None

    def _close_flush(self, drawn: tuple | None = None) -> None:
        """The segments one flush logged, as entries sorted into event order as one piece: one
        per increment, or (when `drawn` (`_drawn_from`) says which lot paid them) one per segment
        (a flush logs each held call once) and lot, at its first increment, its amounts summed.
        A flush logs those started between the previous flush's point and its own, so the pieces
        follow each other in event order: the log needs no sort of its own (`_interleaved` checks;
        nothing may order before what is already replayed)."""
        if not self._flushing:
            return
        segments = [np.concatenate(c) for c in zip(*self._flushing)]
        self._flushing.clear()
        if drawn == ("one",):
            cols = entries(segments[0], segments[2], segments[1] * segments[3] + segments[4])
        elif drawn is not None:
            cols = split(segments, np.array(self._debited, np.int64).reshape(-1, 2), drawn[1], self.inc)
        else:
            cols = increments(*segments, self.inc)
        if not len(cols[0]):
            return
        key = cols[0] * SPAN + cols[1] + 15
        order = np.argsort(key, kind="stable")      # distinct keys; a few sorted runs: merged fast
        assert key[order[0]] >= self.done, "a held increment was logged after its point was replayed"
        for k, col in enumerate(cols):
            col = col[order]
            # instants and attempt numbers as int32 when they fit: half the log's memory
            self.held[k].append(col.astype(np.int32) if k < 2 and int(col.max()) < 2**31 else col)
        self.pending += len(order)

    def replayed(self) -> Ledger:
        """The ledger that ran every logged operation in event order (its journal is the run's)."""
        self._close_flush()
        self._replay(None)
        return self.out

    def _replay(self, limit: tuple[int, int] | None) -> None:
        """Apply to `out`, in event order, every logged entry ordered before `limit` (None: all).
        Runs of debits between purchases and expiries are applied as columns (`_debits`), a slice
        at a time."""
        # event order: (instant, priority), then the log's own order (a held increment never shares
        # its key with a logged operation, whose event ran instead)
        op_key = np.array([op[0] * SPAN + op[1] + 15 for op in self.ops], np.int64)
        ht, hi, ha = (_joined(parts) for parts in self.held)      # one column at a time, pieces freed
        held_key = ht.astype(np.int64) * SPAN + hi + 15
        n_ops = len(op_key)
        assert not n_ops or op_key[0] >= self.done, "an operation was logged after its point was replayed"
        if limit is not None:
            # a priority past every event's (flush_all's) stands for the end of that instant
            bound = limit[0] * SPAN + min(limit[1], SPAN - 16) + 15
            self.done = max(self.done, bound)
            n_ops = int(np.searchsorted(op_key, bound))          # the log's keys never decrease
            now = held_key < bound
            if not now.all():
                later = ~now
                for parts, col in zip(self.held, (ht, hi, ha)):
                    parts.append(col[later])
                ht, hi, ha, held_key = ht[now], hi[now], ha[now], held_key[now]
        ops, self.ops = self.ops[:n_ops], self.ops[n_ops:]
        self.pending -= len(ht)
        if not n_ops and not len(ht):
            return
        sort, before = _interleaved(op_key[:n_ops], held_key)
        if sort is not None:
            ht, hi, ha = ht[sort], hi[sort], ha[sort]
        del op_key, held_key
        op_t = np.array([op[3][0] for op in ops], np.int64)
        op_amount = np.array([op[3][1] if op[2] == DEBIT else 0 for op in ops], np.int64)
        op_usage = np.array([op[3][2] if op[2] == DEBIT else 0 for op in ops], np.int64)
        # the operations that are not plain debits (purchases, expiries, debits that may overdraw)
        # end the runs of plain debits: held increments with the plain debits logged among them
        stops = [r for r, op in enumerate(ops) if op[2] != DEBIT or op[3][3]] + [n_ops]
        out = self.out
        h = a = 0                                    # the next held increment and operation
        for s in stops:
            end = int(before[s]) if s < n_ops else len(ht)       # held increments before operation s
            while h < end or a < s:                  # the run as columns, SLICE held increments at a time
                h1 = min(end, h + SLICE)
                a1 = a + int(np.searchsorted(before[a:s], h1, "right")) if h1 < end else s
                t, amount, usage = (x[h:h1].astype(np.int64, copy=False) for x in (ht, ha, hi))
                if a1 > a:                           # each before the held increments after it
                    at = before[a:a1] - h
                    t, amount, usage = (np.insert(x, at, y[a:a1]) for x, y in
                                        ((t, op_t), (amount, op_amount), (usage, op_usage)))
                if self.overdraft_held:
                    _overdrawing(out, t, amount, usage)
                elif not _debits(out, t, amount, usage):
                    for x in zip(t.tolist(), amount.tolist(), usage.tolist()):
                        paid = out.debit(*x)
                        assert paid, "a logged debit could not be replayed"
                h, a = h1, a1
            if s < n_ops:
                kind, args = ops[s][2], ops[s][3]     # not a plain debit: the operation itself
                if kind == DEBIT:
                    out.debit(*args)
                elif kind == PURCHASE:
                    out.purchase(*args)
                else:
                    out.expire(*args)
                a = s + 1


def _interleaved(op_key: np.ndarray, held_key: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Where the log's operations (keys in log order, never decreasing) fall among the held
    increments (distinct keys) in event order, as a stable sort of both would place them (equal
    keys: operations first, in the log's order): the held increments' order when they are not
    in order already (else None, the usual case: merged, not sorted), and how many of them come
    before each operation."""
    sort = None
    if len(held_key) > 1 and not (held_key[1:] > held_key[:-1]).all():
        sort = np.argsort(held_key, kind="stable")
        held_key = held_key[sort]
    return sort, np.searchsorted(held_key, op_key)


def _joined(parts: list) -> np.ndarray:
    out = np.concatenate(parts + [np.zeros(0, parts[0].dtype if parts else np.int64)])
    parts.clear()
    return out


SLICE = 1 << 20           # debits per column slice: bounds the replay's extra memory
CATCH_UP = 1 << 20        # held increments pending before a replay catches up: bounds the log


def _debits(out: Ledger, t: np.ndarray, amount: np.ndarray, usage: np.ndarray) -> bool:
    """Debit a run in order as columns, journal rows and lots exactly as one `Ledger.debit` each
    would leave them; False (nothing done) when the live lots cannot simply pay it all."""
    lots = out.live_lots()
    total = int(amount.sum())
    if out.owed or total > out.lot_total or not all(lot.remaining > 0 for lot in lots):
        return False
    a_end = np.cumsum(amount)                         # where each debit ends, in money drawn so far
    l_end = np.cumsum([lot.remaining for lot in lots], dtype=np.int64)    # where each lot runs out
    inner = l_end[l_end < total]                      # every row ends at a debit's end or a lot's
    at = np.searchsorted(a_end, inner)
    inside = a_end[at] != inner                       # a lot runs out within debit `at`
    inner, at = inner[inside], at[inside]
    cuts = np.insert(a_end, at, inner)
    if len(at):                                       # debit `at` is a row per lot
        t, usage = np.insert(t, at, t[at]), np.insert(usage, at, usage[at])
    # the lot of each row: the cuts are ascending, so runs of rows per lot
    ids = np.array([x.id for x in lots], np.int64)
    lot = np.repeat(ids, np.diff(np.searchsorted(cuts, l_end, "right"), prepend=0))
    journal, amount = out.journal, np.diff(cuts, prepend=0)
    if isinstance(journal, CallJournal):            # balances are settled when it is read
        journal.extend_debit_columns(t, amount, lot, usage)
    else:
        append_packed(journal, Journal.LOT_DEBIT, t, amount, out.lot_total - cuts, lot, usage)
    out.spend_journaled(total)
    return True


def _overdrawing(out: Ledger, t: np.ndarray, amount: np.ndarray, usage: np.ndarray) -> None:
    """Debits that may overdraw (postpay), in order, as one `Ledger.debit(..., allow_overdraft=True)`
    each would leave lots and journal: what the lots pay in full as columns, the debit that
    empties them on its own, all after it as overdraft columns."""
    a, n = 0, len(t)
    while a < n:
        if out.lot_total == 0:
            _overdraws(out, t[a:], amount[a:], usage[a:])
            return
        k = a + int(np.searchsorted(np.cumsum(amount[a:]), out.lot_total, "right"))
        if k > a and _debits(out, t[a:k], amount[a:k], usage[a:k]):
            a = k
            continue
        out.debit(int(t[a]), int(amount[a]), int(usage[a]), True)
        a += 1


def _overdraws(out: Ledger, t: np.ndarray, amount: np.ndarray, usage: np.ndarray) -> None:
    """Debits with no lot money left: each all overdraft, one 'overdraft' journal row each."""
    balance = out.balance - np.cumsum(amount)
    before = t < out.horizon
    out.overdraw_journaled(int(amount.sum()), int((amount[before] * (out.horizon - t[before])).sum()))
    if not out.keep_journal:
        return
    extend = getattr(out.journal, "extend_overdraft_rows", None)
    if extend is not None:
        extend(t, amount, balance, usage)
    else:
        for row in zip(t.tolist(), amount.tolist(), balance.tolist(), usage.tolist()):
            out.journal.append((row[0], JOURNAL_DEBIT, row[1], row[2], "", row[3], "overdraft"))
