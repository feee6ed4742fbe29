"""An external Dask cluster for tests: a `dask scheduler` and two single-threaded `dask worker`
processes on 127.0.0.1, started by the test module and torn down after it."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).with_name("dask"))


@contextlib.contextmanager
def external_cluster(tmp: Path, workers: int = 2, tls: tuple[Path, Path] | None = None):
    """Yields the scheduler's address once `workers` workers have joined it. `tls`: (certificate,
    key), self-signed (its own CA), for a tls:// cluster; the caller configures its client."""
    file = tmp / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))          # the workers import this checkout's sim/
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp, env=env)
    secure = ["--tls-ca-file", str(tls[0]), "--tls-cert", str(tls[0]), "--tls-key", str(tls[1])] if tls else []
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(file), "--idle-timeout", "600s",
                               *(["--protocol", "tls"] if tls else []), *secure], **quiet)]
    try:
        deadline = time.monotonic() + 60
        while not (address := _address(file)):
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError("dask scheduler did not start")
            time.sleep(0.1)
        procs.append(subprocess.Popen([DASK, "worker", "--scheduler-file", str(file), "--nworkers", str(workers),
                                       "--nthreads", "1", "--no-dashboard", "--death-timeout", "60", *secure], **quiet))
        from distributed import Client
        from distributed.security import Security
        security = Security(tls_ca_file=str(tls[0]), tls_client_cert=str(tls[0]), tls_client_key=str(tls[1]),
                            require_encryption=True) if tls else None
        with Client(address, timeout="30s", security=security) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _address(file: Path) -> str | None:
    try:
        return json.loads(file.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None
