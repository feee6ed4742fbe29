"""ledger.csv: the credit journal (R7) at the granularity a user needs.

`calls` (the default): one row per purchase, per expiry, and per call per lot: the increments a
call paid from one lot, summed into one debit row at the instant of the first of them (the engine
keeps the journal that way as it runs: sim/engine/call_journal.py). `increments`: one row per
funded increment, as the ledger journals them (for debugging a cut).

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

from models.ledger import DEBIT, EXPIRE, OVERDRAFT, PURCHASE, Journal

from .columns import lookup, money4, timestamps
from .folder import inert

KINDS = [PURCHASE, DEBIT, EXPIRE]
LEDGER_COLUMNS = ["time", "kind", "amount", "balance_after", "lot_id", "usage_id", "note"]


def journal_columns(journal) -> dict:
    """The journal as numpy columns: t, kind (index into KINDS), amount, balance, lot and usage
    (-1 for none), `overdraft` (the packed debits beyond the lots: note "overdraft"), and
    `texts` {row: (text usage id, note)} for the few other rows that have a text.
    Each column is copied out of the journal's own (lot and usage int32, as kept there)."""
    packed, other, forms = journal.columns()
    n = len(journal)

    def column(name: str) -> np.ndarray:
        col = np.frombuffer(packed[name], packed[name].typecode) if n else np.zeros(0, np.int32)
        return col.astype(np.int64 if name in ("t", "amount", "balance") else np.int32)    # a copy

    cols = {"t": column("t"), "kind": np.full(n, KINDS.index(DEBIT), dtype=np.int8), "amount": column("amount"),
            "balance": column("balance"), "lot": column("lot"), "usage": column("usage"),
            "overdraft": np.frombuffer(forms, np.uint8) == Journal.OVERDRAFT}     # lot -1 there
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


LEDGER_BLOCK = 1 << 16       # rows built and written per block (bounded memory)


def ledger_tables(clock, c: dict, usage_column, block: int = LEDGER_BLOCK):
    """ledger.csv's columns from the journal's columns `c` (journal_columns), in blocks of at most
    `block` rows; usage_column(attempt numbers) gives their UsageIds."""
    texts = np.fromiter(c["texts"], dtype=np.int64, count=len(c["texts"]))
    n = len(c["t"])
    for b in range(0, max(n, 1), block):
        rows = np.arange(b, min(b + block, n))
        yield _ledger_block(clock, c, usage_column, rows, c["amount"][rows], c["balance"][rows], texts)


def ledger_table(clock, journal, usage_column, mode: str = "calls") -> pa.Table:
    """ledger.csv's columns as one table, the journal aggregated per call per lot or not (`mode`)."""
    if mode == "calls":
        from sim.engine.call_journal import CallJournal
        journal = CallJournal.of(journal)
    return next(ledger_tables(clock, journal_columns(journal), usage_column, block=max(len(journal), 1)))


def _ledger_block(clock, c: dict, usage_column, rows, amount, balance, text_rows) -> pa.Table:
    n = len(rows)
    usage, lot = c["usage"][rows], c["lot"][rows]
    numbered = usage >= 0
    usage_ids = pc.replace_with_mask(pa.repeat("", n), pa.array(numbered), usage_column(usage[numbered])) \
        if numbered.any() else pa.repeat("", n)
    overdraft = c["overdraft"][rows]
    notes = pc.if_else(pa.array(overdraft), OVERDRAFT, "") if overdraft.any() else pa.repeat("", n)
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
