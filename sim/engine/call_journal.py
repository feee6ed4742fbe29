"""The credit journal at call granularity (ledger.csv's default, `--journal calls`), kept as the
run goes rather than aggregated from one row per increment afterwards (a 10,000-user
tenant-year: 3.9 M rows held instead of 17.3 M).

A debit row is one call's spending from one lot: every debit of the same (call, lot) is added to
the row of the first (its instant, its note). Purchases, expiries and debits of no numbered call
keep a row each. balance_after is the running sum of the rows (purchases less debits and
expiries, from 0): the last row's is the balance, and while a call runs its row already counts
what the call will still draw from that lot.

A group can only grow while its call runs. Given the calls' starts and intended durations, the
groups of calls over before the rows now arriving are closed, so lookups only see the calls
under way, however long the run.
"""
from __future__ import annotations

from array import array

import numpy as np

from models.ledger import DEBIT, OVERDRAFT, PURCHASE, Journal

from .prepass import narrow

SPAN = 1 << 32            # group key: call * SPAN + lot + 1 (0 for a debit beyond the lots)
FOLD = 1 << 16            # groups opened one row at a time before they join the sorted arrays


class CallJournal(Journal):
    BALANCES = False              # balance_after is the running sum of the rows: settled on reading

    def __init__(self, start: np.ndarray | None = None, duration: np.ndarray | None = None):
        super().__init__()
        self._start, self._duration = start, duration     # per call: no debit after start + duration
        self._keys = np.zeros(0, np.int64)               # open groups' keys, sorted
        self._rows = np.zeros(0, np.int64)               # ... and their rows
        self._recent: dict[int, int] = {}                # groups opened one row at a time, not folded yet
        self._settled = False                            # `_balance` is the rows' running sum

    @classmethod
    def of(cls, journal: Journal) -> "CallJournal":
        """A journal of one row per increment (or already per call), aggregated. Each call's
        groups close after its last row there, so a long journal stays fast."""
        if isinstance(journal, cls):
            return journal
        cols, other, forms = journal.columns()
        n = len(journal)
        col = {k: np.frombuffer(v, v.typecode).astype(np.int64) if n else np.zeros(0, np.int64) for k, v in cols.items()}
        is_packed = np.frombuffer(forms, np.uint8) != Journal.TUPLE
        numbered = [e for e in other.values() if _key(e[1], e[4], e[5]) is not None]
        usage = np.concatenate([col["usage"][is_packed], np.array([e[5] for e in numbered], np.int64)])
        t = np.concatenate([col["t"][is_packed], np.array([e[0] for e in numbered], np.int64)])
        t, usage = t[usage >= 0], usage[usage >= 0]
        last = np.full(int(usage.max(initial=-1)) + 1, -1, np.int64)       # each call's last row
        np.maximum.at(last, usage, t)
        out = cls(last, np.zeros(len(last), np.int32))
        for form, a, b in journal.runs():
            if form == Journal.TUPLE:
                for k in range(a, b):
                    out.append(other[k])
            elif form == Journal.LOT_DEBIT:
                out.extend_debit_columns(*(col[k][a:b] for k in ("t", "amount", "lot", "usage")))
            elif (col["usage"][a:b] >= 0).all():
                out.extend_overdraft_rows(*(col[k][a:b] for k in ("t", "amount", "balance", "usage")))
            else:                                       # of no numbered call: a row each
                for k in range(a, b):
                    out.append(journal[k])
        return out

    # ---- writing ---------------------------------------------------------------------------

    def append(self, entry: tuple) -> None:
        t, kind, amount, _, lot, usage, _ = entry
        if not self._added(t, amount, _key(kind, lot, usage)):
            super().append(entry)

    def debit_row(self, t, amount, balance, lot_id, usage_id) -> None:
        if not self._added(t, amount, _key(DEBIT, lot_id, usage_id)):
            super().debit_row(t, amount, balance, lot_id, usage_id)

    def _added(self, t: int, amount: int, key: int | None) -> bool:
        """True when the row was added to its open group; else (a new group, or no group: the
        caller writes its row) the group it opens is remembered."""
        self._unsettle()
        if key is None:
            return False
        if self._add(key, amount):
            return True
        self._open_one(key, t)
        return False

    def extend_debit_columns(self, t: np.ndarray, amount: np.ndarray, lot: np.ndarray, usage: np.ndarray) -> None:
        """One-lot debit rows in order, as columns (balance_after is the running sum of the rows)."""
        if not len(t):
            return
        first, sums, keys = self._new_groups(int(t[0]), usage, lot + 1, amount)
        self._extend(Journal.LOT_DEBIT, t[first], sums, lot[first], usage[first], keys)

    def extend_overdraft_rows(self, t: np.ndarray, amount: np.ndarray, balance: np.ndarray,
                              usage: np.ndarray) -> None:
        """Debits beyond the lots (R6 without cut-off, R10 postpay) in order, as columns: each a
        row (t, debit, amount, balance_after, "", usage, "overdraft"), as `append` would take
        them (balance_after is the running sum of the rows)."""
        if not len(t):
            return
        first, sums, keys = self._new_groups(int(t[0]), usage, np.zeros(len(usage), np.int64), amount)
        self._extend(Journal.OVERDRAFT, t[first], sums, np.full(len(first), -1, np.int64), usage[first], keys)

    def _extend(self, form: int, t, amount, lot, usage, keys) -> None:
        """New groups' rows (in order) appended, packed when their integers fit, and opened."""
        base = len(self)
        append_packed(self, form, t, amount, None, lot, usage)
        self._open_many(keys, base)

    def _new_groups(self, t0: int, call: np.ndarray, lot: np.ndarray, amount: np.ndarray):
        """Rows (from instant t0 on) grouped by (call, lot), `lot` 0 for a debit beyond the lots
        (lot id + 1 otherwise): the sums of groups already open are added to their rows; returns
        the others' (first row, sum, key), in the order of their first rows (`_grouped`'s)."""
        self._unsettle()
        self._fold(t0)
        first, sums, keys = _grouped(call, lot, amount)
        at = np.searchsorted(self._keys, keys)
        found = at < len(self._keys)
        found[found] = self._keys[at[found]] == keys[found]
        for row, total in zip(self._rows[at[found]].tolist(), sums[found].tolist()):
            self._add_to(row, total)
        new = np.flatnonzero(~found)
        return first[new], sums[new], keys[new]

    def _open_many(self, keys: np.ndarray, base: int) -> None:
        """Groups `keys` opened at rows base, base + 1, ..."""
        self._open(keys, np.arange(base, base + len(keys), dtype=np.int64))

    def _open(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Groups `keys` (none open yet) opened at `rows`, into the sorted arrays."""
        keys, rows = np.concatenate([self._keys, keys]), np.concatenate([self._rows, rows])
        order = np.argsort(keys, kind="stable")
        self._keys, self._rows = keys[order], rows[order]

    def _add(self, key: int, amount: int) -> bool:
        """Add to the open group `key`; False when there is none."""
        row = self._recent.get(key)
        if row is None:
            at = int(np.searchsorted(self._keys, key))
            if at == len(self._keys) or self._keys[at] != key:
                return False
            row = int(self._rows[at])
        self._add_to(row, amount)
        return True

    def _add_to(self, row: int, amount: int) -> None:
        if self._packed[row]:
            self._amount[row] += amount
        else:
            e = self._other[row]
            self._other[row] = (e[0], e[1], e[2] + amount, *e[3:])

    def _open_one(self, key: int, t: int) -> None:
        self._recent[key] = len(self)
        if len(self._recent) >= FOLD:
            self._fold(t)

    def _fold(self, t: int) -> None:
        """Move the groups opened one at a time into the sorted arrays, and close the groups
        of calls over before instant t."""
        if self._recent:
            recent, self._recent = self._recent, {}
            self._open(np.fromiter(recent.keys(), np.int64, len(recent)),
                       np.fromiter(recent.values(), np.int64, len(recent)))
        if self._start is not None and len(self._keys):
            call = self._keys // SPAN
            live = self._start[call].astype(np.int64) + self._duration[call] >= t
            self._keys, self._rows = self._keys[live], self._rows[live]

    # ---- reading: balances settled first ---------------------------------------------------

    def _unsettle(self) -> None:
        self._settled, self._balance = False, None

    def _settle(self) -> None:
        """balance_after of every row: the running sum of the rows (a column built on reading)."""
        if self._settled:
            return
        n = len(self)
        amount = np.frombuffer(self._amount, np.int64).copy() if n else np.zeros(0, np.int64)
        other = self._other
        rows = np.fromiter(other, np.int64, len(other))
        amount[rows] = [e[2] for e in other.values()]
        amount[rows[[e[1] == PURCHASE for e in other.values()]]] *= -1
        balance = -np.cumsum(amount)
        del amount
        self._balance = array("q")
        self._balance.frombytes(memoryview(balance).cast("B"))
        for r, b in zip(rows.tolist(), balance[rows].tolist()):
            e = other[r]
            other[r] = (e[0], e[1], e[2], b, *e[4:])
        self._settled = True

    def columns(self):
        self._settle()
        return super().columns()

    def _row(self, i: int) -> tuple:
        self._settle()
        return super()._row(i)

    def _pieces(self):
        self._settle()
        return super()._pieces()

    def __getstate__(self):
        # a checkpoint does not carry the attempts: groups then stay open until the end
        return {**self.__dict__, "_start": None, "_duration": None}


def _grouped(call: np.ndarray, lot: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct keys call * SPAN + lot (0 <= lot < SPAN) in the order of their first rows,
    with each one's first row and its amounts' sum. A run's rows are a few lots' debits of the
    calls under way, whose attempt numbers are close: counted in a dense table over that range
    then (several times faster than sorting millions of rows), sorted otherwise."""
    n = len(call)
    c0, l0 = int(call.min()), int(lot.min())
    width = int(lot.max()) - l0 + 1
    size = (int(call.max()) - c0 + 1) * width
    if size > 4 * n + 4096:
        key = call * SPAN + lot
        order = np.argsort(key, kind="stable")          # a group's rows in row order
        k = key[order]
        again = np.flatnonzero(k[1:] == k[:-1]) + 1     # sorted places repeating a group (few)
        if not len(again):
            return np.arange(n), amount, key
        # each repeat's group starts just before its run of consecutive repeats
        run = np.r_[True, np.diff(again) != 1]
        start = (again[run] - 1)[np.cumsum(run) - 1]
        sums = amount.copy()
        np.add.at(sums, order[start], amount[order[again]])
        opens = np.ones(n, bool)
        opens[order[again]] = False
        first = np.flatnonzero(opens)
        return first, sums[first], key[first]
    dense = call - c0
    dense *= width
    dense += lot
    dense -= l0
    sums = np.zeros(size, np.int64)
    np.add.at(sums, dense, amount)
    first_of = np.full(size, n, np.int64)
    np.minimum.at(first_of, dense, np.arange(n))
    first = np.flatnonzero(first_of[dense] == np.arange(n))      # rows that open a group, in order
    cell = dense[first]
    return first, sums[cell], (c0 + cell // width) * SPAN + l0 + cell % width


def append_packed(journal: Journal, form: int, t, amount, balance, lot, usage) -> None:
    """Rows of one packed form (LOT_DEBIT, or OVERDRAFT with lot -1) appended to `journal` as
    columns when t, lot and usage fit its 32-bit columns, else one by one, as `Journal` keeps
    them (as tuples); `balance` None where the journal keeps none (settled on reading)."""
    narrowed = [narrow(x) for x in (t, lot, usage)]
    if all(x.dtype == np.int32 for x in narrowed):
        journal.extend_packed(form, narrowed[0], np.ascontiguousarray(amount, np.int64),
                              None if balance is None else np.ascontiguousarray(balance, np.int64),
                              narrowed[1], narrowed[2])
        return
    balances = [0] * len(t) if balance is None else balance.tolist()
    for row in zip(t.tolist(), amount.tolist(), balances, lot.tolist(), usage.tolist()):
        if form == Journal.LOT_DEBIT:
            Journal.debit_row(journal, *row)
        else:
            Journal.append(journal, (row[0], DEBIT, row[1], row[2], "", row[4], OVERDRAFT))


def _key(kind, lot, usage) -> int | None:
    """The group of a debit of a numbered call; None for any other row."""
    if kind != DEBIT or isinstance(usage, bool) or not isinstance(usage, (int, np.integer)) or usage < 0:
        return None
    return int(usage) * SPAN + (int(lot) + 1 if isinstance(lot, (int, np.integer)) and not isinstance(lot, bool) else 0)
