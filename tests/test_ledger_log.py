"""The journal rebuilt from the ledger's log (sim/engine/ledger_log.py) against the ledger itself
(R7: soonest-expiring lot first, one journal row per lot a debit draws from, balance_after the
balance after each row)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from unittest import mock

from models.ledger import Ledger
from sim.engine import ledger_log
from sim.engine.ledger_log import LoggedLedger, _debits

import numpy as np

YEAR = 365 * 86400


@st.composite
def operations(draw):
    """Purchases, expiries and debits in time order; some debits run past a lot or the balance."""
    ops, t = [], 0
    for _ in range(draw(st.integers(1, 40))):
        t += draw(st.integers(0, 40 * 86400))
        kind = draw(st.sampled_from(["p", "d", "d", "d", "d", "o", "e"]))
        ops.append((kind, t, draw(st.integers(1, 3000)), draw(st.integers(0, 50))))
    return ops


def _run(ledger, ops):
    for kind, t, amount, usage in ops:
        if kind == "p":
            ledger.purchase(t, amount, t + YEAR)
        elif kind == "e":
            ledger.expire(t)
        else:
            ledger.debit(t, amount, usage, allow_overdraft=kind == "o")


@settings(max_examples=300, deadline=None)
@given(operations(), st.booleans())
def test_replayed_journal_equals_the_ledgers(ops, nothing_held):
    """Replayed at the end, or (nothing held, as when calls pay increment by increment) caught up
    while the operations are logged: the log then never holds more than CATCH_UP of them."""
    exact = Ledger(keep_journal=True, horizon=YEAR)
    _run(exact, ops)
    logged = LoggedLedger(horizon=YEAR)
    if nothing_held:
        logged.nothing_held = lambda: True
    for k, op in enumerate(ops):
        logged.at(op[1], k)                 # each operation its own event, in order
        _run(logged, [op])
        assert not nothing_held or len(logged.ops) <= ledger_log.CATCH_UP
    with mock.patch.object(ledger_log, "SLICE", 3):        # runs cut into slices, as a tenant-year's are
        replay = logged.replayed()
    assert list(replay.journal) == list(exact.journal)
    assert (replay.lot_total, replay.owed, replay.spent, replay.forfeited) == \
        (exact.lot_total, exact.owed, exact.spent, exact.forfeited)
    assert [(x.id, x.remaining) for x in replay.lots] == [(x.id, x.remaining) for x in exact.lots]


def test_a_run_of_debits_splits_at_lot_boundaries_by_hand():
    """Lots of 10.00 and 5.00 (amounts in ten-thousandths). Debits 4.00, 6.00, 3.00, 3.00 need
    16.00: refused whole (the last would fail one by one). Debits 4.00, 7.00, 3.00: lot 1 runs out
    inside the second, which journals two rows (6.00 from lot 1, 1.00 from lot 2)."""
    led = Ledger(keep_journal=True)
    led.purchase(0, 100000, YEAR)
    led.purchase(1, 50000, YEAR + 1)
    assert not _debits(led, np.array([5, 6, 7, 8]), np.array([40000, 60000, 30000, 30000]), np.array([1, 2, 3, 4]))
    assert len(led.journal) == 2 and led.lot_total == 150000
    assert _debits(led, np.array([5, 6, 7]), np.array([40000, 70000, 30000]), np.array([1, 2, 3]))
    assert list(led.journal)[2:] == [
        (5, "debit", 40000, 110000, 1, 1, ""),
        (6, "debit", 60000, 50000, 1, 2, ""),      # lot 1 runs out inside the second debit: two rows
        (6, "debit", 10000, 40000, 2, 2, ""),
        (7, "debit", 30000, 10000, 2, 3, ""),
    ]
    assert [x.remaining for x in led.lots] == [0, 10000] and led._first == 1 and led.spent == 140000


def test_a_debit_that_empties_a_lot_exactly_is_one_row():
    """Lots of 10.00 and 5.00; debits 4.00, 6.00 (lot 1 exactly), 5.00 (lot 2 exactly): three rows."""
    led = Ledger(keep_journal=True)
    led.purchase(0, 100000, YEAR)
    led.purchase(1, 50000, YEAR + 1)
    assert _debits(led, np.array([5, 6, 7]), np.array([40000, 60000, 50000]), np.array([1, 2, 3]))
    assert list(led.journal)[2:] == [(5, "debit", 40000, 110000, 1, 1, ""), (6, "debit", 60000, 50000, 1, 2, ""),
                                     (7, "debit", 50000, 0, 2, 3, "")]
    assert led.balance == 0 and led._first == 2


def _merged(op_key, held_key):
    """The event order `_interleaved` gives: indices into the operations and held increments
    concatenated."""
    sort, before = ledger_log._interleaved(op_key, held_key)
    held = np.arange(len(held_key)) if sort is None else sort
    return np.insert(held + len(op_key), before, np.arange(len(op_key)))


def test_merged_order_keeps_the_logs_order_on_ties():
    """Operations (keys in log order, ties kept in that order) and held increments (distinct keys)
    merged into one event order, as a stable sort of both would give."""
    ops = np.array([5, 5, 9, 12, 12, 12], np.int64)
    held = np.array([1, 6, 7, 10, 13], np.int64)
    order = _merged(ops, held)
    assert order.tolist() == np.argsort(np.concatenate([ops, held]), kind="stable").tolist()
    assert order.tolist() == [6, 0, 1, 7, 8, 2, 9, 3, 4, 5, 10]
    held = np.array([5, 12, 13], np.int64)                      # ties with operations: after them
    assert _merged(ops, held).tolist() == [0, 1, 6, 2, 3, 4, 5, 7, 8]
    unsorted = np.array([3, 1], np.int64)                       # not in order: sorted instead
    assert _merged(ops[:1], unsorted).tolist() == [2, 1, 0]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.integers(0, 40), max_size=30), st.sets(st.integers(0, 40), max_size=30))
def test_property_merged_is_the_stable_sort(ops, held):
    """Any log (keys never decreasing, ties included) and any distinct held keys, either side
    empty, operations before the first or after the last increment: the stable sort's order."""
    op_key, held_key = np.array(sorted(ops), np.int64), np.array(sorted(held), np.int64)
    expected = np.argsort(np.concatenate([op_key, held_key]), kind="stable")
    assert _merged(op_key, held_key).tolist() == expected.tolist()


def test_flushes_log_pieces_that_follow_each_other():
    """A tenant-year's replay needs no sort: every flush's increments come after the previous
    flush's (tests/test_blocks.py's bursts, records kept, replayed every few increments)."""
    from tests.test_call_journal import held_blocks_journal_per_call_per_lot
    seen = {"merged": 0, "sorted": 0}
    interleaved = ledger_log._interleaved

    def counting(op_key, held_key):
        seen["sorted" if len(held_key) > 1 and (np.diff(held_key) <= 0).any() else "merged"] += 1
        return interleaved(op_key, held_key)

    with mock.patch.object(ledger_log, "_interleaved", counting):
        held_blocks_journal_per_call_per_lot()
    assert seen["merged"] > 50 and seen["sorted"] == 0, seen
