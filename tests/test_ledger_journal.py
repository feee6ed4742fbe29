"""R7 journal storage: models.ledger.Journal reads back exactly what was journalled.

The journal keeps one-lot debits as packed integers (memory: millions of rows in a 2M-call
run); every entry must come back as the same tuple, same types, same order.
"""
from __future__ import annotations

import random

import numpy as np

from models.ledger import DEBIT, EXPIRE, PURCHASE, Journal, Ledger
from sim.engine.call_journal import append_packed


def _add(journal: Journal, entry: tuple) -> None:
    if entry[1] == DEBIT and entry[6] == "":
        journal.debit_row(entry[0], entry[2], entry[3], entry[4], entry[5])
    else:
        journal.append(entry)


def _entries(n: int, seed: int = 1) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.01:
            out.append((i * 1.5, DEBIT, 5, 6, 1, "u1", ""))            # float instant: kept as a tuple
        elif r < 0.02:
            out.append((i, DEBIT, 5, 6, 1, "u1", ""))                  # text UsageId
        elif r < 0.03:
            out.append((i, DEBIT, 5, 6, 1, 2 ** 70, ""))               # beyond int64
        elif r < 0.05:
            out.append((i, PURCHASE, 200_000, 10 ** 12, 3, "", rng.choice(["initial funds", "auto-recharge", ""])))
        elif r < 0.06:
            out.append((i, DEBIT, 5, -7, "", i, "overdraft"))
        elif r < 0.07:
            out.append((i, EXPIRE, 10, 0, 2, "", ""))
        else:
            out.append((i, DEBIT, rng.randint(1, 10 ** 6), rng.randint(-10 ** 15, 10 ** 15), rng.randint(1, 50), i, ""))
    return out


def test_R7_journal_reads_back_every_entry_exactly():
    ref = _entries(3000)
    j = Journal()
    for e in ref:
        _add(j, e)
    assert len(j) == len(ref)
    assert j == ref and ref == j and list(j) == ref
    assert [tuple(map(type, e)) for e in j] == [tuple(map(type, e)) for e in ref]
    assert all(j[i] == ref[i] for i in range(-len(ref), len(ref)))
    assert j[5:50:3] == ref[5:50:3] and j[-3:] == ref[-3:]
    assert j != ref[:-1] and j != [] and not Journal() and Journal() == []


def test_R7_ledger_journal_matches_a_list_journal():
    """The ledger's own entries (one-lot debits, spanning debits, overdraft, expiry) in order."""
    led = Ledger()
    led.purchase(0, 200_000, 1000, "initial funds")
    led.purchase(5, 300_000, 2000)
    for k in range(15):             # the 12th spans lots 1 and 2
        assert led.debit(10 + k, 17_000, k)
    assert led.debit(50, 400_000, 99, allow_overdraft=True)
    led.purchase(60, 500_000, 3000, "top-up")
    led.expire(2000)
    rows = list(led.journal)
    assert rows[0] == (0, PURCHASE, 200_000, 200_000, 1, "", "initial funds")
    assert rows[2] == (10, DEBIT, 17_000, 483_000, 1, 0, "")
    assert [r for r in rows if r[6] == "overdraft"] == [(50, DEBIT, 155_000, -155_000, "", 99, "overdraft")]
    assert led.conserved()


def test_R6_R10_debits_beyond_the_lots_are_kept_packed_and_read_back():
    """Every postpay debit is an overdraft row (R10): kept packed in the columns like a lot's debit,
    not as a tuple; one with a text UsageId (replay) stays a tuple. Runs follow the forms."""
    j = Journal()
    j.append((0, PURCHASE, 100, 100, 1, "", "initial funds"))
    j.debit_row(5, 40, 60, 1, 0)
    j.append((6, DEBIT, 80, -20, "", 1, "overdraft"))
    j.append((7, DEBIT, 10, -30, "", 2, "overdraft"))
    j.append((8, DEBIT, 10, -40, "", "replayed-id", "overdraft"))
    j.debit_row(9, 1, -41, 2, 3)
    cols, other, forms = j.columns()
    assert list(forms) == [Journal.TUPLE, Journal.LOT_DEBIT, Journal.OVERDRAFT, Journal.OVERDRAFT, Journal.TUPLE,
                           Journal.LOT_DEBIT]
    assert sorted(other) == [0, 4] and [cols[k][2] for k in ("t", "amount", "balance", "lot", "usage")] == [6, 80, -20, -1, 1]
    assert {k: c.typecode for k, c in cols.items()} == Journal.TYPECODES       # 28 bytes a packed row
    assert list(j.runs()) == [(0, 0, 1), (1, 1, 2), (2, 2, 4), (0, 4, 5), (1, 5, 6)]
    assert list(j) == [(0, PURCHASE, 100, 100, 1, "", "initial funds"), (5, DEBIT, 40, 60, 1, 0, ""),
                       (6, DEBIT, 80, -20, "", 1, "overdraft"), (7, DEBIT, 10, -30, "", 2, "overdraft"),
                       (8, DEBIT, 10, -40, "", "replayed-id", "overdraft"), (9, DEBIT, 1, -41, 2, 3, "")]
    assert j[3] == (7, DEBIT, 10, -30, "", 2, "overdraft")


def test_rows_whose_integers_do_not_fit_32_bits_are_kept_as_tuples():
    """t, lot and usage are packed as 32-bit integers: a row with a wider one (an instant
    past 2^31 s, a UsageId past 2^31) is kept whole as its tuple and read back the same; the
    packed columns stay aligned, one slot per row."""
    j = Journal()
    j.debit_row(5, 40, 60, 1, 0)
    j.debit_row(2**31, 1, 59, 1, 7)                          # instant too wide
    j.append((9, DEBIT, 2, 57, "", 2**40, "overdraft"))      # usage too wide
    j.debit_row(10, 3, 2**40, 2, 8)                          # balance is 64-bit: packed
    cols, other, forms = j.columns()
    assert list(forms) == [Journal.LOT_DEBIT, Journal.TUPLE, Journal.TUPLE, Journal.LOT_DEBIT]
    assert sorted(other) == [1, 2] and all(len(c) == 4 for c in cols.values())
    assert list(j) == [(5, DEBIT, 40, 60, 1, 0, ""), (2**31, DEBIT, 1, 59, 1, 7, ""),
                       (9, DEBIT, 2, 57, "", 2**40, "overdraft"), (10, DEBIT, 3, 2**40, 2, 8, "")]
    wide = [np.array([x], np.int64) for x in (11, 4, 50, 1, 2**33)]     # in bulk too
    append_packed(j, Journal.LOT_DEBIT, *wide)
    assert j[4] == (11, DEBIT, 4, 50, 1, 2**33, "") and j.columns()[2][4] == Journal.TUPLE
