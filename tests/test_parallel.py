"""Where tasks run (sim.parallel.engine, issue 11): this process, a LocalCluster, or an external Dask
cluster started here on 127.0.0.1 — byte-identical results everywhere, also when a worker dies."""
import os
import signal
from pathlib import Path

import pytest
import yaml

import sim.parallel.engine as engine_mod
from sim.cli import main
from sim.commands.load import load
from sim.parallel.engine import Engine
from sim.parallel.runner import Job, replication_tasks

from .dask_cluster import external_cluster
from .test_metamorphic import SYNTHETIC
from .test_reproducibility import _files


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    with external_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


@pytest.fixture
def always_cluster(monkeypatch):
    """Tiny test runs would otherwise take the serial path (faster than starting a cluster)."""
    monkeypatch.setattr(engine_mod, "START_SECONDS", 0.0)


def _job(tmp_path: Path, days: int = 8) -> Job:
    doc = dict(SYNTHETIC, days=days)
    doc["policies"] = SYNTHETIC["policies"] + [{"name": "declined", "initial_funds": 20.00,
                                                 "auto_recharge": {"trigger": 15.00, "amount": 20.00},
                                                 "payment": {"decline_rate": 0.5}}]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    _, world, replay = load(path, None)
    return Job(world, 7, replay), path


def test_serial_local_cluster_and_external_cluster_give_identical_metrics_even_when_a_worker_dies(
        tmp_path, scheduler, always_cluster):
    job, _ = _job(tmp_path, days=30)
    tasks = replication_tasks(job, range(6))
    with Engine(1) as serial:
        one = serial.map(job, tasks)
        assert serial.where.startswith("serial")
    with Engine(2) as local:
        local.map(job, tasks[:2])                  # the cluster is up and the job scattered
        victim, pid = sorted(local.client.run(os.getpid).items())[0]
        killed = []

        class KillOnFirstResult:                   # stands in for the progress bar
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                pass

            def update(self, n):
                if not killed:
                    os.kill(pid, signal.SIGKILL)   # as the OOM killer would, with tasks in flight
                    killed.append(pid)

        local._bar = lambda total, desc: KillOnFirstResult()
        two = local.map(job, tasks)                # the dead worker's tasks are rerun elsewhere
        assert killed
        assert local.where == "LocalCluster of 2 workers"
    with Engine(scheduler=scheduler) as ext:
        three = ext.map(job, tasks)
        assert ext.where.startswith("Dask cluster at tcp://127.0.0.1:")
    assert one == two == three
    assert len({m["credits_spent"] for m in one}) > 5, "tasks must differ from each other"


def test_run_on_an_external_scheduler_writes_the_same_results_folder(tmp_path, scheduler):
    _, path = _job(tmp_path)
    assert main(["-q", "run", str(path), "-r", "3", "-w", "1", "--no-xlsx", "--out", str(tmp_path / "w1")]) == 0
    assert main(["-q", "run", str(path), "-r", "3", "--scheduler", scheduler, "--no-xlsx",
                 "--out", str(tmp_path / "ext")]) == 0
    one, ext = _files(tmp_path / "w1"), _files(tmp_path / "ext")
    assert one.keys() == ext.keys() and any(k.endswith("cdr.csv") for k in one)
    for name in one:
        assert one[name] == ext[name], name


@pytest.mark.parametrize("address, says", [("tcp://127.0.0.1:1", "cannot reach a Dask scheduler"),
                                           ("nonsense", "is not a scheduler address"),
                                           ("ws://127.0.0.1:1", "the ws:// protocol is not supported"),
                                           ("", "is empty")])
def test_a_bad_scheduler_address_is_bad_input(tmp_path, capsys, address, says):
    _, path = _job(tmp_path)
    assert main(["run", str(path), "--scheduler", address, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --scheduler: ") and says in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("answer", [None, b"HTTP/1.0 426 Upgrade Required\r\n\r\n" + b"\xff" * 64],
                         ids=["never answers", "not Dask"])
def test_a_listener_that_is_no_scheduler_is_bad_input_in_bounded_time(tmp_path, capsys, monkeypatch, answer):
    """An audit: a listener that never answers hung `run` for good (the Client's handshake has no
    time limit); an HTTP proxy made it exit 1 with a MemoryError (a bogus frame length)."""
    import socket
    import threading

    import sim.parallel.engine as engine
    monkeypatch.setattr(engine, "PROBE_SECONDS", 2)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if answer:
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    try:
        _, path = _job(tmp_path)
        assert main(["run", str(path), "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(tmp_path / "o")]) == 2
    finally:
        server.close()
        for conn in held:
            conn.close()
    err = capsys.readouterr().err
    assert err.startswith("error: --scheduler: ") and "did not answer as a Dask scheduler" in err, err
    assert not (tmp_path / "o").exists()


def test_workers_past_four_per_core_are_refused(tmp_path, capsys):
    """--workers 10000 on 2 cores ran out of file handles and memory and ignored SIGTERM."""
    from sim.parallel.engine import MAX_WORKERS_PER_CORE, default_workers
    _, path = _job(tmp_path)
    most = MAX_WORKERS_PER_CORE * default_workers()
    assert main(["run", str(path), "-w", str(most + 1), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith(f"error: --workers: {most + 1} worker processes on ")
    assert not (tmp_path / "o").exists()


def test_a_tls_scheduler_is_probed_with_the_configured_certificates(tmp_path, capsys):
    """A review: the scheduler probe connected to tls:// without Dask's TLS settings and refused
    every TLS cluster that used to work ("did not answer as a Dask scheduler (TypeError)")."""
    import shutil
    import subprocess

    import dask

    from tests.dask_cluster import external_cluster
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    _, path = _job(tmp_path)
    with external_cluster(tmp_path, workers=1, tls=(cert, key)) as address:
        assert address.startswith("tls://")
        with dask.config.set({"distributed.comm.tls.ca-file": str(cert), "distributed.comm.tls.client.cert": str(cert),
                              "distributed.comm.tls.client.key": str(key)}):
            code = main(["run", str(path), "--scheduler", address, "-q", "--no-xlsx", "--out", str(tmp_path / "o")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "o" / "summary.json").is_file()
