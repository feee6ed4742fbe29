"""Memory-saving representations change no result (issue 13): narrow integer columns, outcome
money columns sized by the rate card's bound, and the heap given back between phases."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from models.policy import PREPAID, Policy, Switches
from models.rates import Rate, RateCard
from sim.engine import memory
from sim.engine.loop import Outcomes, simulate
from sim.engine.prepass import narrow
from tests.test_prepass import OUT, US, agree, attempts, payer, world
from tests.billing_cases import PAYG_CREDITS


def test_narrow_keeps_int32_only_for_values_that_fit():
    assert narrow(np.array([0, 5, 2**31 - 1], np.int64)).dtype == np.int32
    assert narrow(np.array([-2**31, 7], np.int64)).dtype == np.int32
    for wide in ([0, 2**31], [-2**31 - 1, 0]):
        out = narrow(np.array(wide, np.int64))
        assert out.dtype == np.int64 and out.tolist() == wide
    assert narrow(np.zeros(0, np.int64)).dtype == np.int32


def _card_world(per_minute: int, fee: int = 0):
    return SimpleNamespace(switches=Switches(billing_increment_seconds=60),
                           rates=RateCard(outbound={"US": Rate(per_minute, fee)}))


def test_R6_outcome_money_is_int32_only_when_no_call_can_reach_2_31():
    """The longest call (1,000 minutes) at the dearest rate bounds every charge: 2,147,483 per
    minute x 1,000 = 2,147,483,000 < 2^31 stays int32; 2,147,484 x 1,000 passes 2^31 -> int64."""
    a = attempts([(0, OUT, 0, US, 60), (60, OUT, 0, US, 60_000)])
    fits = Outcomes.new(_card_world(2_147_483), a)
    assert (fits.charge.typecode, fits.fee.typecode) == ("i", "i")
    assert list(fits.connected) == [-1, -1] and list(fits.paid) == [0, 0]
    big = Outcomes.new(_card_world(2_147_484), a)
    assert (big.charge.typecode, big.fee.typecode) == ("q", "q")
    big.charge[1] = 2_147_484_000            # the bound's own charge is representable
    assert Outcomes.new(_card_world(1, fee=2**31), a).fee.typecode == "q"
    with pytest.raises(OverflowError):        # int32 never wraps: an overflow would raise
        fits.charge[0] = 2**31


def test_R6_a_long_call_at_a_dear_rate_bills_the_same_in_int64_outcomes():
    """A 1,000-hour call at 2,000.0000 a minute (R6) charges 1.2e11 ten-thousandths: outcomes in
    int64; the planned path and the exact loop agree on it."""
    w = world([payer(PAYG_CREDITS)])
    w.rates = RateCard(outbound={"US": Rate(20_000_000)})
    a = attempts([(0, OUT, 0, US, 3_600_000)])
    exact = agree(w, Policy("p", PREPAID, 10**13), a)
    assert exact.outcomes.charge.typecode == "q" and exact.outcomes.charge[0] == 60_000 * 20_000_000


def test_release_gives_the_heap_back_and_changes_nothing():
    if memory._LIBC is None:
        pytest.skip("not glibc")
    w = world([payer(PAYG_CREDITS)])
    a = attempts([(0, OUT, 0, US, 600)])
    before = simulate(w, Policy("p", PREPAID, 10**6), a, np.random.SeedSequence(0)).account.ledger.balance
    junk = [bytearray(100) for _ in range(200_000)]
    del junk
    memory.release()
    after = simulate(w, Policy("p", PREPAID, 10**6), a, np.random.SeedSequence(0)).account.ledger.balance
    assert before == after == 10**6 - 10 * 185 - 25


def test_release_has_arrows_pool_give_back_what_tables_freed():
    """Once pyarrow is loaded (files written), release() also empties its pool's free lists;
    live tables are untouched."""
    import pyarrow as pa
    keep = pa.array(list(range(1000)), pa.int64())            # built in Arrow's pool (not a numpy view)
    junk = pa.array(list(range(1 << 18)), pa.int64())
    del junk
    pool = pa.default_memory_pool()
    memory.release()
    assert pool.bytes_allocated() >= keep.nbytes
    assert keep.to_numpy().tolist() == list(range(1000))


def test_release_skips_small_phases(monkeypatch):
    """A collection costs tens of ms: after a phase below WORTH_IT attempts it is skipped; at
    WORTH_IT and above (and with no size given) it runs."""
    collected = []
    monkeypatch.setattr(memory.gc, "collect", lambda: collected.append(1))
    memory.release(memory.WORTH_IT - 1)
    assert collected == []
    memory.release(memory.WORTH_IT)
    memory.release()
    assert collected == [1, 1]
