"""Splitting a run (issue 3; anchors.md invariant 8): a two-month run equals month 1,
saved to bytes, then month 2 resumed from the saved state — to the last journal row."""
import pytest
import yaml

from sim.commands.load import load
from sim.engine.loop import Checkpoint, simulate
from sim.parallel.runner import payment_seed
from tests.test_metamorphic import SYNTHETIC
from tests.test_properties import _observable, _totals

SPLIT = dict(SYNTHETIC, start="2026-01-01T00:00:00Z", days=59, policies=[
    {"name": "recharging", "initial_funds": 30.00, "auto_recharge": {"trigger": 20.00, "amount": 25.00},
     "payment": {"method": "card", "decline_rate": 0.3, "delay_minutes": 45, "retry_minutes": 60, "max_retries": 2},
     "top_ups": [{"monthly": 1, "amount": 20.00}]},
    {"name": "tight", "initial_funds": 40.00},
])
FEB_1 = 31 * 86400


@pytest.fixture(scope="module")
def world_and_attempts(tmp_path_factory):
    path = tmp_path_factory.mktemp("split") / "split.yaml"
    path.write_text(yaml.safe_dump(SPLIT, sort_keys=False))
    from sim.parallel.runner import Job, attempts_for
    _, world, _ = load(path, None)
    return world, attempts_for(Job(world, 11, None, None), 0)


@pytest.mark.parametrize("keep_records", [True, False])
@pytest.mark.parametrize("policy_index", [0, 1])
def test_month_1_then_month_2_resumed_from_saved_state_equals_one_run(world_and_attempts, keep_records, policy_index):
    world, attempts = world_and_attempts
    policy = world.policies[policy_index]
    seed = payment_seed(11, 0)
    whole = simulate(world, policy, attempts, seed, keep_records=keep_records)

    first = simulate(world, policy, attempts, seed, keep_records=keep_records, until=FEB_1)
    assert first.checkpoint is not None and first.checkpoint.now == FEB_1
    kinds = {kind for _, _, kind, _ in first.checkpoint.queue}
    assert {"arrival", "account"} <= kinds          # the Feb 1 reset and top-up are still to come
    saved = first.checkpoint.dumps()
    rest = simulate(world, policy, attempts, None, checkpoint=Checkpoint.loads(saved))
    assert rest.checkpoint is None

    assert whole.account.cut + whole.account.blocked > 0, "the check needs disruptions to mean something"
    if keep_records:
        assert _observable(rest) == _observable(whole)
    else:
        assert _totals(rest) == _totals(whole)


def test_in_flight_calls_cross_the_split(world_and_attempts):
    """Split 90 s into the first long paid call after 1 February: calls are in progress and
    their next increments are pending events in the saved state."""
    from models.calls import CallKind
    world, attempts = world_and_attempts
    policy = world.policies[0]
    seed = payment_seed(11, 0)
    whole = simulate(world, policy, attempts, seed, fund_ahead=False)
    paid = (attempts.kind == CallKind.UCAP_IN) & (attempts.t > FEB_1) & (attempts.duration > 600)
    at = int(attempts.t[paid][0]) + 90
    first = simulate(world, policy, attempts, seed, until=at, fund_ahead=False)
    kinds = [kind for _, _, kind, _ in first.checkpoint.queue]
    assert "increment" in kinds
    rest = simulate(world, policy, attempts, None, checkpoint=Checkpoint.loads(first.checkpoint.dumps()))
    assert _observable(rest) == _observable(whole)


def test_a_checkpoint_refuses_other_attempts(world_and_attempts):
    world, attempts = world_and_attempts
    policy = world.policies[1]
    first = simulate(world, policy, attempts, payment_seed(11, 0), until=FEB_1)
    from sim.parallel.runner import Job, attempts_for
    other = attempts_for(Job(world, 12, None, None), 0)
    with pytest.raises(ValueError, match="other call attempts"):
        simulate(world, policy, other, None, checkpoint=first.checkpoint)
