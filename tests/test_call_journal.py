"""The journal kept per call per lot as the run goes (sim/engine/call_journal.py; ledger.csv's
default, README "ledger.csv"), against the per-increment journal of the same run summed by hand:
R7 (one debit row per call per lot at the first increment's instant, balance_after the running
sum, conservation) on every path of the engine."""
from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.ledger import DEBIT, PURCHASE, Ledger
from models.policy import CARD, PREPAID, AutoRechargeRule, Payment, Policy
from sim.engine import held_entries, ledger_log
from sim.engine.call_journal import CallJournal
from sim.engine.loop import simulate
from models.timeutil import Clock
from tests.test_blocks import DAY, HORIZON_DAYS, PAYERS, RATES, START, bursts
from tests.test_prepass import tenant_months


def summed_by_hand(rows) -> list[tuple]:
    """Debits of the same numbered call from the same lot (any non-integer lot: the overdraft)
    added into the first one's row; balance_after the running sum from 0."""
    out, at = [], {}
    for t, kind, amount, _, lot, usage, note in rows:
        numbered = kind == DEBIT and type(usage) is int and usage >= 0
        key = (usage, lot if type(lot) is int else None)
        if numbered and key in at:
            out[at[key]][2] += amount
            continue
        if numbered:
            at[key] = len(out)
        out.append([t, kind, amount, None, lot, usage, note])
    running = 0
    for r in out:
        running += r[2] if r[1] == PURCHASE else -r[2]
        r[3] = running
    return [tuple(r) for r in out]


def same_run_both_ways(w, policy, a, seed, **kwargs):
    runs = [simulate(w, policy, a, np.random.SeedSequence(seed), journal=j, **kwargs) for j in ("increments", "calls")]
    inc, calls = (r.account.ledger for r in runs)
    assert list(calls.journal) == summed_by_hand(list(inc.journal))
    assert type(calls.journal) is CallJournal and type(inc.journal) is not CallJournal
    if len(calls.journal):
        assert calls.journal[-1][3] == calls.balance == inc.balance           # R7: the rows add up
    return runs


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(tenant_months())
def test_property_every_path_journals_per_call_per_lot(case):
    """Months, pool resets, warm-ups, tight balances with auto-recharge and declines, top-ups,
    expiry, overdraft (no mid-call cut-off) and postpay: the planned path (and its Replan
    fallback) and the exact one-event-per-increment loop."""
    same_run_both_ways(*case)
    same_run_both_ways(*case, fund_ahead=False)


def burst_world(switches, warmup: int) -> SimpleNamespace:
    """The world of tests/test_blocks.py's bursts."""
    return SimpleNamespace(payers=PAYERS, switches=switches, rates=RATES, clock=Clock(START),
                           horizon=HORIZON_DAYS * DAY, measure_from=warmup)


REPLAYS = {"partial": 0, "left for later": 0}


def _early_replay(self, t, priority):
    """At every flush, catch up only to 90 s before it (any point before the safe one is as
    valid), so that replays leave entries for later; counted."""
    self._close_flush()
    pending = self.pending
    self._replay(min((t - 90, priority), self.key))
    REPLAYS["partial"] += 1
    REPLAYS["left for later"] += 0 < self.pending < pending


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(bursts())
def held_blocks_journal_per_call_per_lot(case):
    switches, policy, a, warmup, seed = case
    w = burst_world(switches, warmup)
    with mock.patch.object(ledger_log, "SLICE", 7), \
            mock.patch.object(ledger_log.LoggedLedger, "logged_through", _early_replay):
        same_run_both_ways(w, policy, a, seed)


def test_property_held_blocks_journal_per_call_per_lot():
    """Bursts of credit-only calls held in blocks, the journal replayed during the run, at every
    flush up to 90 s before it, and in slices: groups straddle replays, slices, lot boundaries and
    purchases. Replays that leave entries for later do happen (counted)."""
    REPLAYS.update(partial=0, **{"left for later": 0})
    held_blocks_journal_per_call_per_lot()
    assert REPLAYS["partial"] > 20 and REPLAYS["left for later"] > 0, REPLAYS


def test_a_call_across_two_lots_and_an_overdraft_by_hand():
    """R7 and R6 (no cut-off): call 0's third increment takes lot 1's last 0.5000 and 0.5000 of
    lot 2; call 1 runs in between; call 0 then overdraws. One row per (call, lot) at the first
    instant, the overdraft one row with its note; balance_after the running sum."""
    led = Ledger()
    led.journal = CallJournal()
    led.purchase(0, 25_000, 10**9)                        # lot 1
    led.debit(10, 10_000, 0)
    led.debit(20, 10_000, 1)
    led.purchase(50, 20_000, 10**9)                       # lot 2
    led.debit(70, 10_000, 0)                              # 5,000 from lot 1, 5,000 from lot 2
    led.debit(80, 10_000, 1)
    led.debit(130, 10_000, 0, allow_overdraft=True)       # lot 2's last 5,000, 5,000 overdrawn
    led.debit(190, 10_000, 0, allow_overdraft=True)       # all overdrawn
    assert list(led.journal) == [
        (0, PURCHASE, 25_000, 25_000, 1, "", ""),
        (10, DEBIT, 15_000, 10_000, 1, 0, ""),            # call 0, lot 1: at 10 and 70
        (20, DEBIT, 10_000, 0, 1, 1, ""),
        (50, PURCHASE, 20_000, 20_000, 2, "", ""),
        (70, DEBIT, 10_000, 10_000, 2, 0, ""),            # call 0, lot 2: at 70 and 130
        (80, DEBIT, 10_000, 0, 2, 1, ""),
        (130, DEBIT, 15_000, -15_000, "", 0, "overdraft"),  # at 130 and 190
    ]
    assert led.balance == -15_000 and led.purchased == 45_000 and led.spent == 60_000


def test_groups_of_ended_calls_are_closed():
    """With the calls' starts and durations known, lookups only see the calls under way: 10,000
    one-minute calls in a row leave no more open groups than calls that overlap."""
    n = 10_000
    start = np.arange(n, dtype=np.int64) * 30            # each call overlaps the next one
    duration = np.full(n, 60, np.int32)
    j = CallJournal(start, duration)
    led = Ledger()
    led.journal = j
    led.purchase(0, 10**12, 10**12)
    for i in range(n):
        led.debit(int(start[i]), 100, i)
        led.debit(int(start[i]) + 30, 100, i)
        if i % 1000 == 999:
            rows = np.array([[int(start[i]) + 31, 1, 0, 1, i]], np.int64)
            j.extend_debit_columns(rows[:, 0], rows[:, 1], rows[:, 3], rows[:, 4])   # a block folds, closes ended groups
            assert len(j._keys) <= 4
    assert len(j) == n + 1
    assert [r[2] for r in j][1:] == [201 if i % 1000 == 999 else 200 for i in range(n)]   # the blocks' rows added


def test_journal_granularity_is_checked(tmp_path):
    """A journal mode that is neither, or files asked per increment from a run that kept its
    journal per call: a clear error, not a silently different ledger.csv."""
    from pathlib import Path

    import pytest

    from sim.commands.load import load
    from sim.engine.traffic import generate
    from sim.outputs.policy_files import FileOptions, write_policy_files

    _, w, _ = load(Path(__file__).parent.parent / "scenarios" / "us-office-domestic.yaml", 1)
    a = generate(w, np.random.SeedSequence(1))
    policy = w.policies[0]
    with pytest.raises(ValueError, match="journal must be"):
        simulate(w, policy, a, np.random.SeedSequence(0), journal="call")
    run = simulate(w, policy, a, np.random.SeedSequence(0), journal="calls")
    with pytest.raises(ValueError, match="per call"):
        write_policy_files(tmp_path / "p", w, a, run, rep_seed=0, options=FileOptions("csv", "increments"))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.integers(-3, 40), st.integers(0, 3), st.integers(0, 10**6)), min_size=1, max_size=60),
       st.integers(0, 2**31 - 100))
def test_property_rows_grouped_densely_or_sorted_alike(rows, offset):
    """`_grouped` counts close keys in a dense table and sorts spread ones: both give every
    distinct (call, lot) key in the order of its first row, with that row and its amounts'
    exact sum."""
    from sim.engine.call_journal import SPAN, _grouped
    calls = np.array([c for c, _, _ in rows], np.int64)
    spread = calls * (1 << 20)                    # the same groups, far apart: sorted
    for call_numbers in (calls + offset, spread + offset):
        lots = np.array([lot for _, lot, _ in rows], np.int64)
        key = call_numbers * SPAN + lots
        amount = np.array([a for _, _, a in rows], np.int64)
        first, sums, keys = _grouped(call_numbers, lots, amount)
        expected: dict[int, list[int]] = {}
        for i, (k, a) in enumerate(zip(key.tolist(), amount.tolist())):
            expected.setdefault(k, [i, 0])[1] += a
        by_row = sorted(expected, key=lambda k: expected[k][0])
        assert keys.tolist() == by_row
        assert first.tolist() == [expected[k][0] for k in by_row]
        assert sums.tolist() == [expected[k][1] for k in by_row]


DRAWN = {"one": 0, "two": 0, "neither": 0}


def _counting_drawn_from(original):
    def drawn_from(self):
        out = original(self)
        DRAWN["neither" if out is None else out[0]] += 1
        return out
    return drawn_from


@st.composite
def recharging_bursts(draw):
    """tests/test_blocks.py's bursts under an auto-recharge that pays at once: lots are bought
    while calls are held, and the older lot runs out among them."""
    switches, _, a, warmup, seed = draw(bursts())
    trigger = draw(st.sampled_from([1000, 5000]))
    policy = Policy("recharge", PREPAID, draw(st.sampled_from([5000, 30000])),
                    AutoRechargeRule(trigger, draw(st.sampled_from([20000, 100000]))), Payment(CARD, None, 0.0, 0, 600, 0))
    return switches, policy, a, warmup, seed


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(bursts(), recharging_bursts()))
def flushes_logged_per_call(case):
    switches, policy, a, warmup, seed = case
    w = burst_world(switches, warmup)
    with mock.patch.object(ledger_log, "SLICE", 7):
        same_run_both_ways(w, policy, a, seed)


def test_property_flushes_logged_per_call_journal_as_increments_would():
    """A flush's held increments logged one entry per call when the lots say which paid them
    (`LoggedLedger._drawn_from`): one lot throughout, or the lot then paying emptied by one of
    them and the next paying the rest (auto-recharge lots bought before the first ran out).
    The per-call journal is the per-increment one summed by hand. Both cases happen (counted)."""
    DRAWN.update(one=0, two=0, neither=0)
    original = ledger_log.LoggedLedger._drawn_from
    with mock.patch.object(ledger_log.LoggedLedger, "_drawn_from", _counting_drawn_from(original)):
        flushes_logged_per_call()
    assert DRAWN["one"] > 0 and DRAWN["two"] > 0, DRAWN


def test_a_flush_split_where_the_first_lot_runs_out_by_hand():
    """`held_entries.split`, 60 s increments. Call 7 from 0 s: 3 increments of 10, its fee 5 on
    the first; call 9 from 30 s: 2 of 20; another debit of 4 at 60 s by the event of priority 8
    (after call 7's increment at 60 s, priority 7). In event order the money drawn is 15, 35, 45,
    49, 69, 79. The lot holding 45 runs out with call 7's increment at 60 s: kept whole, each
    call summed on either side. Holding 46, the other debit empties it: nothing kept whole."""
    other = np.array([[60 * held_entries.SPAN + 8 + 15, 4]], np.int64)       # (key, amount)
    segments = [np.array(x, np.int64) for x in ([0, 30], [3, 2], [7, 9], [10, 20], [5, 0])]

    def entries(money):
        return sorted(zip(*(c.tolist() for c in held_entries.split(segments, other, money, 60))))

    assert entries(45) == [(0, 7, 15), (30, 9, 20), (60, 7, 10), (90, 9, 20), (120, 7, 10)]
    assert entries(46) == [(0, 7, 25), (30, 9, 20), (90, 9, 20), (120, 7, 10)]
    assert entries(15) == [(0, 7, 15), (30, 9, 40), (60, 7, 20)]          # the fee's increment empties it
    assert sorted(zip(*(c.tolist() for c in held_entries.increments(*segments, 60)))) == \
        [(0, 7, 15), (30, 9, 20), (60, 7, 10), (90, 9, 20), (120, 7, 10)]


def test_rows_too_wide_to_pack_are_kept_row_by_row():
    """A batch with an instant past 2^31 s, or a UsageId past 2^31, is appended row by row: the
    rows that fit are packed, the others kept as tuples; the per-call rows and running balances
    read back the same."""
    j = CallJournal()
    j.extend_debit_columns(np.array([5, 2**31 + 5], np.int64), np.array([3, 4], np.int64),
                           np.array([1, 1], np.int64), np.array([7, 8], np.int64))
    j.extend_overdraft_rows(np.array([9]), np.array([2]), np.array([0]), np.array([2**33]))
    assert list(j) == [(5, DEBIT, 3, -3, 1, 7, ""), (2**31 + 5, DEBIT, 4, -7, 1, 8, ""),
                       (9, DEBIT, 2, -9, "", 2**33, "overdraft")]
    assert list(j.columns()[2]) == [CallJournal.LOT_DEBIT, CallJournal.TUPLE, CallJournal.TUPLE]
