"""ledger.csv: the credit journal (R7) at the granularity a user needs.

`calls` (the default): one row per purchase, per expiry, and per call per lot: the increments a
call paid from one lot, summed into one debit row at the instant of the first of them.
`increments`: one row per funded increment, as the ledger journals them (for debugging a cut).

balance_after of every row is the one before it plus a purchase, less a debit or an expiry
(the first row starts from 0), so the rows always add up to the balance, and the last row's
balance_after is the final balance. For per-increment rows that is the balance at that instant;
an aggregated debit counts all of the call's increments from that lot at once, so while the call
runs it is the balance less what the call will still draw from that lot.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from models.ledger import DEBIT, EXPIRE, PURCHASE

from .columns import lookup, money4, timestamps
from .folder import inert

JOURNAL_MODES = ("calls", "increments")
KINDS = [PURCHASE, DEBIT, EXPIRE]
LEDGER_COLUMNS = ["time", "kind", "amount", "balance_after", "lot_id", "usage_id", "note"]


def journal_columns(journal) -> dict:
    """The journal as numpy columns: t, kind (index into KINDS), amount, balance, lot and usage
    (-1 for none), and `texts` {row: (text usage id, note)} for the few rows that have one.
    Each column is copied out of the packed rows on its own, lot and usage as int32 when they
    fit (a tenant-year's journal has ~17M rows: 33 bytes a row instead of 40)."""
    ints, other = journal.storage()
    n = len(journal)
    packed = np.frombuffer(ints, dtype=np.int64).reshape(n, 5) if n else np.zeros((0, 5), np.int64)

    def column(j: int) -> np.ndarray:
        col = packed[:, j]
        small = n == 0 or (int(col.min()) >= -2**31 and int(col.max()) < 2**31)
        return col.astype(np.int32 if j >= 3 and small else np.int64)       # a copy, contiguous

    cols = {"t": column(0), "kind": np.full(n, KINDS.index(DEBIT), dtype=np.int8), "amount": column(1),
            "balance": column(2), "lot": column(3), "usage": column(4)}
    texts = {}
    for i, (t, k, amount, balance, lot, usage, note) in other.items():
        numbered = isinstance(usage, int) and not isinstance(usage, bool)
        for name, v in (("t", t), ("amount", amount), ("balance", balance),
                        ("lot", lot if isinstance(lot, int) else -1), ("usage", usage if numbered else -1)):
            if cols[name].dtype == np.int32 and not -2**31 <= v < 2**31:
                cols[name] = cols[name].astype(np.int64)
            cols[name][i] = v
        cols["kind"][i] = KINDS.index(k)
        if note or (usage and not numbered):
            texts[i] = ("" if numbered or usage is None else str(usage), note or "")
    cols["texts"] = texts
    return cols


def per_call(c: dict) -> tuple[np.ndarray, np.ndarray]:
    """(rows kept, amount of each kept row): a call's debits from one lot summed into its first.
    Arrays are dropped as soon as they are used: this runs over every increment of a tenant-year."""
    kind, usage, lot, amount = c["kind"], c["usage"], c["lot"], c["amount"]
    debit = np.flatnonzero((kind == KINDS.index(DEBIT)) & (usage >= 0))
    key = usage[debit].astype(np.int64) * (int(lot.max(initial=0)) + 2) + lot[debit] + 1
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    del key
    order = debit[order]                               # debit rows, grouped, each group in row order
    first = order[starts]                              # stable: each group's earliest row
    sums = np.add.reduceat(amount[order], starts) if len(order) else np.zeros(0, amount.dtype)
    del order
    others = np.ones(len(kind), dtype=bool)
    others[debit] = False
    del debit
    rows = np.concatenate([np.flatnonzero(others), first])
    rows.sort()
    amounts = amount[rows]
    amounts[np.searchsorted(rows, first)] = sums
    return rows, amounts


LEDGER_BLOCK = 1 << 18       # rows built and written per block (bounded memory)


def ledger_tables(clock, c: dict, usage_column, mode: str = "calls", block: int = LEDGER_BLOCK):
    """ledger.csv's columns from the journal's columns `c` (journal_columns), in blocks of at most
    `block` rows; usage_column(attempt numbers) gives their UsageIds."""
    if mode == "increments":
        rows = np.arange(len(c["t"]))
        amount, balance = c["amount"], c["balance"]
    else:
        rows, amount = per_call(c)
        kind = c["kind"][rows]
        balance = np.cumsum(np.where(kind == KINDS.index(PURCHASE), amount, -amount))
    texts = np.fromiter(c["texts"], dtype=np.int64, count=len(c["texts"]))
    for b in range(0, max(len(rows), 1), block):
        part = slice(b, b + block)
        yield _ledger_block(clock, c, usage_column, rows[part], amount[part], balance[part], texts)


def ledger_table(clock, journal, usage_column, mode: str = "calls") -> pa.Table:
    """ledger.csv's columns as one table."""
    return next(ledger_tables(clock, journal_columns(journal), usage_column, mode, block=max(len(journal), 1)))


def _ledger_block(clock, c: dict, usage_column, rows, amount, balance, text_rows) -> pa.Table:
    n = len(rows)
    usage, lot = c["usage"][rows], c["lot"][rows]
    numbered = usage >= 0
    usage_ids = pc.replace_with_mask(pa.repeat("", n), pa.array(numbered), usage_column(usage[numbered])) \
        if numbered.any() else pa.repeat("", n)
    notes = pa.repeat("", n)
    texts = c["texts"]
    at = np.flatnonzero(np.isin(rows, text_rows)) if len(text_rows) else ()
    if len(at):
        mask = np.zeros(n, dtype=bool)
        mask[at] = True
        text_usage = [texts[r][0] for r in rows[at].tolist()]
        if any(text_usage):
            usage_ids = pc.replace_with_mask(usage_ids, pa.array(mask), pa.array(
                [inert(u) if u else v for u, v in zip(text_usage, usage_ids.take(pa.array(at)).to_pylist())]))
        notes = pc.replace_with_mask(notes, pa.array(mask), pa.array([inert(texts[r][1]) for r in rows[at].tolist()]))
    return pa.table([timestamps(clock, c["t"][rows]), lookup(KINDS, c["kind"][rows]), money4(amount),
                     money4(balance), pa.array(lot, pa.int64(), mask=lot < 0), usage_ids, notes],
                    names=LEDGER_COLUMNS)
