"""(replication, policy) tasks with common random numbers, and where they run (sim.parallel.engine).

Every random input has its own stream spawned from the run's seed
(`numpy.random.SeedSequence`): replication r's traffic comes from
spawn key (r, 0); its payment-decline draws from (r, 1), the same stream for every
policy: a policy's k-th card payment attempt draws the k-th number of it. So all
policies of a replication see the same call attempts and the same decline draws
(common random numbers for payments too), renaming, adding or reordering policies
changes nothing else, and results do not depend on where or in which order tasks run.
"""
from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np

from sim.engine import memory, prepass
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
    """What every task of a run shares; shipped to each worker once (scattered), not per task."""

    world: object
    seed: int
    replay: object | None = None     # Attempts when replaying, else None (synthetic per replication)
    files_dir: Path | None = None    # tasks with keep=True write their policy's files here
    token: str = field(default_factory=lambda: uuid.uuid4().hex)   # names this job in the workers' caches
    file_options: object = None      # sim.outputs.policy_files.FileOptions (format, journal); None: defaults


def attempts_for(job: Job, rep: int):
    if job.replay is not None:
        return job.replay
    from sim.engine.traffic import generate
    attempts = generate(job.world, replication_seed(job.seed, rep, TRAFFIC))
    memory.release(len(attempts))           # generating leaves ~170 MiB of free heap at a tenant-year
    return attempts


# Each process's recent traffic, so that every candidate of a replication that lands on a
# worker reuses the attempts generated there (regenerating costs ~10 % of a simulation;
# shipping them costs more: measured in benchmarks/README.md). Two entries: tasks arrive
# in replication order, so at most the current and the next replication are live.
_CACHE: OrderedDict[tuple[str, int], object] = OrderedDict()
_CACHE_SIZE = 2


def cached_attempts(job: Job, rep: int):
    key = (job.token, rep)
    if key in _CACHE:
        _CACHE.move_to_end(key)
    else:
        _CACHE[key] = attempts_for(job, rep)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return _CACHE[key]


def forget(token: str | None = None) -> None:
    """Drop cached traffic (of one job, or all): the attempts of a finished run are not kept alive."""
    for key in [k for k in _CACHE if token is None or k[0] == token]:
        del _CACHE[key]
    prepass.forget()


@dataclass(frozen=True)
class Task:
    rep: int
    policy: object             # models.policy.Policy: a scenario's policy or a sweep candidate
    keep: bool = False         # keep the records and write the policy's files to job.files_dir
    last: bool = False         # the replication's last task: its pre-pass can go


def run_task(job: Job, task: Task) -> dict[str, Decimal]:
    """One policy of one replication: its metrics (and, with keep, its files)."""
    attempts = cached_attempts(job, task.rep)
    run = simulate(job.world, task.policy, attempts, payment_seed(job.seed, task.rep),
                   keep_records=task.keep, journal=getattr(job.file_options, "journal", "calls"))
    metrics = metrics_of(run)
    if task.last or task.keep:
        # The pre-pass is hundreds of MB at a tenant-year: the replication's last policy no longer
        # needs it, and a policy whose files are written drops it first (a further policy of the
        # replication, here or on another worker, rebuilds it: ~2 s, against ~300 MB held while
        # writing, which took a tenant-year's worker past 1 GiB).
        prepass.forget(attempts)
        memory.release(len(attempts))       # the event loop held its tables in reference cycles
    if task.keep:
        from sim.outputs.policy_files import FileOptions, write_policy_files
        options = job.file_options or FileOptions()
        # the CDR's 2-decimal totals, summed as it was written (summary.json `cdr_rounding`)
        metrics["cdr"] = write_policy_files(job.files_dir / task.policy.name, job.world, attempts, run,
                                            rep_seed=job.seed, options=options)
        del run
        memory.release(len(attempts))       # what writing freed, before this worker's next policy
    return metrics


def run_tasks(job: Job, tasks: list[Task]) -> list[dict[str, Decimal]]:
    """Several tasks in one go (one Dask task: sim.parallel.engine sends them in chunks)."""
    return [run_task(job, t) for t in tasks]


def replication_tasks(job: Job, reps: range, policies=None) -> list[Task]:
    """Every policy of every replication in `reps`, replication-major (so workers' caches hit);
    replication 0 keeps its records when the job has a files folder."""
    policies = job.world.policies if policies is None else policies
    return [Task(rep, p, keep=rep == 0 and job.files_dir is not None, last=j == len(policies) - 1)
            for rep in reps for j, p in enumerate(policies)]


def run_replications(engine, job: Job, reps: range, policies=None, desc: str = "policy runs") -> list[dict]:
    """Per-replication {policy name: metrics}, in replication order."""
    policies = job.world.policies if policies is None else policies
    tasks = replication_tasks(job, reps, policies)
    # the heavy record-keeping tasks first, so that workers stay evenly busy
    order = sorted(range(len(tasks)), key=lambda i: not tasks[i].keep)
    results = engine.map(job, [tasks[i] for i in order], desc=desc)
    by_task = dict(zip(order, results))
    n = len(policies)
    return [{p.name: by_task[i * n + j] for j, p in enumerate(policies)} for i in range(len(reps))]
