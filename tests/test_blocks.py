"""Credit-paid calls held as blocks (sim/engine/planned.py Batches, sim/engine/ahead.py HeldBlock).

Without records, runs of calls only credits pay are held whole, many at once, while the balance
less everything held stays at or above the guard (the auto-recharge trigger, or one unit), and
given back (arrivals included) the moment another debit, an expiry or a reading of the totals
could see the difference; and runs of calls whose first increment the balance cannot fund,
nothing held and no purchase due before them, are blocked at once. Every figure must be the one
of one event and one debit per increment (R6 funding order, R7 lots and expiry, R8 trigger
crossings, R9 notices), on bursts of overlapping toll-free and pay-as-you-go calls with tight
balances, small recharges, declines and expiry.
"""
from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.account import PRIO_PAYMENT
from models.calls import CallKind
from models.policy import CARD, POSTPAY, PREPAID, AutoRechargeRule, Payment, Policy, Switches
from models.timeutil import Clock
from sim.engine.ahead import CreditHolds
from sim.engine.funding import EngineAccount
from sim.engine.loop import simulate
from sim.inputs.attempts import TENANT, Attempts
from tests.test_properties import ALLOWANCES, COUNTRIES, DAY, HORIZON_DAYS, PAYERS, RATES, START, _observable, _totals

SEEN = {"blocks": 0, "released_unarrived": 0, "held_below": 0, "released_at_payment": 0, "refused": 0}


@st.composite
def bursts(draw):
    """Bursts of overlapping credit-paid calls (toll-free to the tenant, pay-as-you-go users,
    meeting toll-free dial-ins), some around the initial lot's expiry on day 365 and the
    1 Feb reset, with a few pool-paid and free calls among them."""
    inc = draw(st.sampled_from([60, 60, 6, 45]))
    switches = Switches(mid_call_cutoff=draw(st.booleans()), billing_increment_seconds=inc, allowances=ALLOWANCES)
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.sampled_from([2 * DAY, 31 * DAY - 1800, 365 * DAY - 1200, 100 * DAY]))
        for _ in range(draw(st.integers(5, 30))):
            kind, payer = draw(st.sampled_from([(CallKind.UCAP_IN, TENANT)] * 4 + [(CallKind.USER_OUT, 0)] * 3 + [
                (CallKind.CONF_IN_TOLL_FREE, 3), (CallKind.USER_OUT, 1), (CallKind.USER_IN, 1)]))
            t = at + draw(st.integers(0, 3600))
            rows.append((t, int(kind), payer, draw(st.sampled_from([0, 0, 1, 2])), draw(st.integers(1, 1500)), -1, -1))
    trigger = draw(st.sampled_from([1000, 5000, 20000]))
    rule = AutoRechargeRule(trigger, draw(st.sampled_from([trigger, 20000, 100000])))
    payment = Payment(CARD, None, draw(st.sampled_from([0.0, 0.3, 1.0])), draw(st.sampled_from([0, 300, 3600])),
                      600, draw(st.integers(0, 2)))
    policy = Policy("blocks", PREPAID, draw(st.sampled_from([5000, 30000, 200000, 2000000])),
                    rule if draw(st.booleans()) else None, payment)
    warmup = draw(st.sampled_from([0, 0, 2 * DAY + 1800, 40 * DAY]))
    return switches, policy, Attempts.from_rows(rows, list(COUNTRIES)), warmup, draw(st.integers(0, 2**32 - 1))


def _counting_release(original):
    def release(self, t, priority):
        self.flush(t, priority)
        SEEN["released_unarrived"] += sum(int((b.done == 0).sum()) for b in self.blocks)
        return original(self, t, priority)
    return release


def _counting_hold_block(original):
    def hold_block(self, *args):
        SEEN["blocks"] += 1
        return original(self, *args)
    return hold_block


def _counting_refusals(original):
    def refuse_for_funds(self, *args):
        SEEN["refused"] += 1
        return original(self, *args)
    return refuse_for_funds


def blocks_change_nothing(keep_records, postpay=False, recharge_share=None):
    """`recharge_share` (a fraction): every policy recharges that share of its trigger."""
    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(bursts())
    def check(case):
        switches, policy, attempts, warmup, seed = case
        if postpay:                  # R10: the same funds, no auto-recharge; increments overdraw
            policy = Policy(policy.name, POSTPAY, policy.initial_funds, None, policy.payment)
        if recharge_share is not None:
            trigger = policy.auto_recharge.trigger if policy.auto_recharge else 5000
            policy = Policy(policy.name, PREPAID, policy.initial_funds,
                            AutoRechargeRule(trigger, int(trigger * recharge_share)), policy.payment)
        world = SimpleNamespace(payers=PAYERS, switches=switches, rates=RATES, clock=Clock(START),
                                horizon=HORIZON_DAYS * DAY, measure_from=warmup)
        exact = simulate(world, policy, attempts, np.random.SeedSequence(seed), keep_records=keep_records,
                         fund_ahead=False)
        with mock.patch.object(CreditHolds, "release", _counting_release(CreditHolds.release)), \
                mock.patch.object(CreditHolds, "hold_block", _counting_hold_block(CreditHolds.hold_block)), \
                mock.patch.object(EngineAccount, "refuse_for_funds", _counting_refusals(EngineAccount.refuse_for_funds)):
            fast = simulate(world, policy, attempts, np.random.SeedSequence(seed), keep_records=keep_records)
        assert fast.account.credit_held == 0
        assert _totals(fast) == _totals(exact)
        if keep_records:             # the journal rebuilt from the log (sim/engine/ledger_log.py), outcomes
            assert _observable(fast) == _observable(exact)
    check()


@pytest.mark.parametrize("keep_records", [False, True], ids=["metrics only", "records kept"])
def test_property_blocks_change_nothing(keep_records):
    """The property, and a check that it is worth its name: blocks are made and, at least
    sometimes, given back before some of their calls arrived, and runs of calls are refused for
    funds at once (derandomized: the same examples). With records, the journal is rebuilt from
    the ledger's log and must equal the exact one."""
    SEEN.update(blocks=0, released_unarrived=0, refused=0)
    blocks_change_nothing(keep_records)
    print(SEEN)
    assert SEEN["blocks"] > 50 and SEEN["refused"] > 50, SEEN
    assert SEEN["released_unarrived"] > 0, SEEN


@pytest.mark.parametrize("keep_records", [False, True], ids=["metrics only", "records kept"])
def test_property_postpay_holds_change_nothing(keep_records):
    """R10: postpay increments never fail and nothing happens when its balance falls, so every
    credit-only call is held (no guard) and debited in bulk with overdraft, the journal replayed
    with it: the same as one event per increment. Blocks are made (counted)."""
    SEEN.update(blocks=0, released_unarrived=0)
    blocks_change_nothing(keep_records, postpay=True)
    assert SEEN["blocks"] > 50, SEEN


def _counting_below(original):
    def hold(self, call, t):
        a = self.account
        below = a._trigger is not None and a.ledger.balance < a._trigger
        held = original(self, call, t)
        SEEN["held_below"] += held and below
        return held
    return hold


def test_property_holds_below_the_trigger_change_nothing():
    """R8: the trigger fires only on a step from at or above it to below it, so while the balance
    is below it (a recharge pending, declined or suspended) credits are held down to one unit
    (R9: nothing held may empty the balance). A purchase that lifts the balance above the
    trigger while increments are held (recharges of a third of the trigger) gives back those
    that could cross it again. The same as one event per increment, records kept; both cases
    happen (counted)."""
    SEEN.update(held_below=0, released_at_payment=0)
    release = CreditHolds.release

    def counting_release(self, t, priority):
        SEEN["released_at_payment"] += priority == PRIO_PAYMENT and self.account.credit_held > 0
        return release(self, t, priority)

    with mock.patch.object(CreditHolds, "hold", _counting_below(CreditHolds.hold)), \
            mock.patch.object(CreditHolds, "release", counting_release):
        blocks_change_nothing(True, recharge_share=0.3)
    assert SEEN["held_below"] > 50 and SEEN["released_at_payment"] > 0, SEEN


def test_r8_a_recharge_that_lifts_the_balance_above_the_trigger_gives_back_what_is_held():
    """R8, 60 s increments, US 185 + fee 25; trigger 5000, recharges of 1000 paid 300 s later.
    One call at 0 s, 600 s. At 0: 210 (5100 -> 4890, below the trigger: a recharge starts); below
    the trigger its other 9 increments (1665) are held. At 300 the payment lands: the 4 started
    (60-240 s, 740) are debited first (4150), then 1000 is bought (5150, above the trigger) while
    5 increments (925) are still held: 5150 - 925 < 5000, so they are given back. The one at 300
    s takes the balance to 4965, below the trigger again: a second recharge, at 600 s; the last 4
    (740) are held and debited before it (4225 + 1000 = 5225). Two recharges, as one event per
    increment has it."""
    from tests.test_prepass import OUT, US, agree, attempts, payer, world
    from tests.billing_cases import PAYG_CREDITS
    released = []
    release = CreditHolds.release

    def counting(self, t, priority):
        if self.account.credit_held:
            released.append((t, priority, self.account.credit_held))
        return release(self, t, priority)

    policy = Policy("small recharges", PREPAID, 5100, AutoRechargeRule(5000, 1000), Payment(CARD, None, 0.0, 300, 600, 0))
    with mock.patch.object(CreditHolds, "release", counting):
        exact = agree(world([payer(PAYG_CREDITS)]), policy, attempts([(0, OUT, 0, US, 600)]))
    assert released[:1] == [(300, PRIO_PAYMENT, 925)]
    led = exact.account.ledger
    assert [(t, amount) for t, kind, amount, *_ in led.journal if kind == "purchase"] == [(0, 5100), (300, 1000), (600, 1000)]
    assert (led.spent, led.balance, exact.account.recharge.succeeded) == (210 + 9 * 185, 5225, 2)


def test_r6_r9_calls_the_balance_cannot_fund_are_refused_at_once_in_event_order():
    """R6 / R9, 60 s increments, US 185 + fee 25 on the first, one prepaid lot of 500 and
    nothing to buy. #0 at 0 s, 300 s: 210 at 0 (290 left), 185 at 60 (105 left); at 120 its
    third increment finds 105: cut, 180 s lost. #1 at 100 s, #2 at 110 s and #3 at 200 s (60 s
    each) need 210 for their first increment: blocked for funds, all three at once when #1
    arrives (nothing held, no purchase pending before #3). The first failure, #1's, raises the
    exhausted notice (105 left). Disruptions still come in event order: #1, #2, #0's cut, #3;
    360 s lost. The same as one event per increment."""
    from models.account import BALANCE_EXHAUSTED
    from tests.test_prepass import OUT, US, agree, attempts, payer, world
    from tests.billing_cases import PAYG_CREDITS
    a = attempts([(0, OUT, 0, US, 300), (100, OUT, 0, US, 60), (110, OUT, 0, US, 60), (200, OUT, 0, US, 60)])
    runs = []
    refuse = EngineAccount.refuse_for_funds

    def counting(self, t, idx, *rest):
        runs.append(idx.tolist())
        return refuse(self, t, idx, *rest)

    with mock.patch.object(EngineAccount, "refuse_for_funds", counting):
        exact = agree(world([payer(PAYG_CREDITS)]), Policy("one lot", PREPAID, 500), a)
    assert runs == [[1, 2, 3], [1, 2, 3]]             # records kept, then metrics only
    acc = exact.account
    assert (acc.attempts, acc.connected, acc.blocked, acc.cut, acc.blocked_funding, acc.cut_funding,
            acc.seconds_lost) == (4, 1, 3, 1, 3, 1, 360)
    assert [(t, i, why, lost) for t, i, _, _, why, lost in acc.disruptions] == [
        (100, 1, "insufficient_funds", 60), (110, 2, "insufficient_funds", 60), (120, 0, "insufficient_funds", 180),
        (200, 3, "insufficient_funds", 60)]
    assert [n for n in acc.notifications if n[1] == BALANCE_EXHAUSTED] == [(100, BALANCE_EXHAUSTED, "balance 105")]
    assert (acc.ledger.spent, acc.ledger.balance) == (395, 105)


def test_r8_r9_no_calls_are_refused_at_once_while_a_debit_could_still_start_a_recharge():
    """R8 / R9, 60 s increments; one lot of 1000, trigger 300, recharges of 500 paid at once.
    #0 at 0 s, 600 s to the US: 210, then 185 at 60, 120, 180: at 180 the balance steps from 420
    to 235, below the trigger: a recharge lands at 180 (735). #1 at 100 s and #2 at 200 s dial
    AE (2000 a minute): neither can be funded, but they may not be refused together at 100 s
    (the balance was above the trigger, so #0's next debits could buy): the purchase at 180
    re-arms the exhausted notice, which #2 raises again."""
    from models.account import BALANCE_EXHAUSTED, RECHARGE_SUCCEEDED
    from tests.test_prepass import AE, OUT, US, agree, attempts, payer, world
    from tests.billing_cases import PAYG_CREDITS
    policy = Policy("at once", PREPAID, 1000, AutoRechargeRule(300, 500), Payment(CARD, None, 0.0, 0, 600, 0))
    a = attempts([(0, OUT, 0, US, 600), (100, OUT, 0, AE, 60), (200, OUT, 0, AE, 60)])
    exact = agree(world([payer(PAYG_CREDITS)]), policy, a)
    assert [n for n in exact.account.notifications if n[0] <= 200] == [
        (100, BALANCE_EXHAUSTED, "balance 605"), (180, RECHARGE_SUCCEEDED, "500"), (200, BALANCE_EXHAUSTED, "balance 735")]
