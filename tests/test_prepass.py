"""The engine's pre-pass (sim/engine/prepass.py) and the planned loop (sim/engine/planned.py):
hand-worked golden cases (billing-rules.md R4, R5, R6, R11, R12), the work it takes off the
event loop, and a property comparing `simulate` with the exact one-event-per-increment loop
(`fund_ahead=False`) on random tenants over several months.

Every golden case is billed three ways and must agree with the figures worked out by hand:
`simulate_planned` called directly (it must not replan), `simulate` (which dispatches to it)
and the exact loop.
"""
from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.engine.planned as planned
from models.account import Payer
from models.calls import CallKind, Reason
from models.licences import LicenceSet
from models.policy import CARD, ENTERPRISE_AGREEMENT, POSTPAY, PREPAID, AutoRechargeRule, Payment, Policy, Switches
from models.rates import Rate, RateCard
from models.timeutil import Clock
from sim.analysis.metrics import metrics_of
from sim.engine import prepass
from sim.engine.loop import simulate
from sim.inputs.attempts import TENANT, Attempts
from tests.billing_cases import CONF, CONF_CREDITS, DI_PLAN_CREDITS, PAYG_CREDITS, PLAN, PLAN_CREDITS
from tests.test_properties import _observable, _totals

DAY = 86400
JAN = datetime(2026, 1, 1, tzinfo=timezone.utc)
COUNTRIES = ["US", "GB", "AE"]
US, GB, AE = 0, 1, 2
OUT, IN, EMERGENCY, UCAP_IN, CONF_OUT = (int(CallKind.USER_OUT), int(CallKind.USER_IN), int(CallKind.EMERGENCY),
                                         int(CallKind.UCAP_IN), int(CallKind.CONF_OUT))
# one increment of 60 s: US 185 + fee 25 on the first credit-paid one; GB 350 + 100
RATES = RateCard(outbound={"US": Rate(185, 25), "GB": Rate(350, 100), "AE": Rate(2000)},
                 toll_free_inbound={"US": Rate(500), "GB": Rate(700, 50)})


def payer(licences, country="US", dialout="any"):
    return Payer(f"{'+'.join(licences)}.{country}.{dialout}@x".lower(), country, LicenceSet.of(licences), dialout)


def world(payers, start=JAN, days=40, measure_from=0, **switches):
    switches.setdefault("billing_increment_seconds", 60)
    return SimpleNamespace(payers=payers, switches=Switches(**switches), rates=RATES, clock=Clock(start),
                           horizon=days * DAY, measure_from=measure_from)


def attempts(rows):
    """rows: (t, kind, payer, country, duration); numbered in order of t (stable)."""
    return Attempts.from_rows([(*r, -1, -1) for r in rows], list(COUNTRIES))


def agree(w, policy, a, seed=0, *others):
    """With records, `simulate` and the `others` runs equal the exact one-event-per-increment
    loop in every observable and metric; without records, their totals do. Returns the exact run."""
    exact = simulate(w, policy, a, np.random.SeedSequence(seed), fund_ahead=False)
    want = _observable(exact), metrics_of(exact)
    for run in (simulate(w, policy, a, np.random.SeedSequence(seed)), *others):
        assert (_observable(run), metrics_of(run)) == want
    lean = [simulate(w, policy, a, np.random.SeedSequence(seed), keep_records=False, fund_ahead=flag)
            for flag in (True, False)]
    assert _totals(lean[0]) == _totals(lean[1])
    return exact


def bill(w, policy, a, seed=0):
    """The planned path (it must not replan), `simulate` and the exact loop agree: the planned run and its
    pre-pass (as built: the run's loop tables take its per-attempt columns)."""
    pre = prepass.build(w, policy, a)
    assert pre is not None
    built = copy.copy(pre)
    run = planned.simulate_planned(w, policy, a, pre, np.random.SeedSequence(seed), True)
    assert pre.mixed is None and pre.route_of is None and built.mixed is not None
    agree(w, policy, a, seed, run)
    return run, built


def per_call(run):
    o = run.outcomes
    return [(o.connected[i], o.charge[i], o.fee[i], o.paid[i]) for i in range(len(o.connected))]


def counters(run):
    a = run.account
    return dict(attempts=a.attempts, connected=a.connected, blocked=a.blocked, cut=a.cut,
                seconds_lost=a.seconds_lost, blocked_funding=a.blocked_funding, cut_funding=a.cut_funding)


# ---- golden cases ------------------------------------------------------------------------------

def test_r4_r6_domestic_pool_runs_dry_mid_month_ties_to_the_lower_attempt():
    """R4 / R6: one Domestic Calling Plan user, a 5-minute pool (300 s), 60 s increments.

    #0 Jan 2, 120 s: pool 2 (3 left). #1 and #2 both start Jan 3 00:00, 200 s (4 increments).
    At t: #1 then #2 (tie: lower attempt first) take one each (1 left). At t+60: #1 takes the
    last minute (the pool is empty from t+60), #2 goes to credits (185 + fee 25). t+120 and
    t+180: both credits. So #1: pool 2 + credits 2 = 370 + 25; #2: pool 1 + credits 3 = 555 + 25;
    paid bits 3 (pool and credits). #3 Jan 4, 60 s: the pool is still empty: credits 185 + 25.
    A free inbound call (#4) changes nothing. Balance 1.0000 - 0.1185 = 0.8815."""
    w = world([payer(PLAN_CREDITS)], allowances={"DOMESTIC_CALLING_PLAN": {"US": 5}})
    t1 = 2 * DAY
    a = attempts([(DAY, OUT, 0, US, 120), (t1, OUT, 0, US, 200), (t1, OUT, 0, US, 200),
                  (3 * DAY, OUT, 0, US, 60), (3 * DAY + 5, IN, 0, US, 600)])
    run, pre = bill(w, Policy("p", PREPAID, 10000), a)
    assert per_call(run) == [(120, 0, 0, 1), (200, 370, 25, 3), (200, 555, 25, 3), (60, 185, 25, 2), (600, 0, 0, 0)]
    assert run.account.pools.report == [("2026-01", "US", "MCOPSTN1", "domestic", 300, 300, 0),
                                        ("2026-02", "US", "MCOPSTN1", "domestic", 300, 0, 300)]
    assert counters(run) == dict(attempts=5, connected=5, blocked=0, cut=0, seconds_lost=0, blocked_funding=0,
                                 cut_funding=0)
    led = run.account.ledger
    assert (led.purchased, led.spent, led.forfeited, led.balance) == (10000, 1185, 0, 8815)
    debits = [(t, amount, usage) for t, kind, amount, _, _, usage, _ in led.journal if kind == "debit"]
    assert debits == [(t1 + 60, 185 + 25, 2), (t1 + 120, 185 + 25, 1), (t1 + 120, 185, 2), (t1 + 180, 185, 1),
                      (t1 + 180, 185, 2), (3 * DAY, 185 + 25, 3)]
    # the pre-pass: the last increment the pool pays is #1's at t1+60; #1-#3 reach credits
    assert pre.cuts[0][0] == (t1 + 60) * len(a) + 1
    assert pre.loop.tolist() == [1, 2, 3] and not pre.mixed.any()
    assert metrics_of(run)["pool_minutes_used"] == 5


def dni_case(dni_cap):
    """One Domestic and International Calling Plan user: 3 domestic, 2 international minutes.
    #0 Jan 2, 120 s to GB empties the international pool; #1 Jan 3, 60 s to the US;
    #2 Jan 4, 60 s to GB (credits either way: 350 + 100)."""
    w = world([payer(DI_PLAN_CREDITS)], dni_cap=dni_cap,
              allowances={"DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"US": {"domestic": 3, "international": 2}}})
    a = attempts([(DAY, OUT, 0, GB, 120), (2 * DAY, OUT, 0, US, 60), (3 * DAY, OUT, 0, GB, 60)])
    return bill(w, Policy("p", PREPAID, 10000), a)


def test_r4_whichever_first_an_empty_international_pool_empties_the_domestic_one():
    """R4 dni_cap whichever_first: once the international pool is empty the domestic pool
    counts as empty too, so #1 (domestic) is paid by credits (185 + 25) and the domestic pool
    reports 0 of 180 s used."""
    run, pre = dni_case("whichever_first")
    assert per_call(run) == [(120, 0, 0, 1), (60, 185, 25, 2), (60, 350, 100, 2)]
    assert run.account.pools.report[:2] == [("2026-01", "US", "MCOPSTN2", "domestic", 180, 0, 180),
                                            ("2026-01", "US", "MCOPSTN2", "international", 120, 120, 0)]
    assert run.account.ledger.spent == 185 + 25 + 350 + 100
    # one group of the two pools (and the dial-out pool's, empty: no conferencing user)
    assert len(pre.cuts) == 2 and pre.loop.tolist() == [1, 2]


def test_r4_independent_dni_pools_gate_only_their_own_calls():
    """R4 dni_cap independent: the empty international pool leaves the domestic one paying #1."""
    run, pre = dni_case("independent")
    assert per_call(run) == [(120, 0, 0, 1), (60, 0, 0, 1), (60, 350, 100, 2)]
    assert run.account.pools.report[:2] == [("2026-01", "US", "MCOPSTN2", "domestic", 180, 60, 120),
                                            ("2026-01", "US", "MCOPSTN2", "international", 120, 120, 0)]
    assert run.account.ledger.spent == 350 + 100
    assert len(pre.cuts) == 3 and pre.loop.tolist() == [2]      # a group each, and the dial-out pool's


def no_credits_case(cutoff):
    """A Domestic Calling Plan user without the credits licence, 3 pool minutes, no money.
    #0 Jan 2, 120 s: pool 2. #1 Jan 3, 150 s: pool pays its first increment (the last minute),
    not its second. #2 Jan 4, 60 s: nothing pays its first increment."""
    w = world([payer(PLAN)], mid_call_cutoff=cutoff, allowances={"DOMESTIC_CALLING_PLAN": {"US": 3}})
    a = attempts([(DAY, OUT, 0, US, 120), (2 * DAY, OUT, 0, US, 150), (3 * DAY, OUT, 0, US, 60)])
    return bill(w, Policy("p", PREPAID, 0), a)


def test_r6_r11_pool_exhausted_without_credits_licence_blocks_and_cuts():
    """R6 / R11 with mid_call_cutoff true: #1 is cut at its second increment (Jan 3 00:01,
    pool_exhausted, 90 s lost); #2 is blocked (pool_exhausted, 60 s lost). Both are decided by
    the pre-pass: nothing goes through the policy's loop."""
    run, pre = no_credits_case(True)
    assert per_call(run) == [(120, 0, 0, 1), (60, 0, 0, 1), (-1, 0, 0, 0)]
    assert run.account.disruptions == [(2 * DAY + 60, 1, 0, OUT, Reason.POOL_EXHAUSTED, 90),
                                       (3 * DAY, 2, 0, OUT, Reason.POOL_EXHAUSTED, 60)]
    assert counters(run) == dict(attempts=3, connected=2, blocked=1, cut=1, seconds_lost=150, blocked_funding=1,
                                 cut_funding=1)
    assert run.account.ledger.spent == 0 and sorted(run.account.affected) == [0]
    assert run.account.pools.report[0] == ("2026-01", "US", "MCOPSTN1", "domestic", 180, 180, 0)
    assert len(pre.loop) == 0


def test_r6_pool_exhausted_without_cutoff_the_connected_call_completes_on_overdraft():
    """R6 with mid_call_cutoff false: #1 completes; its 2nd and 3rd increments (no pool, no
    credits licence) are charged to the balance as overdraft: 185 + 25 and 185, balance -395.
    #2 is still blocked (pool_exhausted): nothing may start it."""
    run, pre = no_credits_case(False)
    assert per_call(run) == [(120, 0, 0, 1), (150, 370, 25, 3), (-1, 0, 0, 0)]
    assert run.account.disruptions == [(3 * DAY, 2, 0, OUT, Reason.POOL_EXHAUSTED, 60)]
    assert counters(run) == dict(attempts=3, connected=2, blocked=1, cut=0, seconds_lost=60, blocked_funding=1,
                                 cut_funding=0)
    led = run.account.ledger
    assert (led.spent, led.balance, led.overdrawn) == (395, -395, 395)
    assert pre.loop.tolist() == [1]


def test_r4_warm_up_mid_month_and_pro_rata_first_month():
    """R4 first_month_allowance pro_rata: a run from 16 Jan gets 16/31 of a 10-minute pool,
    rounded down to whole minutes: 5 minutes (300 s); February gets 600 s. The warm-up ends
    on 21 Jan 00:00 (measure_from, 5 days).

    #0 16 Jan 12:00, 60 s to GB: credits 350 + 100 (no international pool), in the warm-up.
    #1 17 Jan, 120 s: pool 2, in the warm-up. #2 starts 60 s before the warm-up ends, 180 s:
    pool 3, of which 1 in the warm-up (increments at the end of the warm-up count after it).
    #3 22 Jan, 120 s: the pool is empty: credits 2 x 185 + 25. #4 3 Feb, 240 s: pool 4.
    Measured: pool minutes 2 + 4 = 6, credits spent 0.0395 (all in January), none purchased."""
    start = datetime(2026, 1, 16, tzinfo=timezone.utc)
    mf = 5 * DAY
    w = world([payer(PLAN_CREDITS)], start=start, days=30, measure_from=mf, first_month_allowance="pro_rata",
              allowances={"DOMESTIC_CALLING_PLAN": {"US": 10}})
    feb3 = Clock(start).to_t(datetime(2026, 2, 3, tzinfo=timezone.utc))
    a = attempts([(DAY // 2, OUT, 0, GB, 60), (DAY, OUT, 0, US, 120), (mf - 60, OUT, 0, US, 180),
                  (mf + DAY, OUT, 0, US, 120), (feb3, OUT, 0, US, 240)])
    run, pre = bill(w, Policy("p", PREPAID, 10000), a)
    assert per_call(run) == [(60, 350, 100, 2), (120, 0, 0, 1), (180, 0, 0, 1), (120, 370, 25, 2), (240, 0, 0, 1)]
    assert run.account.pools.report == [("2026-01", "US", "MCOPSTN1", "domestic", 300, 300, 0),
                                        ("2026-02", "US", "MCOPSTN1", "domestic", 600, 240, 360)]
    assert pre.used_at_measure == [180, 0]            # the domestic pool's; the dial-out pool's (none)
    m = metrics_of(run)
    assert m["pool_minutes_used"] == 6
    assert (m["credits_spent"], m["credits_purchased"], m["opening_balance"], m["calls_attempted"]) == (
        Decimal("0.0395"), 0, Decimal("0.955"), 2)
    zero = {"expired": 0, "purchased": 0, "disruptions": 0, "hours_exhausted": 0}
    assert m["monthly"] == [("2026-01", {"spent": Decimal("0.0395"), **zero}), ("2026-02", {"spent": 0, **zero})]


def test_r5_pro_rata_first_month_without_dial_out_minutes_the_pool_still_pays_from_february():
    """R5 with first_month_allowance pro_rata: a run from 31 Jan 20:00 gets 4 h / 31 days of
    one organiser's 60 dial-out minutes: 0 minutes. #0 (31 Jan 21:00, to the US, Zone A) finds
    the pool empty and the organiser has no credits licence: blocked, pool_exhausted. #1 (1 Feb
    20:00) draws 2 of February's 60 minutes. The engine once resolved the dial-out route with
    the first month's (empty) pool as "no pool" and kept it all run: #1 was then blocked
    for no_credits_licence by the exact loop when #0 came first, and by the pre-pass always."""
    w = world([payer(CONF)], start=datetime(2026, 1, 31, 20, tzinfo=timezone.utc), days=10,
              first_month_allowance="pro_rata")
    run, pre = bill(w, Policy("p", PREPAID, 0), attempts([(3600, CONF_OUT, 0, US, 120),
                                                          (DAY, CONF_OUT, 0, US, 120)]))
    assert per_call(run) == [(-1, 0, 0, 0), (120, 0, 0, 1)]
    assert run.account.disruptions == [(3600, 0, 0, CONF_OUT, Reason.POOL_EXHAUSTED, 120)]
    assert run.account.pools.report == [("2026-02", "Global", "MCOMEETADD", "dial-out", 3600, 120, 3480)]
    assert pre.loop.tolist() == []              # the pre-pass decides both (R5's alerts too)


def replan_case(funds):
    """A Domestic Calling Plan user (with credits) and a 1-minute pool. #0 Jan 2, 60 s empties
    January's pool. #1 starts 31 Jan 23:57, 600 s: its January increments must use credits;
    from the 1 Feb reset on, the refilled pool would pay its 4th increment."""
    w = world([payer(PLAN_CREDITS)], allowances={"DOMESTIC_CALLING_PLAN": {"US": 1}})
    feb1 = w.clock.month_starts(w.horizon)[0]
    a = attempts([(DAY, OUT, 0, US, 60), (feb1 - 180, OUT, 0, US, 600)])
    return w, Policy("p", PREPAID, funds), a, feb1


def replans(w, policy, a):
    """`simulate`'s results equal the exact loop's, and the planned path alone raises Replan."""
    pre = prepass.build(w, policy, a)
    assert pre.mixed.tolist() == [False, True]
    with pytest.raises(planned.Replan):
        planned.simulate_planned(w, policy, a, pre, np.random.SeedSequence(0), True)
    return agree(w, policy, a)


def test_r4_r6_replan_a_call_cut_before_the_reset_leaves_february_pool_unused():
    """R4 / R6 / R11: #1's funds (0.0395) pay 31 Jan 23:57 (185 + 25) and 23:58 (185); at 23:59
    the balance cannot pay: cut, insufficient_funds, 480 s lost. The cut call never reaches
    the 1 Feb reset, so February's pool stays unused: a pre-pass that let the pool pay #1
    after the reset would be wrong; the planned path hands the policy to the exact loop."""
    w, policy, a, feb1 = replan_case(395)
    run = replans(w, policy, a)
    assert per_call(run) == [(60, 0, 0, 1), (120, 370, 25, 2)]
    assert run.account.disruptions == [(feb1 - 60, 1, 0, OUT, Reason.INSUFFICIENT_FUNDS, 480)]
    assert run.account.pools.report == [("2026-01", "US", "MCOPSTN1", "domestic", 60, 60, 0),
                                        ("2026-02", "US", "MCOPSTN1", "domestic", 60, 0, 60)]
    assert run.account.notifications == [(feb1 - 120, "balance_exhausted", "balance 0")]
    assert counters(run) == dict(attempts=2, connected=2, blocked=0, cut=1, seconds_lost=480, blocked_funding=0,
                                 cut_funding=1)


def test_r4_r6_replan_a_call_blocked_before_the_reset():
    """R6 / R11: with no money #1 is blocked at its start (insufficient_funds, 600 s lost)
    although February's pool would have paid its later increments: replanned, pools unused."""
    w, policy, a, feb1 = replan_case(0)
    run = replans(w, policy, a)
    assert per_call(run) == [(60, 0, 0, 1), (-1, 0, 0, 0)]
    assert run.account.disruptions == [(feb1 - 180, 1, 0, OUT, Reason.INSUFFICIENT_FUNDS, 600)]
    assert run.account.pools.report[1] == ("2026-02", "US", "MCOPSTN1", "domestic", 60, 0, 60)


def test_r6_when_funds_last_the_mixed_call_is_planned_and_the_pool_pays_after_the_reset():
    """R4 / R6: with 1.0000 #1 pays 3 increments from credits (555 + 25), then February's
    pool pays its 4th (the last pool minute) and credits the 6 after it (6 x 185): paid bits 3,
    February's pool 60 of 60 s used. No cut: the planned path bills it without replanning."""
    w, policy, a, feb1 = replan_case(10000)
    run, pre = bill(w, policy, a)
    assert per_call(run) == [(60, 0, 0, 1), (600, 9 * 185, 25, 3)]
    assert run.account.pools.report == [("2026-01", "US", "MCOPSTN1", "domestic", 60, 60, 0),
                                        ("2026-02", "US", "MCOPSTN1", "domestic", 60, 60, 0)]
    assert pre.mixed.tolist() == [False, True]


def test_one_prepass_serves_every_policy_of_the_replication_unchanged():
    """The pre-pass is policy-independent (R4: pools pay before credits under every policy):
    `simulate` builds it once per (world, attempts) and every policy reuses it, whether it is
    billed by the planned path (funds last, postpay) or replans (a cut, a block); no run
    changes it, and each policy's results equal the exact loop's."""
    w, _, a, feb1 = replan_case(0)
    pre = prepass.prepass_for(w, Policy("first"), a)
    before = (pre.loop.tolist(), pre.cuts, pre.used, pre.used_at_measure, pre.mixed.tolist(), pre.before, pre.total,
              list(pre.disruptions), pre.affected, pre.connected.tolist(), pre.paid.tolist())
    snapshot = repr(before)
    for policy in (Policy("cut", PREPAID, 395), Policy("lasts", PREPAID, 10000), Policy("postpay", POSTPAY),
                   Policy("blocked", PREPAID, 0), Policy("lasts again", PREPAID, 10000)):
        agree(w, policy, a)
        assert prepass.prepass_for(w, policy, a) is pre
    assert repr(before) == snapshot


# ---- the work taken off the loop -------------------------------------------------------------------

def test_prepass_leaves_only_the_attempts_that_reach_credits_to_the_loop():
    """R3 / R5 / R6: of 15 attempts, the pre-pass decides free calls, licence, dial-out policy
    and no-rate blocks, a zero-length call, a pool-paid call, a dial-out the dial-out pool pays
    (#11) and a pool_exhausted block; the loop gets the 5 that reach credits (#0
    Pay-As-You-Go, #4 toll-free, #9 pool then credits, #10 credits after the pool, #13 PAYG to
    AE). The
    planned path asks the account to fund increments of those attempts only (fewer when it holds
    credits ahead); the exact loop funds every paid increment of every call and the refused
    first ones of #5 (no rate) and #12 (pool_exhausted): 11 for 9 attempts."""
    from sim.engine.funding import EngineAccount

    payers = [payer(PAYG_CREDITS), payer(PLAN_CREDITS), payer(PLAN, dialout="domestic"),
              payer(CONF_CREDITS, "GB")]
    w = world(payers, allowances={"DOMESTIC_CALLING_PLAN": {"US": 1}})
    a = attempts([(100, OUT, 0, US, 60), (200, OUT, 1, US, 60), (300, IN, 1, US, 300), (400, EMERGENCY, 0, US, 30),
                  (500, UCAP_IN, TENANT, US, 120), (600, UCAP_IN, TENANT, AE, 120), (700, OUT, 2, GB, 60),
                  (800, CONF_OUT, 2, US, 60), (900, OUT, 1, US, 0), (1000, OUT, 1, US, 120),
                  (2000, OUT, 1, US, 60), (3000, CONF_OUT, 3, GB, 60), (4000, OUT, 2, US, 60),
                  (5000, OUT, 0, AE, 60), (6000, OUT, 3, US, 60)])
    policy = Policy("p", PREPAID, 100000)
    run, pre = bill(w, policy, a)
    assert pre.loop.tolist() == [0, 4, 9, 10, 13]
    assert [(i, why) for _, i, _, _, why, _ in run.account.disruptions] == [
        (5, Reason.NO_RATE), (6, Reason.DIALOUT_POLICY), (7, Reason.NO_LICENCE), (12, Reason.POOL_EXHAUSTED),
        (14, Reason.NO_LICENCE)]
    funded = {"PlannedAccount": [], "EngineAccount": []}
    fund = EngineAccount.fund

    def logging(self, call, t):
        funded[type(self).__name__].append(call.idx)
        return fund(self, call, t)

    with mock.patch.object(EngineAccount, "fund", logging):
        planned.simulate_planned(w, policy, a, pre, np.random.SeedSequence(0), True)
        simulate(w, policy, a, np.random.SeedSequence(0), fund_ahead=False)
    assert funded["PlannedAccount"] and set(funded["PlannedAccount"]) <= set(pre.loop.tolist())
    assert sorted(funded["EngineAccount"]) == [0, 1, 4, 4, 5, 9, 9, 10, 11, 12, 13]


# ---- the property: planned and exact agree on random tenants over several months --------------------

PROP_PAYERS = [payer(PAYG_CREDITS), payer(PLAN_CREDITS), payer(DI_PLAN_CREDITS), payer(CONF_CREDITS, "GB"),
               payer(PLAN), payer(CONF), payer(PLAN_CREDITS, dialout="domestic")]
# (kind, payer) of the calls: every payer's outbound, dial-out by both organisers (the pool with
# alerts, 120 minutes a month), toll-free and free inbound
PROP_SHAPES = [(OUT, 0), (OUT, 1), (OUT, 1), (OUT, 2), (OUT, 2), (OUT, 4), (OUT, 4), (OUT, 6), (CONF_OUT, 3),
               (CONF_OUT, 5), (UCAP_IN, TENANT), (int(CallKind.CONF_IN_TOLL_FREE), 3), (IN, 1), (EMERGENCY, 4)]
# the third and fourth start so late in January that a pro-rata first month has no Calling Plan
# minute (06:00) and no dial-out minute either (20:00)
STARTS = [JAN, datetime(2026, 1, 16, 12, tzinfo=timezone.utc), datetime(2026, 1, 31, 6, tzinfo=timezone.utc),
          datetime(2026, 1, 31, 20, tzinfo=timezone.utc), datetime(2026, 2, 20, tzinfo=timezone.utc)]


@st.composite
def tenant_months(draw):
    """Two to four months of a small tenant: tiny pools (1-8 minutes) that run dry, calls
    bunched just before month resets (crossing them) and on a 30 s grid (ties), a warm-up
    (sometimes ending at a reset), pro-rata first months, tight prepaid balances with
    auto-recharge on a declining card, top-ups, or postpay."""
    start = draw(st.sampled_from(STARTS))
    days = draw(st.integers(35, 100))
    clock = Clock(start)
    resets = clock.month_starts(days * DAY)
    inc = draw(st.sampled_from([60, 60, 30, 45, 70]))
    switches = dict(dni_cap=draw(st.sampled_from(["whichever_first", "independent"])),
                    mid_call_cutoff=draw(st.booleans()), billing_increment_seconds=inc,
                    first_month_allowance=draw(st.sampled_from(["full", "pro_rata"])),
                    allowances={"DOMESTIC_CALLING_PLAN": {"US": draw(st.sampled_from([1, 3, 8]))},
                                "DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"US": {
                                    "domestic": draw(st.sampled_from([1, 4])),
                                    "international": draw(st.sampled_from([1, 2]))}}})
    midnights = draw(st.lists(st.integers(1, days - 1), min_size=1, max_size=2))
    measure_from = draw(st.sampled_from([0, 0, midnights[0] * DAY, resets[0]]))
    # on a 30 s grid from resets, midnights and the warm-up's end, so that increments fall on them
    anchors = [r - draw(st.integers(0, 60)) * 30 for r in resets] + [k * DAY - 600 for k in midnights] + draw(
        st.lists(st.integers(0, days * DAY - 1), max_size=2)) + [measure_from - draw(st.integers(0, 10)) * inc] * 2
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        t = max(0, draw(st.sampled_from(anchors)) + draw(st.integers(0, 40)) * 30 + draw(st.sampled_from([0, 0, 7])))
        kind, who = draw(st.sampled_from(PROP_SHAPES))
        duration = draw(st.one_of(st.integers(0, 900), st.sampled_from([0, 60, 61, 3600]))
                        if kind != CONF_OUT else st.sampled_from([600, 1800, 3600, 5400]))
        rows.append((min(t, days * DAY - 1), kind, who, draw(st.sampled_from([US, US, GB, AE])), duration))
    billing = draw(st.sampled_from([PREPAID, PREPAID, PREPAID, POSTPAY]))
    rule = None
    if billing == PREPAID and draw(st.booleans()):
        rule = AutoRechargeRule(draw(st.sampled_from([300, 1000])), draw(st.sampled_from([500, 2000])))
    payment = Payment(method=draw(st.sampled_from([CARD, CARD, ENTERPRISE_AGREEMENT])),
                      card_valid_until=draw(st.sampled_from([None, resets[0]])),
                      decline_rate=draw(st.sampled_from([0.0, 0.5, 1.0])),
                      delay_seconds=draw(st.sampled_from([0, 300, 3600])), retry_seconds=600,
                      max_retries=draw(st.integers(0, 2)))
    top_ups = () if billing == POSTPAY else tuple(sorted(
        (draw(st.sampled_from(anchors)) % (days * DAY), draw(st.sampled_from([400, 2000])))
        for _ in range(draw(st.integers(0, 2)))))
    policy = Policy("prop", billing, draw(st.sampled_from([0, 400, 2000, 20000])), rule, payment, top_ups)
    w = world(PROP_PAYERS, start=start, days=days, measure_from=measure_from, **switches)
    return w, policy, attempts(rows), draw(st.integers(0, 2**32 - 1))


def test_property_planned_path_equals_the_exact_loop():
    """R4-R12 on random tenants: with records, every observable (journal, per-call outcomes,
    notifications, disruptions, pool report, counters) and the metrics (monthly figures
    included) of `simulate` equal the exact one-event-per-increment loop's; without records the
    totals, lots, recharges, pools and metrics do. The pre-pass leaves to the loop exactly the
    attempts the exact loop asks the credits to pay for (paid, overdrawn or refused for funds);
    the dial-out pool's alerts (R5) are the pre-pass's too. A fixed-seed run must take both the
    planned path and the Replan fallback at least once, and raise pool alerts (counted, not
    assumed)."""
    from sim.engine.funding import EngineAccount

    seen = Counter()
    simulate_planned = planned.simulate_planned
    fund = EngineAccount.fund
    reached: set[int] = set()

    def counting(*args):
        try:
            out = simulate_planned(*args)
        except planned.Replan:
            seen["replan"] += 1
            raise
        seen["planned"] += 1
        return out

    def logging(self, call, t):
        credits = call.credit_increments
        reason = fund(self, call, t)
        if type(self) is EngineAccount and (call.credit_increments > credits or reason == Reason.INSUFFICIENT_FUNDS):
            reached.add(call.idx)
        return reason

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(tenant_months())
    def check(case):
        w, policy, a, seed = case
        reached.clear()
        replans = seen["replan"]
        agree(*case)
        pre = prepass.build(w, policy, a)         # as built (a run's loop tables take route_of)
        seen["alerts"] += len(pre.alerts)
        if seen["replan"] == replans:
            assert set(pre.loop.tolist()) == reached
        else:       # a call the policy cut left a reset's pool minutes to later calls: the loop has more
            assert set(pre.loop.tolist()) >= reached

    with mock.patch.object(planned, "simulate_planned", counting), mock.patch.object(EngineAccount, "fund", logging):
        check()
    print(seen)
    assert seen["planned"] > 0 and seen["replan"] > 0 and seen["alerts"] > 20, seen


@pytest.mark.parametrize("dense_keys", [prepass.DENSE_KEYS, 0], ids=["dense table", "sorted"])
def test_routes_are_resolved_once_per_class_of_payer(dense_keys, monkeypatch):
    """R2, R3, R6: a route depends on its payer only through country, licences and dial-out
    policy, so the pre-pass resolves one per (class of payer, kind, country) present: three
    payers alike share their routes, a fourth with another dial-out policy has its own, and the
    tenant (toll-free) is a class of its own."""
    from models.account import Account, payer_classes
    payers = [payer(PLAN_CREDITS, "US") for _ in range(3)] + [payer(PLAN_CREDITS, "US", "domestic")]
    assert payer_classes(payers) == ([0, 0, 0, 1], [0, 3])
    a = attempts([(k * 60, OUT, p, c, 120) for k, (p, c) in enumerate(
        [(0, US), (1, US), (2, GB), (3, GB), (1, GB), (3, US)])] + [(600, UCAP_IN, TENANT, US, 60)])
    resolved = []
    original = Account.route

    def counting(self, p, kind, country):
        resolved.append((p, kind, country))
        return original(self, p, kind, country)

    monkeypatch.setattr(prepass, "DENSE_KEYS", dense_keys)
    with mock.patch.object(Account, "route", counting):
        _, routes, route_of = prepass._route_table(world(payers), Policy("p", PREPAID, 0), a)
    assert sorted(resolved) == sorted([(0, OUT, "US"), (0, OUT, "GB"), (3, OUT, "GB"), (3, OUT, "US"),
                                       (TENANT, UCAP_IN, "US")])
    assert len(routes) == 5 and len(set(route_of.tolist())) == 5
    assert route_of[0] == route_of[1] and route_of[2] == route_of[4] != route_of[3]
    # why the dial-out policy is part of the class: "domestic" blocks the call to GB (R6)
    assert routes[route_of[2]].block is None and routes[route_of[3]].block == "dialout_policy"
