"""The journal of a run that funds ahead of time, rebuilt exactly (replication 0 at full speed).

Held credits (sim/engine/ahead.py) are debited in bulk, so the live ledger cannot journal one
row per increment in order. Instead it journals nothing and logs its operations: purchases,
expiries and call debits with the (instant, priority) of the event that ran them (the running
maximum: an event scheduled at the current instant with a lower priority, e.g. a payment with
no delay, runs right after the event that scheduled it), and each held increment with its own
(instant, attempt number), where its event would have run. Sorted, that is the order of one
event per increment; replayed through a fresh Ledger it gives the same journal row for row
(tests/test_properties.py compares with the exact loop).
"""
from __future__ import annotations

import numpy as np

from models.ledger import Ledger

PURCHASE, DEBIT, EXPIRE = 0, 1, 2


class LoggedLedger(Ledger):
    def __init__(self, horizon: int):
        super().__init__(keep_journal=False, horizon=horizon)
        self.key = (-1, 0)                  # the running event's (instant, priority); before the first
        self.ops: list[tuple] = []          # (t, priority, seq, kind, args)
        self.held: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []   # (instants, attempts, amounts)

    def at(self, t: int, priority: int) -> None:
        """The driver runs an event: later ones never order before earlier ones."""
        if (t, priority) > self.key:
            self.key = (t, priority)

    def _record(self, kind: int, args: tuple) -> None:
        self.ops.append((*self.key, len(self.ops), kind, args))

    def purchase(self, t, amount, expires_at, note=""):
        self._record(PURCHASE, (t, amount, expires_at, note))
        return super().purchase(t, amount, expires_at, note)

    def debit(self, t, amount, usage_id="", allow_overdraft=False):
        ok = Ledger.debit(self, t, amount, usage_id, allow_overdraft)
        if ok and amount > 0:
            self._record(DEBIT, (t, amount, usage_id, allow_overdraft))
        return ok

    def expire(self, t):
        self._record(EXPIRE, (t,))
        return super().expire(t)

    def debit_held(self, t: int, amount: int) -> bool:
        """A bulk debit of held increments: logged one by one by `log_held`, not here."""
        return Ledger.debit(self, t, amount)

    def log_held(self, instants: np.ndarray, attempts: np.ndarray, amounts: np.ndarray) -> None:
        if len(instants):
            self.held.append((instants, attempts, amounts))

    def replayed(self) -> Ledger:
        """A ledger that ran every operation in event order, journal kept."""
        n_ops = len(self.ops)
        ht = np.concatenate([h[0] for h in self.held] + [np.zeros(0, np.int64)])
        hi = np.concatenate([h[1] for h in self.held] + [np.zeros(0, np.int64)])
        ha = np.concatenate([h[2] for h in self.held] + [np.zeros(0, np.int64)])
        ot = np.array([op[0] for op in self.ops], np.int64)
        op_ = np.array([op[1] for op in self.ops], np.int64)
        os_ = np.arange(n_ops, dtype=np.int64)
        t = np.concatenate([ot, ht])
        p = np.concatenate([op_, hi])
        seq = np.concatenate([os_, np.full(len(ht), -1, np.int64)])
        order = np.lexsort((seq, p, t))
        out = Ledger(keep_journal=True, horizon=self.horizon)
        ops, ht, hi, ha = self.ops, ht.tolist(), hi.tolist(), ha.tolist()
        purchase, debit, expire = out.purchase, out.debit, out.expire
        for k in order.tolist():
            if k >= n_ops:
                k -= n_ops
                debit(ht[k], ha[k], hi[k])
                continue
            kind, args = ops[k][3], ops[k][4]
            if kind == DEBIT:
                debit(*args)
            elif kind == PURCHASE:
                purchase(*args)
            else:
                expire(*args)
        return out
