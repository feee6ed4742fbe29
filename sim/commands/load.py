"""Read a scenario and everything it names (rate card, replayed report), every input checked."""
from __future__ import annotations

from pathlib import Path

from models.calls import FREE, CallKind
from sim.errors import InputError


def load(path: Path, seed: int | None):
    """Scenario -> (scenario, world, replayed attempts or None); every input checked."""
    from sim.inputs.scenario import load_scenario
    from sim.engine.bounds import check_cost, replay_cost, synthetic_cost
    from sim.engine.world import build_world

    scenario = load_scenario(path)
    world = build_world(scenario, path, seed)
    replay = None
    if scenario.is_replay:
        from sim.inputs.replay import read_report, replay_paths
        replay = read_report(replay_paths(path.parent, scenario.traffic.replay), world)
        cost = replay_cost(world, replay)
    else:
        from sim.engine.traffic import expected_volume
        cost = synthetic_cost(world, expected_volume(world))
    check_cost(cost, str(path))          # before the rates: the cost is what to fix first
    if replay is not None:
        check_replay_rates(world, replay)
    else:
        from sim.engine.traffic import check_rates
        check_rates(world, path)
    world.cost = cost
    return scenario, world, replay


def check_replay_rates(world, attempts) -> None:
    """Every replayed call that credits may pay needs a rate (R6)."""
    from models.rates import OUTBOUND, TOLL_FREE_INBOUND
    seen = set()
    for i in range(len(attempts)):
        kind = CallKind(int(attempts.kind[i]))
        country = attempts.countries[int(attempts.country[i])]
        if kind in FREE or (kind, country) in seen:
            continue
        seen.add((kind, country))
        table = TOLL_FREE_INBOUND if kind in (CallKind.UCAP_IN, CallKind.CONF_IN_TOLL_FREE) else OUTBOUND
        if world.rates.lookup(table, country) is None:
            raise InputError(attempts.lines[i], f"no {table} rate for {country} on the rate card "
                                                  f"(add a row for {country}, or a `*` row)")
