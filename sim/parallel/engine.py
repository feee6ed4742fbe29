"""Where tasks run: this process (serial), a dask.distributed LocalCluster of worker
processes, or an existing Dask cluster (`--scheduler tcp://HOST:PORT`).

One `Engine` serves every batch of a command (the precision loop and the optimiser
submit several), so a cluster starts once and the job (world, replayed report) is
scattered to each worker once, not pickled per task. Results come back in task order
and every task is a pure function of (seed, replication, policy): the same bytes on
1 worker, W workers or any cluster, and a task rerun after its worker died (Dask's
retries) gives the same result.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from contextlib import suppress
from itertools import count

from sim.errors import InputError

from .runner import Job, Task, forget, run_task, run_tasks

# Measured on this project's 2-core machine (benchmarks/README.md, 2026-12-01): a LocalCluster
# of two workers is up and has imported the simulator in ~4 s (2.7 s + 1.6 s, load ~4), and each
# worker generates its replications' traffic and pre-pass again; the engine bills ~300,000
# calls/s on the example scenarios. A run whose serial time S is under START_SECONDS x W/(W-1)
# finishes sooner without a cluster (`make run`'s example: 7 s serial, 13 s on two workers).
START_SECONDS = 4.0
CALLS_PER_SECOND = 300_000
KEEP_COST = 4        # a task that keeps records and writes its files costs ~4 plain ones
CHUNK_SECONDS = 0.25  # tasks sent to a worker together: per-task scheduling (~2-10 ms) stays small
MAX_WORKERS_PER_CORE = 4   # --workers 10,000 ran out of file handles and memory, then would not stop
RETRIES = 3          # a task whose worker died is rerun (same inputs, same result)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def expected_calls(job: Job) -> float:
    """Call attempts per replication: the replayed report's, or the traffic model's expectation."""
    if job.replay is not None:
        return float(len(job.replay))
    from sim.engine.traffic import expected_volume
    return sum(v for k, v in expected_volume(job.world).items() if k != "meetings")


def _quiet_dask() -> None:
    """Dask's INFO/WARNING chatter (worker start-up, closing comms) is not for users."""
    for name in ("distributed", "distributed.worker", "distributed.nanny", "distributed.scheduler",
                 "distributed.core", "distributed.comm", "distributed.client", "distributed.batched"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _close_stray_clusters() -> None:
    """A LocalCluster interrupted while starting (Ctrl-C, SIGTERM) never reached `Engine.cluster`.
    Close it here, quietly: left to distributed's atexit hook, it prints a traceback."""
    spec = sys.modules.get("distributed.deploy.spec")
    if spec is None:                         # dask never imported: a serial run
        return
    for cluster in list(spec.SpecCluster._instances):
        with suppress(Exception):
            cluster.close(timeout=10)
        cluster.shutdown_on_close = False


def _ignore_sigint() -> None:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


PROBE_SECONDS = 15         # a scheduler answers its handshake and `identity` within this


def _probe(address: str, expected: str) -> None:
    """Something listens at `address`: check it answers as a Dask scheduler, within PROBE_SECONDS.
    A Client's handshake has no time limit (a silent listener hangs it for ever), and a server
    that is not Dask (HTTP, a proxy) fails it in any way, even a MemoryError on a bogus length."""
    import asyncio
    from distributed.comm import connect
    from distributed.core import send_recv
    from distributed.security import Security

    # tls:// takes its certificates from Dask's configuration, as a Client does
    connection = Security().get_connection_args("client")
    if address.startswith("tls://") and connection["ssl_context"] is None:
        raise InputError("--scheduler", f"{address} needs Dask's TLS settings: distributed.comm.tls.ca-file, "
                                        ".client.cert and .client.key (e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE, "
                                        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT, DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY)")

    async def identity():
        comm = await connect(address, timeout=PROBE_SECONDS, **connection)
        try:
            return await send_recv(comm, op="identity")
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), PROBE_SECONDS))
    except asyncio.TimeoutError:
        raise InputError("--scheduler", f"{address} accepts connections but did not answer as a Dask scheduler "
                                        f"within {PROBE_SECONDS} s; {expected}") from None
    except Exception as e:                    # noqa: BLE001 - whatever a foreign server makes of it
        raise InputError("--scheduler", f"{address} did not answer as a Dask scheduler "
                                        f"({e.__class__.__name__}); {expected}") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        kind = reply.get("type") if isinstance(reply, dict) else type(reply).__name__
        raise InputError("--scheduler", f"{address} is a Dask {kind}, not a scheduler; {expected}")


class Engine:
    """A context manager; leaving it (also on Ctrl-C) closes the client and any cluster it started."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None, progress: bool = False):
        if workers is not None and workers < 1:
            raise InputError("--workers", f"expected a whole number >= 1, got {workers}")
        if workers is not None and workers > (most := MAX_WORKERS_PER_CORE * default_workers()):
            raise InputError("--workers", f"{workers} worker processes on {default_workers()} core(s) would only "
                                          f"compete for them (and for memory); at most {most}")
        if scheduler is not None and not scheduler.strip():
            raise InputError("--scheduler", "is empty; expected the address a running `dask scheduler` prints, "
                                            "like tcp://10.0.0.5:8786 (or leave the option out to run here)")
        self.workers = workers or default_workers()
        self.scheduler = scheduler
        self.progress = progress
        self.client = None
        self.cluster = None
        self.where = "serial"               # what ran the last batch, for --verbose and summary.json
        self.start_seconds = 0.0
        self._scattered: dict[str, object] = {}
        self._keys = count()

    def __enter__(self) -> "Engine":
        if self.scheduler:
            self._connect()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is KeyboardInterrupt:
            # Ctrl-C, SIGTERM or SIGHUP: the run is over. The in-process scheduler logs every task
            # and comm it loses while the cluster shuts down; none of that is for the user.
            logging.disable(logging.CRITICAL)
        self.close()

    def close(self) -> None:
        if self.client is not None and self.cluster is None and self._scattered:
            try:                             # an external cluster lives on: free its workers' memory
                self.client.run(forget)
            except Exception:
                pass
        for thing in (self.client, self.cluster):
            if thing is not None:
                with suppress(Exception):   # workers may be half-started when a signal stops the run
                    thing.close()
        self.client = self.cluster = None
        self._scattered.clear()
        forget()
        _close_stray_clusters()

    def _connect(self) -> None:
        """Check the address and that something listens there before making a Client: a Client
        that fails to connect blocks the interpreter's exit for its close timeout."""
        import socket
        from distributed import Client
        from distributed.comm.addressing import parse_address, parse_host_port
        _quiet_dask()
        expected = "expected the address a running `dask scheduler` prints, like tcp://10.0.0.5:8786"
        try:
            protocol, location = parse_address(self.scheduler)
            host, port = parse_host_port(location)
        except (ValueError, TypeError) as e:
            raise InputError("--scheduler", f"{self.scheduler!r} is not a scheduler address ({e}); {expected}") from None
        if protocol not in ("tcp", "tls"):
            raise InputError("--scheduler", f"{self.scheduler!r}: the {protocol}:// protocol is not supported; {expected}")
        t0 = time.perf_counter()
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as e:
            raise InputError("--scheduler", f"cannot reach a Dask scheduler at {self.scheduler} "
                                            f"({e.strerror or e}); {expected}") from None
        _probe(self.scheduler, expected)
        self.client = Client(self.scheduler, timeout="30s")
        self.start_seconds = time.perf_counter() - t0

    def _start_local(self) -> None:
        import dask
        from distributed import Client, LocalCluster
        _quiet_dask()
        # The workers' statistical profiler (for the dashboard) samples the engine's deep
        # pure-Python stacks every 10 ms: a cost with no use here. Nannies pass config on.
        dask.config.set({"distributed.worker.profile.enabled": False})
        t0 = time.perf_counter()
        # One single-threaded worker process per core: the engine is pure Python (the GIL).
        # dashboard_address ":0": no fixed port to collide with; no dashboard unless bokeh is installed.
        # Workers log only CRITICAL: a task that fails raises in this process anyway, and a worker
        # whose scheduler goes away on Ctrl-C/SIGTERM would print its heartbeat errors.
        self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                    dashboard_address=":0", silence_logs=logging.CRITICAL)
        self.client = Client(self.cluster)
        # Ctrl-C reaches every process of the terminal's group: this one closes the cluster, and
        # a worker need not print its own KeyboardInterrupt traceback
        with suppress(Exception):
            self.client.run(_ignore_sigint)
        self.start_seconds = time.perf_counter() - t0

    def serial_is_faster(self, job: Job, tasks: list[Task]) -> bool:
        if self.workers <= 1 or len(tasks) <= 1:
            return True
        serial = sum(KEEP_COST if t.keep else 1 for t in tasks) * expected_calls(job) / CALLS_PER_SECOND
        return serial < START_SECONDS * self.workers / (self.workers - 1)

    def map(self, job: Job, tasks: list[Task], desc: str = "policy runs") -> list[dict]:
        """Each task's metrics, in task order."""
        if self.client is None and not self.scheduler and self.serial_is_faster(job, tasks):
            self.where = "serial (this process)"
            return self._serial(job, tasks, desc)
        if self.client is None:
            self._start_local()
        self.where = (f"Dask cluster at {self.scheduler}" if self.cluster is None
                      else f"LocalCluster of {self.workers} workers")
        return self._distributed(job, tasks, desc)

    def _bar(self, total: int, desc: str):
        from tqdm import tqdm
        return tqdm(total=total, unit="run", desc=desc, disable=not self.progress, file=sys.stderr, leave=False)

    def _serial(self, job: Job, tasks: list[Task], desc: str) -> list[dict]:
        out = []
        with self._bar(len(tasks), desc) as bar:
            for task in tasks:
                out.append(run_task(job, task))
                bar.update(1)
        return out

    def _chunks(self, job: Job, indices: list[int]) -> list[list[int]]:
        """Consecutive tasks (so mostly of one replication, whose traffic a worker then generates
        once) sent as one Dask task of ~CHUNK_SECONDS, but at least 4 per worker thread: a Dask
        task costs a few ms, as long as a small simulation (benchmarks/README.md)."""
        threads = max(sum(self.client.nthreads().values()), 1)
        per_task = max(expected_calls(job), 1.0) / CALLS_PER_SECOND
        size = max(1, min(int(CHUNK_SECONDS / per_task), -(-len(indices) // (4 * threads))))
        return [indices[k:k + size] for k in range(0, len(indices), size)]

    def _distributed(self, job: Job, tasks: list[Task], desc: str) -> list[dict]:
        from distributed import as_completed
        # Files are written where the results folder is: a LocalCluster's workers share this
        # machine's disk; on an external cluster the record-keeping tasks run here.
        local = [i for i, t in enumerate(tasks) if t.keep and self.cluster is None]
        remote = [i for i in range(len(tasks)) if i not in set(local)]
        if job.token not in self._scattered:
            self._scattered[job.token] = self.client.scatter(job, broadcast=True, hash=False)
        shared = self._scattered[job.token]
        batch = next(self._keys)
        futures = {self.client.submit(run_tasks, shared, [tasks[i] for i in chunk],
                                      key=f"sim-{job.token[:8]}-{batch}-{chunk[0]}", retries=RETRIES, pure=False): chunk
                   for chunk in self._chunks(job, remote)}
        out: list = [None] * len(tasks)
        with self._bar(len(tasks), desc) as bar:
            for i in local:
                out[i] = run_task(job, tasks[i])
                bar.update(1)
            try:
                for future in as_completed(futures):
                    chunk = futures[future]
                    for i, result in zip(chunk, future.result()):
                        out[i] = result
                    future.release()
                    bar.update(len(chunk))
            except BaseException:
                self.client.cancel(list(futures))
                raise
        return out
