"""Speed of the billing hot paths (pytest-benchmark). Run with `make bench`.

Every test is marked `benchmark`, which the default test run deselects (pyproject addopts).
Each test also asserts what it measured, so a broken hot path fails rather than looking fast.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from models.account import Account, Call, Payer
from models.calls import CallKind
from models.ledger import Ledger
from models.licences import LicenceSet
from models.policy import Policy, Switches
from models.pools import Pool, PoolSet
from models.rates import OUTBOUND, Rate, RateCard
from models.timeutil import Clock

HORIZON = 90 * 86400
BIG = 10 ** 15                       # a balance no benchmark can spend


def _account(licences, country="US", initial=BIG, keep_records=False, allowances=None) -> Account:
    lic = LicenceSet.of(licences)
    payers = [Payer("a@contoso.com", country, lic)]
    pools = PoolSet([(country, lic)], allowances=allowances)
    rates = RateCard(outbound={"US": Rate(200), "GB": Rate(350, 1500), "*": Rate(1000)})
    acc = Account(payers, pools, rates, Policy("p", initial_funds=initial), Switches(),
                  Clock(datetime(2026, 1, 1, tzinfo=timezone.utc)), HORIZON,
                  lambda t, prio, fn: None, lambda: 0.5, keep_records)
    acc.open()
    return acc


@pytest.mark.benchmark(group="fund")
def test_fund_one_increment_from_credits(benchmark):
    """R6: one increment of a PAYG call, paid by credits (ledger debit, recharge check)."""
    acc = _account(["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"])
    call = Call(0, acc.route(0, CallKind.USER_OUT, "US"), 0, CallKind.USER_OUT, 0, 10 ** 9)
    assert call.route.pool is None
    fund = acc.fund
    benchmark(fund, call, 60)
    assert call.credit_increments == call.increments > 0 and call.pool_increments == 0


@pytest.mark.benchmark(group="fund")
def test_fund_one_increment_from_pool(benchmark):
    """R6: one increment of a Domestic-plan call, paid by the minute pool."""
    acc = _account(["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"],
                   allowances={"DOMESTIC_CALLING_PLAN": {"US": 10 ** 9}})
    call = Call(0, acc.route(0, CallKind.USER_OUT, "US"), 0, CallKind.USER_OUT, 0, 10 ** 9)
    assert call.route.pool is not None
    fund = acc.fund
    benchmark(fund, call, 60)
    assert call.pool_increments == call.increments > 0 and call.credit_increments == 0


@pytest.mark.benchmark(group="fund")
def test_fund_one_increment_from_dni_pool(benchmark):
    """R4 whichever_first: an international increment checks the partner pool too."""
    acc = _account(["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN", "COMMUNICATIONS_CREDITS"], "GB",
                   allowances={"DOMESTIC_INTERNATIONAL_CALLING_PLAN": {"GB": {"domestic": 10 ** 9,
                                                                            "international": 10 ** 9}}})
    call = Call(0, acc.route(0, CallKind.USER_OUT, "DE"), 0, CallKind.USER_OUT, 0, 10 ** 9)
    assert call.route.pool is not None and call.route.pool.partner is not None
    benchmark(acc.fund, call, 60)
    assert call.pool_increments == call.increments > 0


def _lots(n: int, amount: int) -> Ledger:
    led = Ledger(keep_journal=True)
    for k in range(n):
        led.purchase(k, amount, HORIZON + k)
    return led


@pytest.mark.benchmark(group="ledger")
def test_ledger_debit_across_lots(benchmark):
    """R7: 1,000 debits, each spanning two lots (soonest expiry first), journalled."""
    def setup():
        return (_lots(1400, 150),), {}

    def debits(led):
        for k in range(1000):
            led.debit(k, 200, k)
        return led

    led = benchmark.pedantic(debits, setup=setup, rounds=30, iterations=1)
    assert led.spent == 200_000 and led.conserved()
    assert sum(1 for e in led.journal if e[1] == "debit") >= 1000 * 2 - 1


@pytest.mark.benchmark(group="ledger")
def test_ledger_debit_one_lot_no_journal(benchmark):
    """The common case inside replications 1..R-1: one big lot, no journal."""
    led = Ledger(keep_journal=False)
    led.purchase(0, BIG, HORIZON)
    benchmark(led.debit, 5, 200, 7)
    assert led.spent > 0 and not led.journal


@pytest.mark.benchmark(group="ledger")
def test_ledger_journal_read_100k_rows(benchmark):
    """R7 journal read back (ledger.csv, balance.png): 100,000 packed debit rows and a few others."""
    led = Ledger(keep_journal=True)
    led.purchase(0, BIG, HORIZON, "initial funds")
    for k in range(100_000):
        led.debit(k, 200, k)
        if k % 10_000 == 0:
            led.purchase(k, 200_000, HORIZON + k, "top-up")
    rows = benchmark(lambda: list(led.journal))
    assert len(rows) == 100_011 and rows[1] == (0, "debit", 200, BIG - 200, 1, 0, "")


@pytest.mark.benchmark(group="pool")
def test_pool_check_and_draw(benchmark):
    pool = Pool("US", "MCOPSTN1", "domestic", 10 ** 12)

    def draw():
        if pool.can_fund(60):
            pool.draw(60)

    benchmark(draw)
    assert pool.remaining < 10 ** 12


@pytest.mark.benchmark(group="pool")
def test_pool_draw_with_alerts(benchmark):
    """R5: the dial-out pool checks its 80 % / 100 % alerts on every draw."""
    pool = Pool("Global", "MCOMEETADD", "dial-out", 10 ** 12, alerts=(80, 100))
    benchmark(pool.draw, 60)
    assert not pool.alerted


@pytest.mark.benchmark(group="rates")
def test_rate_card_increment_lookup(benchmark):
    card = RateCard(outbound={"US": Rate(200), "GB": Rate(350, 1500), "*": Rate(1000)})
    assert benchmark(card.increment, OUTBOUND, "GB", 60) == (350, 1500)


@pytest.mark.benchmark(group="rates")
def test_route_lookup_cached(benchmark):
    """What every call attempt does: its (payer, kind, country) route, resolved once then cached."""
    acc = _account(["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"])
    r = benchmark(acc.route, 0, int(CallKind.USER_OUT), "GB")
    assert r.price == 350 and not r.domestic


# ---- outputs and end to end ----------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run():
    """200 users, 10 days of the throughput workload, records kept (as replication 0)."""
    from throughput import build

    from sim.engine.loop import simulate
    from sim.parallel.runner import TRAFFIC, payment_seed, replication_seed
    from sim.engine.traffic import generate

    world, _ = build(200, 10)
    attempts = generate(world, replication_seed(42, 0, TRAFFIC))
    policy = world.policies[0]
    run = simulate(world, policy, attempts, payment_seed(42, 0), keep_records=True)
    return world, attempts, run


@pytest.mark.benchmark(group="output")
def test_cdr_rows(benchmark, small_run):
    """R12: formatting every connected call's CDR row (per run; divide by rows for per-row cost)."""
    from sim.outputs.cdr import CallIds, cdr_rows

    world, attempts, run = small_run
    ids = CallIds(attempts, 42)
    rows = benchmark(lambda: list(cdr_rows(world, attempts, run, ids)))
    assert len(rows) == run.account.connected > 1000
    benchmark.extra_info["rows"] = len(rows)


@pytest.mark.benchmark(group="output")
def test_cdr_csv_write(benchmark, small_run):
    """R12 rows through csv.writer into memory: formatting plus CSV quoting."""
    from sim.outputs.cdr import CDR_COLUMNS, CallIds, cdr_rows

    world, attempts, run = small_run
    ids = CallIds(attempts, 42)

    def write():
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(CDR_COLUMNS)
        w.writerows(cdr_rows(world, attempts, run, ids))
        return buf.getvalue()

    text = benchmark(write)
    assert text.count("\n") == run.account.connected + 1


@pytest.mark.benchmark(group="end-to-end")
def test_end_to_end_small(benchmark):
    """generate + simulate, 400 users x 10 days (~11k attempts), one policy, no records."""
    from throughput import build

    from sim.engine.loop import simulate
    from sim.parallel.runner import TRAFFIC, payment_seed, replication_seed
    from sim.engine.traffic import generate

    world, _ = build(400, 10)
    policy = world.policies[0]

    def run():
        attempts = generate(world, replication_seed(42, 0, TRAFFIC))
        return simulate(world, policy, attempts, payment_seed(42, 0), keep_records=False)

    out = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert out.account.attempts > 8_000
    benchmark.extra_info["attempts"] = out.account.attempts


@pytest.mark.benchmark(group="end-to-end")
def test_skeleton_small(benchmark):
    """The bare SimPy skeleton of the same call stream, for the ratio."""
    from throughput import build, skeleton

    from sim.parallel.runner import TRAFFIC, replication_seed
    from sim.engine.traffic import generate

    world, _ = build(400, 10)
    attempts = generate(world, replication_seed(42, 0, TRAFFIC))
    _, ended = benchmark.pedantic(skeleton, args=(attempts,), rounds=5, iterations=1, warmup_rounds=1)
    assert ended == len(attempts)

