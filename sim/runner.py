"""Replications x policies, in parallel, with common random numbers.

Every random input has its own stream spawned from the run's seed
(`numpy.random.SeedSequence`): replication r's traffic comes from
spawn key (r, 0); policy p's payment declines from (r, 1, crc32(p.name)). So all
policies of a replication see the same call attempts, adding a policy changes
nothing else, and results do not depend on the number of workers.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from .engine import simulate
from .metrics import metrics_of

TRAFFIC, PAYMENTS = 0, 1


def replication_seed(base: int, rep: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(entropy=base, spawn_key=(rep, *key))


def payment_seed(base: int, rep: int, policy_name: str) -> np.random.SeedSequence:
    return replication_seed(base, rep, PAYMENTS, zlib.crc32(policy_name.encode()))


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
    from .traffic import generate
    return generate(job.world, replication_seed(job.seed, rep, TRAFFIC))


def run_replication(rep: int, job: Job | None = None) -> tuple[int, dict[str, dict[str, Decimal]]]:
    job = job or _JOB
    attempts = attempts_for(job, rep)
    keep = rep == 0 and job.files_dir is not None
    out = {}
    for policy in job.world.policies:
        run = simulate(job.world, policy, attempts, payment_seed(job.seed, rep, policy.name), keep_records=keep)
        out[policy.name] = metrics_of(run)
        if keep:
            from .results import write_policy_files
            write_policy_files(job.files_dir / policy.name, job.world, attempts, run, rep_seed=job.seed)
    return rep, out


def run_all(job: Job, replications: int, workers: int, progress: bool = False) -> list[dict]:
    """Per-replication metrics, in replication order."""
    results: dict[int, dict] = {}
    bar = _progress(replications, progress)
    try:
        if workers <= 1 or replications == 1:
            for rep in range(replications):
                results[rep] = run_replication(rep, job)[1]
                bar.update(1)
        else:
            ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            # fork shares the world with the workers instead of pickling it
            with ctx.Pool(min(workers, replications), initializer=_set_job, initargs=(job,)) as pool:
                for rep, res in pool.imap_unordered(run_replication, range(replications)):
                    results[rep] = res
                    bar.update(1)
    finally:
        bar.close()
    return [results[r] for r in range(replications)]


def _progress(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, unit="rep", desc="replications", disable=not enabled, file=sys.stderr, leave=False)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
