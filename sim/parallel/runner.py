"""Replications x policies, in parallel, with common random numbers.

Every random input has its own stream spawned from the run's seed
(`numpy.random.SeedSequence`): replication r's traffic comes from
spawn key (r, 0); its payment-decline draws from (r, 1), the same stream for every
policy: a policy's k-th card payment attempt draws the k-th number of it. So all
policies of a replication see the same call attempts and the same decline draws
(common random numbers for payments too), renaming, adding or reordering policies
changes nothing else, and results do not depend on the number of workers.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from sim.engine.loop import simulate
from sim.analysis.metrics import metrics_of

TRAFFIC, PAYMENTS = 0, 1


def replication_seed(base: int, rep: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(entropy=base, spawn_key=(rep, *key))


def payment_seed(base: int, rep: int) -> np.random.SeedSequence:
    """The replication's decline draws: the same for every policy, never keyed by its name."""
    return replication_seed(base, rep, PAYMENTS)


@dataclass
class Job:
    world: object
    seed: int
    replay: object | None      # Attempts when replaying, else None (synthetic per replication)
    files_dir: Path | None     # replication 0 writes its per-policy files here


_JOB: Job | None = None       # each worker's job, set by the pool initializer


def _set_job(job: Job) -> None:
    global _JOB
    _JOB = job


def attempts_for(job: Job, rep: int):
    if job.replay is not None:
        return job.replay
    from sim.engine.traffic import generate
    return generate(job.world, replication_seed(job.seed, rep, TRAFFIC))


_LAST: tuple | None = None     # (job, replication, attempts): this process's last traffic


def _attempts(job: Job, rep: int):
    """The replication's attempts, regenerated only when the replication changes (tasks of
    one replication mostly arrive together). Same seed, same attempts: every policy of a
    replication sees the same calls wherever it runs."""
    global _LAST
    if _LAST is None or _LAST[0] is not job or _LAST[1] != rep:
        _LAST = (job, rep, attempts_for(job, rep))
    return _LAST[2]


def run_task(task: tuple[int, int], job: Job | None = None) -> tuple[int, str, dict[str, Decimal]]:
    """One policy of one replication; replication 0 also writes the policy's files."""
    job = job or _JOB
    rep, p = task
    policy = job.world.policies[p]
    attempts = _attempts(job, rep)
    keep = rep == 0 and job.files_dir is not None
    run = simulate(job.world, policy, attempts, payment_seed(job.seed, rep), keep_records=keep)
    if keep:
        from sim.outputs.policy_files import write_policy_files
        write_policy_files(job.files_dir / policy.name, job.world, attempts, run, rep_seed=job.seed)
    return rep, policy.name, metrics_of(run)


def run_all(job: Job, replications: int, workers: int, progress: bool = False) -> list[dict]:
    """Per-replication {policy: metrics}, in replication order.

    The work is split into (replication, policy) tasks, the heavy replication-0 ones
    (records and files) first, so that workers stay evenly busy; results do not depend
    on how tasks are spread."""
    names = [p.name for p in job.world.policies]
    tasks = [(rep, p) for rep in range(replications) for p in range(len(names))]
    results: dict[int, dict] = {rep: {} for rep in range(replications)}
    bar = _progress(len(tasks), progress)
    try:
        if workers <= 1 or len(tasks) == 1:
            done = (run_task(task, job) for task in tasks)
            for rep, name, metrics in done:
                results[rep][name] = metrics
                bar.update(1)
        else:
            ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            # fork shares the world with the workers instead of pickling it
            with ctx.Pool(min(workers, len(tasks)), initializer=_set_job, initargs=(job,)) as pool:
                for rep, name, metrics in pool.imap_unordered(run_task, tasks):
                    results[rep][name] = metrics
                    bar.update(1)
    finally:
        bar.close()
        global _LAST
        _LAST = None             # don't keep the last traffic alive after the run
    return [{name: results[rep][name] for name in names} for rep in range(replications)]


def _progress(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, unit="run", desc="policy runs", disable=not enabled, file=sys.stderr, leave=False)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
