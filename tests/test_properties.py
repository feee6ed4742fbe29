"""Hypothesis property tests of the billing invariants (anchors.md, billing-rules.md R1, R6-R8, R12).

Random tenants' call attempts, purchases, expiries and recharges are run through the real
engine (`sim.engine.loop.simulate`) on a small fixed world; the ledger, the funding calls and
the recharge state machine are instrumented so invariants are checked *after every
operation*, and the journal is re-derived independently afterwards:

  1. conservation purchased = spent + forfeited + balance, balance = sum of lot remainders;
  2. no lot below zero; nothing drawn from an expired lot; each remainder forfeited once,
     at its expiry instant;
  3. no debit after a call ends; billed increments = ceil(connected seconds / increment);
     a cut happens at an increment start; sum of per-call charges = sum of debits (R1);
  4. concurrent calls never overspend a prepaid balance with cutoff on;
  5. the trigger fires once per downward crossing; recharges requested = succeeded + failed
     + pending; no second recharge while one is pending; a failure backs off;
  6. replaying a report with duplicated UsageId rows gives the same ledger as without.
"""
from __future__ import annotations

import contextlib
import math
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.account import Account, Payer
from models.calls import FREE, CallKind
from models.ledger import DEBIT, EXPIRE, PURCHASE, Ledger
from models.licences import LicenceSet
from models.policy import CARD, ENTERPRISE_AGREEMENT, POSTPAY, PREPAID, AutoRechargeRule, Payment, Policy, Switches
from models.rates import Rate, RateCard
from models.recharge import AutoRecharge
from models.timeutil import Clock
from sim.inputs.attempts import TENANT, Attempts
from sim.engine.loop import simulate
from tests.billing_cases import (CONF_CREDITS, DI_PLAN_CREDITS, NUMBER, PAYG_CREDITS, PLAN, PLAN_CREDITS, call,
                                 user, write_case, write_report)

DAY = 86400
HORIZON_DAYS = 400
START = datetime(2026, 1, 1, tzinfo=timezone.utc)      # the initial lot expires on day 365
COUNTRIES = ["US", "GB", "AE"]
PAYERS = [
    Payer("paygo@x", "US", LicenceSet.of(PAYG_CREDITS)),
    Payer("plan@x", "US", LicenceSet.of(PLAN_CREDITS)),
    Payer("di@x", "US", LicenceSet.of(DI_PLAN_CREDITS)),
    Payer("conf@x", "GB", LicenceSet.of(CONF_CREDITS)),
    Payer("nocredits@x", "US", LicenceSet.of(PLAN)),
]
# (kind, payer): who can place which kind of call
SHAPES = [(CallKind.USER_OUT, 0), (CallKind.USER_OUT, 1), (CallKind.USER_OUT, 2), (CallKind.USER_OUT, 4),
          (CallKind.CONF_OUT, 3), (CallKind.UCAP_IN, TENANT), (CallKind.CONF_IN_TOLL_FREE, 3),
          (CallKind.USER_IN, 1), (CallKind.EMERGENCY, 0)]
RATES = RateCard(outbound={"US": Rate(185), "GB": Rate(350, 100), "AE": Rate(2000)},
                 toll_free_inbound={"US": Rate(500), "GB": Rate(700, 50), "AE": Rate(900)})
ALLOWANCES = {"DOMESTIC_CALLING_PLAN": {"US": 3},
              "DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"US": {"domestic": 2, "international": 2}}}

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- instrumentation ---------------------------------------------------------------------

class CheckedLedger(Ledger):
    """A Ledger that checks R7 invariants after every purchase, debit and expiry."""

    def _check(self, t):
        live = sum(lot.remaining for lot in self.lots)
        assert self.purchased == self.spent + self.forfeited + self.balance, "conservation broken"
        assert live == self.lot_total, "balance != sum of lot remainders"
        assert all(lot.remaining >= 0 for lot in self.lots), "a lot below zero"
        assert self.owed >= 0 and (self.owed == 0 or self.lot_total == 0), "owing while lots hold money"
        assert all(lot.remaining == 0 for lot in self.lots if lot.expired), "an expired lot still holds money"

    def purchase(self, t, amount, expires_at, note=""):
        lot = super().purchase(t, amount, expires_at, note)
        self._check(t)
        return lot

    def debit(self, t, amount, usage_id="", allow_overdraft=False):
        before = (self.purchased, self.spent, self.forfeited, self.lot_total, self.owed, len(self.journal))
        by_id = {lot.id: lot for lot in self.lots}
        ok = super().debit(t, amount, usage_id, allow_overdraft)
        if not ok:
            after = (self.purchased, self.spent, self.forfeited, self.lot_total, self.owed, len(self.journal))
            assert after == before, "a refused debit changed the ledger"
        for row in self.journal[before[5]:]:
            if row[4] != "":
                lot = by_id[row[4]]
                assert not lot.expired and t < lot.expires_at, "drawn from an expired lot"
        self._check(t)
        return ok

    def expire(self, t):
        total = super().expire(t)
        self._check(t)
        return total


@contextlib.contextmanager
def instrumented():
    """Patch the account's ledger and record every fund() call and recharge step."""
    log = SimpleNamespace(funds=[], settles=[], accounts=[])
    orig_fund, orig_settle, orig_start = Account.fund, Account._settle, AutoRecharge.start
    orig_init = Account.__init__

    def init(self, *a, **k):
        orig_init(self, *a, **k)
        log.accounts.append(self)

    def fund(self, call, t):
        reason = orig_fund(self, call, t)
        log.funds.append((call.idx, t, reason))
        return reason

    def books(rc):
        return rc.requested == rc.succeeded + rc.failed + rc.in_flight

    def settle(self, t):
        rc = self.recharge
        assert rc.pending, "a payment settled that was not pending"
        failed = rc.failed
        orig_settle(self, t)
        assert books(rc), "recharges requested != succeeded + failed + pending"
        log.settles.append((t, "failed" if rc.failed > failed else "ok", rc.pending))

    def start(self):
        assert not self.pending, "a second recharge started while one was pending"
        assert not self.suspended
        delay = orig_start(self)
        assert books(self)
        return delay

    with mock.patch("models.account.Ledger", CheckedLedger), \
            mock.patch.object(Account, "__init__", init), mock.patch.object(Account, "fund", fund), \
            mock.patch.object(Account, "_settle", settle), mock.patch.object(AutoRecharge, "start", start):
        yield log


# ---- strategies ----------------------------------------------------------------------------

LATEST = (HORIZON_DAYS - 1) * DAY


@st.composite
def offsets(draw):
    # on a 30 s grid often, so that calls and increments tie at the same instant
    return draw(st.one_of(st.integers(0, 40).map(lambda k: k * 30), st.integers(0, 1200)))


@st.composite
def cases(draw, billing=None, auto=None, cutoff=None, payment=None, recharge_heavy=False):
    inc = draw(st.sampled_from([60, 60, 60, 30, 6, 45, 70]))
    switches = Switches(dni_cap=draw(st.sampled_from(["whichever_first", "independent"])),
                        mid_call_cutoff=draw(st.booleans()) if cutoff is None else cutoff,
                        billing_increment_seconds=inc, allowances=ALLOWANCES)
    billing = billing or draw(st.sampled_from([PREPAID, PREPAID, PREPAID, POSTPAY]))
    anchors = draw(st.lists(st.integers(0, LATEST), min_size=1, max_size=3))
    if draw(st.booleans()):
        anchors.append(365 * DAY - draw(st.integers(0, 600)))    # calls around the initial lot's expiry
    n = draw(st.integers(0, 22))
    rows = []
    for _ in range(n):
        t = min(draw(st.sampled_from(anchors)) + draw(offsets()), LATEST)
        kind, payer = draw(st.sampled_from(SHAPES))
        country = draw(st.integers(0, 2))
        duration = draw(st.one_of(st.integers(0, 900), st.sampled_from([0, 1, 59, 60, 61, 120, 3600])))
        rows.append((t, int(kind), payer, country, duration, -1, -1))
    top_ups = () if billing == POSTPAY else tuple(sorted(
        (min(draw(st.sampled_from(anchors)) + draw(offsets()), LATEST), draw(st.sampled_from([1000, 5000, 200000])))
        for _ in range(draw(st.integers(2, 6) if recharge_heavy else st.integers(0, 3)))))
    rule = None
    want_auto = draw(st.booleans()) if auto is None else auto
    if recharge_heavy:
        want_auto = True
        payment = Payment(method=CARD, card_valid_until=draw(st.one_of(st.none(), st.integers(0, LATEST))),
                          decline_rate=draw(st.sampled_from([0.0, 0.5, 1.0])),
                          delay_seconds=draw(st.sampled_from([300, 3600, 6 * 3600])),
                          retry_seconds=draw(st.sampled_from([600, 3600])), max_retries=draw(st.integers(0, 3)))
    if billing == PREPAID and want_auto:
        trigger = draw(st.sampled_from([500, 2000, 10000]))
        amount = draw(st.sampled_from([1000, 2500, 20000]))
        rule = AutoRechargeRule(trigger, max(amount, trigger) if auto else amount)
    pay = payment or Payment(
        method=draw(st.sampled_from([CARD, CARD, ENTERPRISE_AGREEMENT])),
        card_valid_until=draw(st.one_of(st.none(), st.integers(0, HORIZON_DAYS * DAY))),
        decline_rate=draw(st.sampled_from([0.0, 0.0, 0.5, 1.0])),
        delay_seconds=draw(st.sampled_from([0, 0, 300, 3600, 6 * 3600])),
        retry_seconds=draw(st.sampled_from([600, 3600])),
        max_retries=draw(st.integers(0, 3)))
    policy = Policy("prop", billing, draw(st.sampled_from([0, 300, 2000, 20000, 200000])), rule, pay, top_ups)
    seed = draw(st.integers(0, 2**32 - 1))
    return switches, policy, Attempts.from_rows(rows, list(COUNTRIES)), seed


def run(switches, policy, attempts, seed):
    world = SimpleNamespace(payers=PAYERS, switches=switches, rates=RATES, clock=Clock(START),
                            horizon=HORIZON_DAYS * DAY)
    with instrumented() as log:
        # One fund() call per increment, so every funding decision is logged and checked;
        # test_property_pool_reservations_change_nothing covers the reserved path.
        out = simulate(world, policy, attempts, np.random.SeedSequence(seed), fund_ahead=False)
    return out, log, world


# ---- journal re-derivation -------------------------------------------------------------------

def check_journal(out, world, policy, switches):
    """Re-derive balances and lots from the journal alone (independent of the Ledger)."""
    led = out.account.ledger
    balance = purchased = spent = forfeited = 0
    lots: dict[int, dict] = {}
    for t, kind, amount, after, lot_id, usage, note in led.journal:
        assert type(amount) is int and type(after) is int and amount > 0, "money must be a positive int"
        if kind == PURCHASE:
            repay = min(max(-balance, 0), amount)           # a purchase first repays an overdraft
            lots[lot_id] = {"remaining": amount - repay, "expires": out.account.clock.plus_months(t, 12),
                            "expired_at": None}
            balance += amount
            purchased += amount
        elif kind == DEBIT:
            balance -= amount
            spent += amount
            if lot_id != "":
                lot = lots[lot_id]
                assert lot["expired_at"] is None and t < lot["expires"], "debit from an expired lot"
                lot["remaining"] -= amount
                assert lot["remaining"] >= 0, "lot below zero"
            else:
                assert note == "overdraft"
                assert policy.billing == POSTPAY or not switches.mid_call_cutoff, "overdraft with cutoff on"
        else:
            assert kind == EXPIRE
            lot = lots[lot_id]
            assert lot["expired_at"] is None, "a remainder forfeited twice"
            assert t == lot["expires"], "forfeited at another instant than the expiry"
            assert amount == lot["remaining"], "forfeited amount != remainder"
            lot["expired_at"], lot["remaining"] = t, 0
            balance -= amount
            forfeited += amount
        assert after == balance, "balance_after does not follow from the journal"
        assert purchased == spent + forfeited + balance
    assert (purchased, spent, forfeited, balance) == (led.purchased, led.spent, led.forfeited, led.balance)
    for lot_id, lot in lots.items():
        if lot["expires"] < world.horizon and lot["remaining"] > 0:
            pytest.fail(f"lot {lot_id} expired at {lot['expires']} (inside the horizon) but kept {lot['remaining']}")
    if policy.billing == PREPAID and switches.mid_call_cutoff:
        assert led.overdrawn == 0 and all(row[3] >= 0 for row in led.journal), "prepaid balance overspent"


def check_increments(out, log, attempts, switches):
    inc = switches.billing_increment_seconds
    funds = defaultdict(list)
    for idx, t, reason in log.funds:
        funds[idx].append((t, reason))
    debits = defaultdict(int)
    debit_times = defaultdict(set)
    at_instant = defaultdict(int)
    for t, kind, amount, _, _, usage, _ in out.account.ledger.journal:
        if kind == DEBIT:
            debits[usage] += amount
            debit_times[usage].add(t)
            at_instant[usage, t] += amount
    o = out.outcomes
    total = 0
    pool_increments = 0
    for i in range(len(attempts)):
        start, duration, kind = int(attempts.t[i]), int(attempts.duration[i]), CallKind(int(attempts.kind[i]))
        connected = o.connected[i]
        calls = funds.get(i, [])
        if connected < 0:                                  # blocked: at most the first increment was tried
            assert len(calls) <= 1 and all(t == start and r is not None for t, r in calls)
            assert i not in debits
            continue
        ok = [t for t, r in calls if r is None]
        failed = [t for t, r in calls if r is not None]
        if kind in FREE or duration == 0:
            assert calls == [] and i not in debits and connected == duration
            continue
        n = math.ceil(connected / inc)
        assert ok == [start + k * inc for k in range(n)], "increments not ceil(connected/inc), one per step"
        if connected < duration:                           # cut at an increment start
            assert failed == [start + connected] and connected % inc == 0
        else:
            assert failed == [] and connected == duration
        assert debit_times[i] <= set(ok), "a debit outside the call's funded increments"
        assert all(t < start + max(connected, 1) for t in debit_times[i]), "a debit after the call ended"
        assert debits[i] == o.charge[i] + o.fee[i], "ledger debits != the call's charge + fee"
        # each credit-funded increment is debited once: its price, plus the fee on the first
        route = out.account.route(int(attempts.payer[i]), int(kind), attempts.countries[int(attempts.country[i])])
        for k, t in enumerate(sorted(debit_times[i])):
            assert at_instant[i, t] == route.price + (route.fee if k == 0 else 0), "an increment funded twice"
        total += o.charge[i] + o.fee[i]
        pool_increments += len(ok) - len(debit_times[i])       # funded increments without a debit
        assert bool(o.paid[i] & 1) == (len(ok) > len(debit_times[i])), "pool bit vs pool increments"
        assert bool(o.paid[i] & 2) == bool(debit_times[i]), "credits bit vs debits"
    assert total == out.account.ledger.spent, "sum of per-call charges != sum of ledger debits (R1)"
    # R4/R5: every pool-funded increment took exactly one increment from a pool, and the
    # monthly pools report adds up: used + available = total, never below zero
    report = out.account.pools.report
    assert sum(row[5] for row in report) == pool_increments * inc, "pool seconds != pool increments x increment"
    for month, country, cap, scope, total_s, used, avail in report:
        assert 0 <= used <= total_s and used + avail == total_s


def check_recharges(out, log, policy):
    rc = out.account.recharge
    if rc is None:
        assert log.settles == []
        return
    assert rc.requested == rc.succeeded + rc.failed + rc.in_flight
    p = policy.payment
    for (t0, outcome, pending), (t1, _, _) in zip(log.settles, log.settles[1:]):
        if outcome == "failed" and pending:               # a retry: backs off retry + delay
            assert t1 == t0 + p.retry_seconds + p.delay_seconds
    purchases = [row for row in out.account.ledger.journal if row[1] == PURCHASE and row[6].startswith("auto-recharge")]
    assert len(purchases) == rc.succeeded


# ---- the properties ---------------------------------------------------------------------------

@PROPS
@given(cases())
def test_property_ledger_increments_and_recharges_hold_after_every_operation(case):
    """Invariants 1-5 on random purchases, calls, expiries and recharges (see module doc)."""
    switches, policy, attempts, seed = case
    out, log, world = run(*case)
    check_journal(out, world, policy, switches)
    check_increments(out, log, attempts, switches)
    check_recharges(out, log, policy)


@PROPS
@given(cases(billing=PREPAID, recharge_heavy=True))
def test_property_recharge_state_machine_under_top_ups_delays_and_declines(case):
    """R8 with slow, failing card payments and manual top-ups landing while a recharge is
    pending: never two pending at once, requested = succeeded + failed + pending after every
    settle, retries back off retry + delay, and the ledger invariants still hold."""
    switches, policy, attempts, seed = case
    out, log, world = run(*case)
    check_journal(out, world, policy, switches)
    check_recharges(out, log, policy)


@PROPS
@given(cases(billing=PREPAID, cutoff=True))
def test_property_concurrent_calls_never_overspend_a_prepaid_balance(case):
    """R6 with cutoff on: however calls overlap and tie, no journal balance goes below zero,
    nothing is overdrawn, and the final balance is the sum of the live lots."""
    switches, policy, attempts, seed = case
    out, log, world = run(*case)
    led = out.account.ledger
    assert led.overdrawn == 0 and led.owed == 0
    assert min([row[3] for row in led.journal] + [0]) >= 0
    assert led.balance == sum(lot.remaining for lot in led.lots) >= 0


@PROPS
@given(cases(billing=PREPAID, auto=True, cutoff=True,
             payment=Payment(method=ENTERPRISE_AGREEMENT, delay_seconds=0)))
def test_property_trigger_fires_once_per_downward_crossing(case):
    """R8: with payments that settle at once and never fail, and amount >= trigger (so one
    recharge always lifts the balance back to >= trigger), the number of auto-recharges is
    the number of journal steps from >= trigger to < trigger (debits and expiries), plus one
    if the account opens below the trigger."""
    switches, policy, attempts, seed = case
    out, log, world = run(*case)
    trigger = policy.auto_recharge.trigger
    crossings, before = 0, 0
    for t, kind, amount, after, *_ in out.account.ledger.journal:
        if kind in (DEBIT, EXPIRE) and before >= trigger > after:
            crossings += 1
        before = after
    expected = crossings + (1 if policy.initial_funds < trigger else 0)
    rc = out.account.recharge
    assert rc.succeeded == expected and rc.failed == 0 and rc.in_flight == 0
    assert rc.requested == expected


@settings(max_examples=60, deadline=None)
@given(cases())
def test_property_a_run_is_deterministic(case):
    """Replaying the same attempts under the same policy and seed gives the same journal."""
    first = run(*case)[0]
    second = run(*case)[0]
    assert first.account.ledger.journal == second.account.ledger.journal
    assert first.account.notifications == second.account.notifications
    assert first.account.disruptions == second.account.disruptions


# ---- replay with duplicated UsageId rows --------------------------------------------------------

@pytest.fixture(scope="module")
def replay_world(tmp_path_factory):
    from sim.commands.load import load
    folder = tmp_path_factory.mktemp("dup")
    path = write_case(folder, users=[user("paul", "US", PAYG_CREDITS), user("alice", "US", PLAN_CREDITS),
                                     user("olga", "GB", CONF_CREDITS)],
                      calls=[call("seed", "paul", "2026-01-02T00:00:00Z", 60, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.00",
                                 "auto_recharge": {"trigger": "19.00", "amount": "20.00"}}],
                      rates={"outbound": {"US": "0.0185", "GB": {"per_minute": "0.0350", "connection_fee": "0.0100"},
                                          "AE": "0.2000"}},
                      switches={"allowances": {"DOMESTIC_CALLING_PLAN": {"US": 2}}}, days=31)
    scenario, world, _ = load(path, None)
    return folder, world


ROW_KINDS = [("paul", "user_out"), ("alice", "user_out"), ("olga", "conf_out")]


@st.composite
def reports(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        who, ctype = draw(st.sampled_from(ROW_KINDS))
        minute = draw(st.integers(0, 180))
        sec = draw(st.sampled_from([0, 0, 30, 17]))
        start = f"2026-01-05T{10 + minute // 60:02d}:{minute % 60:02d}:{sec:02d}Z"
        rows.append(call(f"u{i}", who, start, draw(st.integers(0, 600)), call_type=ctype,
                         to=draw(st.sampled_from(["US", "GB", "AE"])), conference="m" if ctype == "conf_out" else ""))
    dups = list(rows)
    for _ in range(draw(st.integers(1, 5))):
        k = draw(st.integers(0, len(rows) - 1))
        copy = dict(rows[k])
        if draw(st.booleans()):                            # same UsageId, different content
            copy["Duration Seconds"] = str(draw(st.integers(0, 600)))
        pos = dups.index(rows[k]) + 1 + draw(st.integers(0, len(dups)))  # anywhere after the original
        dups.insert(min(pos, len(dups)), copy)
    return rows, dups


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports())
def test_property_duplicated_usage_id_rows_give_the_same_ledger(replay_world, report):
    """anchors.md 7 / R12: duplicates are reported, not billed: the ledger, notifications and
    per-call outcomes equal those of the report without the duplicated rows."""
    from sim.inputs.replay import read_report
    from sim.parallel.runner import payment_seed
    folder, world = replay_world
    rows, dups = report
    results = []
    with tempfile.TemporaryDirectory(dir=folder) as d:
        for name, body in (("clean.csv", rows), ("dups.csv", dups)):
            write_report(Path(d) / name, body)
            attempts = read_report(Path(d) / name, world)
            run_out = simulate(world, world.policies[0], attempts, payment_seed(1, 0))
            ids = attempts.usage_ids
            journal = [(t, k, a, b, lot, ids[u] if isinstance(u, int) else u, note)
                       for t, k, a, b, lot, u, note in run_out.account.ledger.journal]
            o = run_out.outcomes
            per_call = {ids[i]: (o.connected[i], o.charge[i], o.fee[i], o.paid[i]) for i in range(len(attempts))}
            results.append((journal, run_out.account.notifications, per_call, len(attempts.duplicates)))
    (j1, n1, c1, d1), (j2, n2, c2, d2) = results
    assert d1 == 0 and d2 == len(dups) - len(rows)
    assert j2 == j1 and n2 == n1 and c2 == c1


def _observable(out):
    """Everything a run reports: journal, per-call outcomes, notices, disruptions, pools, counters."""
    a = out.account
    o = out.outcomes
    return (list(a.ledger.journal), list(o.connected), list(o.charge), list(o.fee), list(o.paid),
            a.notifications, a.disruptions, a.pools.report,
            (a.attempts, a.connected, a.blocked, a.cut, a.seconds_lost, sorted(a.affected),
             a.exhausted_seconds, a.ledger.purchased, a.ledger.spent, a.ledger.forfeited, a.ledger.balance,
             list(a.spent_by_kind)))


@st.composite
def pool_races(draw):
    """Many overlapping pool-paid calls on small pools that run dry (often mid-call), calls
    tying on a 30 s grid, some around the 1 Feb reset: the reservation path's hard cases."""
    inc = draw(st.sampled_from([60, 60, 30, 6, 45, 70]))
    allowances = {"DOMESTIC_CALLING_PLAN": {"US": draw(st.sampled_from([4, 10, 25]))},
                  "DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"US": {"domestic": draw(st.sampled_from([3, 8])),
                                                                "international": draw(st.sampled_from([2, 6]))}}}
    switches = Switches(dni_cap=draw(st.sampled_from(["whichever_first", "independent"])),
                        mid_call_cutoff=draw(st.booleans()), billing_increment_seconds=inc, allowances=allowances)
    base = draw(st.sampled_from([3 * DAY, 31 * DAY - 900]))      # the second straddles the Feb reset
    rows = []
    for _ in range(draw(st.integers(4, 30))):
        payer = draw(st.sampled_from([1, 2, 4]))                 # plan, DNI plan, plan without credits
        country = draw(st.sampled_from([0, 0, 0, 1])) if payer == 2 else 0
        t = base + draw(st.integers(0, 40)) * 30 + draw(st.sampled_from([0, 0, 0, 7]))
        rows.append((t, int(CallKind.USER_OUT), payer, country, draw(st.integers(1, 900)), -1, -1))
    policy = Policy("races", PREPAID, draw(st.sampled_from([0, 2000, 200000])), None, Payment(), ())
    return switches, policy, Attempts.from_rows(rows, list(COUNTRIES)), 0


@PROPS
@given(st.one_of(cases(), pool_races()))
def test_property_pool_reservations_change_nothing(case):
    """sim/engine/loop.py draws a call's later pool increments ahead of time when the pool surely
    pays them, and gives back the unstarted ones when the pool looks short (small pools
    here run dry, calls tie on a 30 s grid). Every observable result must be identical to
    one event and one funding decision per increment."""
    switches, policy, attempts, seed = case
    world = SimpleNamespace(payers=PAYERS, switches=switches, rates=RATES, clock=Clock(START),
                            horizon=HORIZON_DAYS * DAY)
    runs = [simulate(world, policy, attempts, np.random.SeedSequence(seed), fund_ahead=flag)
            for flag in (False, True)]
    assert _observable(runs[1]) == _observable(runs[0])


def _totals(out):
    """What a run without records reports: counters, ledger totals, lots, recharges, pools, and
    the metrics (the balance's time-integral and the monthly figures included)."""
    from sim.analysis.metrics import metrics_of

    a = out.account
    led = a.ledger
    rc = a.recharge
    assert sum(a.spent_by_kind) == led.spent, "credits spent by kind do not add up to credits spent"
    return ((a.attempts, a.connected, a.blocked, a.cut, a.seconds_lost, sorted(a.affected), a.exhausted_seconds,
             a.notification_count, list(a.spent_by_kind)),
            (led.purchased, led.spent, led.forfeited, led.balance, led.overdrawn, led.owed),
            [(x.id, x.amount, x.purchased_at, x.expires_at, x.remaining, x.expired) for x in led.lots],
            (rc.requested, rc.succeeded, rc.failed, rc.pending) if rc else None,
            a.pools.report, metrics_of(out))


@PROPS
@given(st.one_of(cases(), cases(billing=PREPAID, recharge_heavy=True), pool_races()))
def test_property_credit_holds_change_nothing_without_records(case):
    """Without records (replications after the first), sim/engine/loop.py also holds the later
    increments of credit-paid calls and debits them in bulk, while the balance less the
    held money stays at or above the trigger (or 0). Counters, ledger totals, every lot,
    recharges and pools must equal one event and one debit per increment."""
    switches, policy, attempts, seed = case
    world = SimpleNamespace(payers=PAYERS, switches=switches, rates=RATES, clock=Clock(START),
                            horizon=HORIZON_DAYS * DAY)
    runs = [simulate(world, policy, attempts, np.random.SeedSequence(seed), keep_records=False, fund_ahead=flag)
            for flag in (False, True)]
    assert runs[0].account.credit_held == runs[1].account.credit_held == 0
    assert _totals(runs[1]) == _totals(runs[0])
