#!/usr/bin/env python3
"""Parallel efficiency and per-task overhead of the Dask engine on a sweep (issue 11).

    .venv/bin/python benchmarks/parallel.py                       # 25 candidates x 8 replications, 300 users x 30 days
    .venv/bin/python benchmarks/parallel.py --users 1000 --days 60 --candidates 20 --replications 10
    .venv/bin/python benchmarks/parallel.py --json

Measures, on the throughput.py tenant (its one policy as the sweep's base, the auto-recharge
trigger swept over --candidates values):
- direct: every (candidate, replication) task as a plain loop in this process: traffic generated
  once per replication, `simulate` + `metrics_of` per candidate (the engine called directly);
- serial engine: the same tasks through `Engine.map` in this process (its serial path);
- 1 worker / 2 workers: the same tasks on a LocalCluster of 1 and 2 worker processes (timed from
  submission to the last result; the cluster's start-up is reported apart);
- overhead per task: (1-worker time - direct time) / direct time;
- parallel efficiency: 1-worker time / (2 x 2-worker time);
- traffic: generating one replication's attempts vs pickling them (shipping) and their size.
Every path must give identical metrics; the script checks it.
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def workload(users: int, days: int, candidates: int):
    from throughput import build
    from models.policy import AutoRechargeRule
    world, _ = build(users, days)
    base = world.policies[0]
    policies = [replace(base, name=f"c{k:03d}",
                        auto_recharge=AutoRechargeRule(base.auto_recharge.trigger * (k + 1) // candidates,
                                                       base.auto_recharge.amount))
                for k in range(candidates)]
    return world, policies


def direct(job, tasks):
    from sim.analysis.metrics import metrics_of
    from sim.engine.loop import simulate
    from sim.parallel.runner import attempts_for, payment_seed
    out, attempts, rep = [], None, None
    for t in tasks:
        if t.rep != rep:
            attempts, rep = attempts_for(job, t.rep), t.rep
        out.append(metrics_of(simulate(job.world, t.policy, attempts, payment_seed(job.seed, t.rep),
                                       keep_records=False)))
    return out


def on_cluster(job, tasks, workers):
    from sim.parallel.engine import Engine
    with Engine(workers) as engine:
        engine._start_local()                 # a cluster even for 1 worker (the engine would go serial)
        start = engine.start_seconds
        engine.map(job, tasks[:workers])      # the job scattered and the workers warm
        t0 = time.perf_counter()
        out = engine.map(job, tasks)
        return out, time.perf_counter() - t0, start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--candidates", type=int, default=25)
    ap.add_argument("--replications", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    from sim.parallel.engine import Engine
    from sim.parallel.runner import Job, attempts_for, replication_tasks

    world, policies = workload(a.users, a.days, a.candidates)
    job = Job(world, 42)
    tasks = replication_tasks(job, range(a.replications), policies)
    t0 = time.perf_counter()
    attempts = attempts_for(job, 0)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    blob = pickle.dumps(attempts, protocol=5)
    pickle.loads(blob)
    ship = time.perf_counter() - t0

    t0 = time.perf_counter()
    ref = direct(job, tasks)
    t_direct = time.perf_counter() - t0
    t0 = time.perf_counter()
    with Engine(1) as engine:
        serial = engine.map(job, tasks)
    t_serial = time.perf_counter() - t0
    one, t1, start1 = on_cluster(job, tasks, 1)
    two, t2, start2 = on_cluster(job, tasks, 2)
    assert ref == serial == one == two, "every path must give the same metrics"
    r = {"tasks": len(tasks), "calls_per_replication": len(attempts), "users": a.users, "days": a.days,
         "direct_s": round(t_direct, 2), "serial_engine_s": round(t_serial, 2),
         "one_worker_s": round(t1, 2), "two_workers_s": round(t2, 2),
         "cluster_start_1_s": round(start1, 2), "cluster_start_2_s": round(start2, 2),
         "overhead_per_task": round((t1 - t_direct) / t_direct, 4),
         "serial_overhead_per_task": round((t_serial - t_direct) / t_direct, 4),
         "parallel_efficiency": round(t1 / (2 * t2), 4),
         "generate_attempts_s": round(gen, 4), "ship_attempts_s": round(ship, 4),
         "attempts_pickled_mb": round(len(blob) / 2**20, 2),
         "direct_per_task_ms": round(1000 * t_direct / len(tasks), 1)}
    if a.json:
        print(json.dumps(r))
    else:
        for k, v in r.items():
            print(f"{k:28} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
