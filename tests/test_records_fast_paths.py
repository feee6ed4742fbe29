"""Replication 0 keeps records on the same fast paths as every other replication (issue 13).

Keeping records (the CDR, the journal, disruptions and notifications replication 0 writes) must
not switch off any fast path: the pre-pass, credit holds, blocks of credit-only calls and runs
refused at once. The number of SimPy events a policy takes is the measure of that: each fast
path exists to take events away, so a records run that gave one up would take more. Counted on
random bursts with tight balances (tests/test_blocks.py) and on a generated tenant, prepaid with
auto-recharge and postpay, the counts must be equal, and so must every total.
"""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import simpy
import yaml
from hypothesis import HealthCheck, given, settings

from models.policy import POSTPAY, Policy
from models.timeutil import Clock
from sim.commands.load import load
from sim.engine.loop import simulate
from sim.engine.traffic import generate
from sim.parallel.runner import TRAFFIC, payment_seed, replication_seed
from tests.test_blocks import bursts
from tests.test_metamorphic import SYNTHETIC
from tests.test_properties import DAY, HORIZON_DAYS, PAYERS, RATES, START, _totals


def counted(world, policy, attempts, seed, keep_records):
    """The run and the number of SimPy events it stepped through."""
    steps = Counter()
    step = simpy.Environment.step

    def counting(env):
        steps["events"] += 1
        return step(env)

    with mock.patch.object(simpy.Environment, "step", counting):
        run = simulate(world, policy, attempts, seed, keep_records=keep_records)
    return run, steps["events"]


def same_events(world, policy, attempts, seed):
    lean, lean_events = counted(world, policy, attempts, np.random.SeedSequence(seed), False)
    kept, kept_events = counted(world, policy, attempts, np.random.SeedSequence(seed), True)
    assert kept_events == lean_events
    assert _totals(kept) == _totals(lean)
    return lean_events


@pytest.mark.parametrize("postpay", [False, True], ids=["prepaid", "postpay"])
def test_property_records_take_no_more_events(postpay):
    seen = Counter()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(bursts())
    def check(case):
        switches, policy, attempts, warmup, seed = case
        if postpay:
            policy = Policy(policy.name, POSTPAY, policy.initial_funds, None, policy.payment)
        world = SimpleNamespace(payers=PAYERS, switches=switches, rates=RATES, clock=Clock(START),
                                horizon=HORIZON_DAYS * DAY, measure_from=warmup)
        events = same_events(world, policy, attempts, seed)
        seen["runs"] += 1
        seen["fewer events than attempts"] += events < len(attempts)

    check()
    print(dict(seen))
    # worth its name: the fast paths took events away (a run with one event per increment
    # has at least one per attempt)
    assert seen["fewer events than attempts"] > seen["runs"] // 4, seen


TENANT_POLICIES = dict(SYNTHETIC, days=59, policies=SYNTHETIC["policies"] + [
    {"name": "invoiced", "billing": "postpay"}])


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    path = tmp_path_factory.mktemp("fast") / "fast.yaml"
    path.write_text(yaml.safe_dump(TENANT_POLICIES, sort_keys=False))
    _, world, _ = load(path, None)
    return world, generate(world, replication_seed(11, 0, TRAFFIC))


@pytest.mark.parametrize("policy_index", [0, 1, 2], ids=["runs dry", "auto-recharge with declines", "postpay"])
def test_generated_tenant_records_take_no_more_events(tenant, policy_index):
    world, attempts = tenant
    policy = world.policies[policy_index]
    lean, lean_events = counted(world, policy, attempts, payment_seed(11, 0), False)
    kept, kept_events = counted(world, policy, attempts, payment_seed(11, 0), True)
    assert kept_events == lean_events < len(attempts)
    assert _totals(kept) == _totals(lean)
