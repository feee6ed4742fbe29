"""`sweep`: every candidate of the scenario's `sweep:` grid on the same call attempts (common random
numbers), R replications each: sweep.csv, frontier.csv, frontier.png and summary.json."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .load import load
from .replications import check_replications

EXIT_OK = 0
DEFAULT_REPLICATIONS = 10


@dataclass
class Space:
    """A scenario's sweep: its world and the candidates as specs, fields and resolved policies."""

    scenario: object
    world: object
    replay: object
    seed: int
    fields: list[str]
    names: list[str]
    values: dict[str, dict]          # candidate -> {field: value}
    specs: dict[str, object]         # candidate -> PolicySpec (for optimum.yaml)
    policies: list                   # models.policy.Policy, in candidate order


def load_space(args) -> Space:
    from sim.engine.world import resolve_policy
    from sim.inputs.sweep import candidates

    scenario, world, replay = load(args.scenario, args.seed)
    found = candidates(scenario, args.scenario)
    seed = args.seed if args.seed is not None else scenario.seed
    return Space(scenario, world, replay, seed, list(scenario.sweep.grid), [n for n, _, _ in found],
                 {n: v for n, v, _ in found}, {n: s for n, _, s in found},
                 [resolve_policy(s, world.clock, world.horizon) for _, _, s in found])


def cmd_sweep(args) -> int:
    from sim.analysis.frontier import COSTS, DISRUPTIONS, pareto_front, with_disruptions
    from sim.analysis.metrics import METRICS
    from sim.analysis.summary import aggregate, interval_json
    from sim.outputs.folder import atomic_folder, check_out_folder
    from sim.outputs.sweep_files import frontier_plot, write_frontier_csv, write_sweep_csv
    from sim.outputs.table import write_summary
    from sim.parallel.engine import Engine
    from sim.parallel.runner import Job, run_replications

    t0 = time.perf_counter()
    reps = DEFAULT_REPLICATIONS if args.replications is None else args.replications
    check_replications(reps)
    space = load_space(args)
    out = args.out or Path("results") / f"{space.scenario.name}-sweep"
    check_out_folder(out, args.force)
    # the engine inside the folder, as in `run`: on Ctrl-C the workers stop before it is removed
    with atomic_folder(out, args.force) as tmp, \
            Engine(args.workers, args.scheduler, progress=not args.quiet and sys.stderr.isatty()) as engine:
        job = Job(space.world, space.seed, space.replay)
        per_rep = with_disruptions(run_replications(engine, job, range(reps), space.policies, desc="candidate runs"))
        summary = aggregate(per_rep, space.names)
        for name in space.names:
            summary[name][DISRUPTIONS] = interval_json(DISRUPTIONS, [rep[name][DISRUPTIONS] for rep in per_rep])
        front = pareto_front({n: tuple(Decimal(summary[n][c]["mean"]) for c in COSTS) for n in space.names})
        rows = [(n, space.values[n], summary[n]) for n in space.names]
        write_sweep_csv(tmp / "sweep.csv", space.fields, rows, [DISRUPTIONS, *METRICS])
        write_frontier_csv(tmp / "frontier.csv", space.fields, [r for r in rows if r[0] in set(front)])
        sc = space.scenario
        frontier_plot(tmp / "frontier.png", summary, front, sc.currency,
                      f"{sc.name}: {len(space.names)} candidates from {sc.sweep.base}, {reps} replications each")
        write_summary(tmp, {
            "scenario": sc.name, "seed": space.seed, "replications": reps,
            "base": sc.sweep.base, "grid": {f: [str(v) for v in vs] for f, vs in _grid(sc).items()},
            "costs": list(COSTS), "frontier": front, "ran_on": engine.where,
            "candidates": {n: {"fields": {f: str(v) for f, v in space.values[n].items()}, "metrics": summary[n]}
                           for n in space.names},
        })
    if not args.quiet:
        print(_front_table(front, space, summary))
        print(f"\n{len(front)} of {len(space.names)} candidates on the Pareto front of {', '.join(COSTS)} "
              f"(means over {reps} replications, same call attempts for all).")
        print(f"results written to {out}/ ({time.perf_counter() - t0:.1f} s)")
    return EXIT_OK


def _grid(scenario) -> dict:
    from sim.inputs.sweep import grid_values
    return grid_values(scenario.sweep)


def _front_table(front: list[str], space: Space, summary: dict) -> str:
    from tabulate import tabulate

    from sim.analysis.frontier import COSTS
    from sim.analysis.metrics import MONEY
    from sim.outputs.table import interval_cell
    rows = [[n, *(space.values[n][f] for f in space.fields),
             *(interval_cell(summary[n][c], c in MONEY) for c in COSTS)] for n in front]
    return tabulate(rows, headers=["candidate", *space.fields, *COSTS], tablefmt="github", disable_numparse=True)
