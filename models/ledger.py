"""The credit ledger (R7): lots, soonest-expiring-first spending, expiry, a journal.

Conservation holds after every operation:
    purchased == spent + forfeited + balance
where balance = sum of lot remainders - overdraft not yet repaid. Overdraft only
exists when the account allows it (R6 mid_call_cutoff=false, R10 postpay).

Money tied up, as cheap running totals (no journal needed): `area` is the sum over every
balance change before the horizon of its signed amount times (horizon - t), so the exact
integral of the balance from an instant W to the horizon is
area_end - area_W + balance_W * (horizon - W) (money x seconds, an integer). `peak` is the highest balance since `peak` was last reset
(only purchases raise the balance).
"""
from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat

from .money import Money

PURCHASE, DEBIT, EXPIRE = "purchase", "debit", "expire"
OVERDRAFT = "overdraft"          # the note of a debit beyond the lots


class Journal(Sequence):
    """The ledger's journal: a sequence of (t, kind, amount, balance_after, lot_id, usage_id,
    note) tuples, read like a list of them, kept in less memory.

    The common entries are stored as integers in typed columns (28 bytes instead of about 200:
    a 2M-call run journals millions of them): t, lot and usage as 32-bit, amount and balance
    as 64-bit. Those are a debit of one call from one lot (`debit_row`), and a debit beyond the
    lots (lot "", note "overdraft": R6 without cut-off, R10 postpay, where every debit is one).
    Any other entry is kept as its tuple, and so is one whose integers do not fit (or are not
    integers: a text UsageId, a float instant). Reading gives back the same tuples, in order;
    integer-like values (e.g. numpy integers) come back as int.

    A subclass whose balances are the running sum of its rows (BALANCES False) stores none:
    it sets `_balance` before reading (sim/engine/call_journal.py).
    """

    TUPLE, LOT_DEBIT, OVERDRAFT = 0, 1, 2        # how each row is kept (`columns`)
    BALANCES = True                               # packed rows store balance_after
    TYPECODES = {"t": "i", "amount": "q", "balance": "q", "lot": "i", "usage": "i"}

    def __init__(self):
        # one slot per row in each column (zeros for a row kept as a tuple); lot -1: overdraft
        self._t, self._amount, self._lot, self._usage = array("i"), array("q"), array("i"), array("i")
        self._balance = array("q") if self.BALANCES else None
        self._packed = bytearray()     # per row: TUPLE (in _other), LOT_DEBIT or OVERDRAFT
        self._other: dict[int, tuple] = {}

    def _columns(self) -> tuple[array, ...]:
        cols = (self._t, self._amount, self._lot, self._usage)
        return cols + (self._balance,) if self.BALANCES else cols

    def append(self, entry: tuple) -> None:
        if len(entry) == 7 and entry[1] == DEBIT and entry[4] == "" and entry[6] == OVERDRAFT \
                and not isinstance(entry[5], bool) and self._pack(entry[0], entry[2], entry[3], -1, entry[5]):
            self._packed.append(self.OVERDRAFT)
            return
        self._other[len(self._packed)] = entry
        for col in self._columns():
            col.append(0)
        self._packed.append(self.TUPLE)

    def debit_row(self, t, amount, balance, lot_id, usage_id) -> None:
        """Append (t, "debit", amount, balance, lot_id, usage_id, "")."""
        if self._pack(t, amount, balance, lot_id, usage_id):
            self._packed.append(self.LOT_DEBIT)
        else:
            self.append((t, DEBIT, amount, balance, lot_id, usage_id, ""))

    def _pack(self, t, amount, balance, lot_id, usage_id) -> bool:
        n = len(self._packed)
        try:
            self._t.append(t)
            self._amount.append(amount)
            self._lot.append(lot_id)
            self._usage.append(usage_id)
            if self.BALANCES:
                self._balance.append(balance)
        except (TypeError, OverflowError):
            for col in self._columns():
                del col[n:]
            return False
        return True

    def extend_packed(self, form: int, t, amount, balance, lot, usage) -> None:
        """Append rows of one packed form (LOT_DEBIT, or OVERDRAFT with lot -1) given as
        columns: buffers of native integers of each column's width (TYPECODES), balance
        ignored when not kept."""
        before = len(self._packed)
        for col, data in zip(self._columns(), (t, amount, lot, usage, balance)):
            col.frombytes(memoryview(data).cast("B"))
        n = len(self._t) - before
        assert all(len(col) == before + n for col in self._columns()), "columns of different lengths"
        self._packed.extend(bytes([form]) * n)

    def _row(self, i: int) -> tuple:
        form = self._packed[i]
        if form == self.TUPLE:
            return self._other[i]
        if form == self.OVERDRAFT:
            return (self._t[i], DEBIT, self._amount[i], self._balance[i], "", self._usage[i], OVERDRAFT)
        return (self._t[i], DEBIT, self._amount[i], self._balance[i], self._lot[i], self._usage[i], "")

    def __iter__(self):
        return chain.from_iterable(self._pieces())

    def _pieces(self):
        """Iterables of rows in order: zips over blocks of packed rows, the others as kept."""
        for form, a, b in self.runs():
            if form == self.TUPLE:
                yield (self._other[k] for k in range(a, b))
                continue
            for lo in range(a, b, 1 << 14):        # bounded extra memory per block
                s = slice(lo, min(b, lo + (1 << 14)))
                lot = repeat("") if form == self.OVERDRAFT else self._lot[s]
                yield zip(self._t[s], repeat(DEBIT), self._amount[s], self._balance[s], lot, self._usage[s],
                          repeat(OVERDRAFT if form == self.OVERDRAFT else ""))

    def runs(self):
        """(form, first row, end) of each run of rows kept the same way, in order."""
        packed, n = self._packed, len(self._packed)
        forms = (self.TUPLE, self.LOT_DEBIT, self.OVERDRAFT)
        nxt = dict.fromkeys(forms, -1)      # each form's next row at or after `a` (n: none); searched forward only
        a = 0
        while a < n:
            for f in forms:
                if nxt[f] < a:
                    at = packed.find(bytes([f]), a)
                    nxt[f] = n if at < 0 else at
            form = packed[a]
            b = min(nxt[f] for f in forms if f != form)
            yield form, a, b
            a = b

    def __len__(self) -> int:
        return len(self._packed)

    def columns(self) -> tuple[dict[str, array], dict[int, tuple], bytearray]:
        """For writers that read the journal whole: the packed columns {t, amount, balance, lot,
        usage} (typed arrays, one slot per row, zeros for a row kept as a tuple), {row: tuple},
        and per row how it is kept (TUPLE, LOT_DEBIT, or OVERDRAFT: lot -1 for lot "", note
        "overdraft")."""
        cols = {"t": self._t, "amount": self._amount, "balance": self._balance, "lot": self._lot, "usage": self._usage}
        return cols, self._other, self._packed

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(k) for k in range(*i.indices(len(self)))]
        n = len(self._packed)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("journal index out of range")
        return self._row(i)

    def __eq__(self, other):
        if isinstance(other, (Journal, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"Journal({list(self)!r})"


@dataclass(slots=True)
class Lot:
    id: int
    amount: Money
    purchased_at: int
    expires_at: int
    remaining: Money
    expired: bool = False


class Ledger:
    def __init__(self, keep_journal: bool = True, horizon: int = 0):
        self.horizon = horizon       # 0: no `area` kept
        self.area = 0
        self.peak = 0
        self.lots: list[Lot] = []
        self._first = 0              # lots before this index are empty or expired
        self.lot_total = 0           # sum of remainders of live lots
        self.owed = 0                # overdraft not yet repaid
        self.purchased = 0
        self.spent = 0
        self.forfeited = 0
        self.overdrawn = 0           # all money ever spent beyond the lots
        self.keep_journal = keep_journal
        # (t, kind, amount, balance_after, lot_id, usage_id, note)
        self.journal = Journal()

    @property
    def balance(self) -> Money:
        return self.lot_total - self.owed

    def _log(self, t, kind, amount, lot_id, usage_id="", note=""):
        if self.keep_journal:
            self.journal.append((t, kind, amount, self.balance, lot_id, usage_id, note))

    def purchase(self, t: int, amount: Money, expires_at: int, note: str = "") -> Lot:
        if amount <= 0:
            raise ValueError("a purchase must be positive")
        lot = Lot(len(self.lots) + 1, amount, t, expires_at, amount)
        # Lots are bought in time order and all last 12 months, so list order is
        # expiry order; keep it even if a caller passes an earlier expiry.
        idx = len(self.lots)
        while idx > self._first and self.lots[idx - 1].expires_at > expires_at:
            idx -= 1
        self.lots.insert(idx, lot)
        self.purchased += amount
        self.lot_total += amount
        if t < self.horizon:
            self.area += amount * (self.horizon - t)
        self._log(t, PURCHASE, amount, lot.id, note=note)
        if self.owed:                      # a purchase first repays an overdraft
            repay = min(self.owed, amount)
            lot.remaining -= repay
            self.lot_total -= repay
            self.owed -= repay
            if lot.remaining == 0:
                self._skip_empty()
        if self.balance > self.peak:
            self.peak = self.balance
        return lot

    def debit(self, t: int, amount: Money, usage_id: str = "", allow_overdraft: bool = False) -> bool:
        """Spend `amount`, soonest-expiring lot first. False (and no change) if it can't."""
        if amount <= 0:
            return amount == 0
        if amount > self.lot_total - self.owed and not allow_overdraft:
            return False
        self.spent += amount
        if t < self.horizon:
            self.area -= amount * (self.horizon - t)
        lots = self.lots
        first = self._first
        if first < len(lots) and lots[first].remaining > amount:
            # the common case: the first lot pays it all and is not emptied
            lot = lots[first]
            lot.remaining -= amount
            self.lot_total -= amount
            if self.keep_journal:
                self.journal.debit_row(t, amount, self.lot_total - self.owed, lot.id, usage_id)
            return True
        left = amount
        while left and self._first < len(lots):
            lot = lots[self._first]
            take = lot.remaining if lot.remaining < left else left
            lot.remaining -= take
            self.lot_total -= take
            left -= take
            self._log(t, DEBIT, take, lot.id, usage_id)
            if lot.remaining == 0:
                self._first += 1
        if left:
            self.owed += left
            self.overdrawn += left
            self._log(t, DEBIT, left, "", usage_id, OVERDRAFT)
        return True

    def live_lots(self) -> list[Lot]:
        """The lots the next debit draws from, soonest-expiring first."""
        return self.lots[self._first:]

    def spend_journaled(self, amount: Money) -> None:
        """What debits totalling `amount` leave in the lots and totals (soonest-expiring first,
        no overdraft, `area` not kept) when the caller has journaled their rows itself."""
        if amount > self.lot_total - self.owed or self.owed:
            raise ValueError("spend_journaled: the live lots cannot pay it")
        self.spent += amount
        self.lot_total -= amount
        for lot in self.lots[self._first:]:
            take = min(lot.remaining, amount)
            lot.remaining -= take
            amount -= take
            if not amount:
                break
        self._skip_empty()

    def overdraw_journaled(self, amount: Money, area: int) -> None:
        """What debits totalling `amount` leave when no lot has money left (all of it overdraft,
        R6 / R10) when the caller has journaled their rows itself; `area`: their sum of amount x
        (horizon - t) over those before the horizon."""
        if self.lot_total:
            raise ValueError("overdraw_journaled: the lots still have money")
        self.spent += amount
        self.owed += amount
        self.overdrawn += amount
        self.area -= area

    def _skip_empty(self) -> None:
        while self._first < len(self.lots) and self.lots[self._first].remaining == 0:
            self._first += 1

    def next_expiry(self) -> int | None:
        for lot in self.lots[self._first:]:
            if not lot.expired and lot.remaining:
                return lot.expires_at
        return None

    def expire(self, t: int) -> Money:
        """Forfeit every lot whose expiry instant is <= t (R7). Returns the amount forfeited."""
        total = 0
        for lot in self.lots:
            if lot.expired or lot.expires_at > t:
                continue
            lot.expired = True
            if lot.remaining:
                amount, lot.remaining = lot.remaining, 0
                self.lot_total -= amount
                self.forfeited += amount
                total += amount
                if t < self.horizon:
                    self.area -= amount * (self.horizon - t)
                self._log(t, EXPIRE, amount, lot.id)
        self._skip_empty()
        return total

    def conserved(self) -> bool:
        live = sum(lot.remaining for lot in self.lots)
        return (self.purchased == self.spent + self.forfeited + self.balance
                and live == self.lot_total
                and all(lot.remaining >= 0 for lot in self.lots))
