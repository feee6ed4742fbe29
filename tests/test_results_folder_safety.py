"""Issue 12: the user's files are safe. Results replace only a folder the project wrote (its
manifest.json lists every file); anything else is refused unless --force, which keeps the
user's files; SIGTERM and SIGHUP stop a run like Ctrl-C, leaving no temporary folder."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from tests.test_cli_errors import BASE, setup

ROOT = Path(__file__).resolve().parents[1]


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_results_folder_is_replaced_and_lists_its_files(tmp_path, capsys):
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(f for f in snapshot(out) if f != "manifest.json")
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx", "--seed", "5"]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 5


@pytest.mark.parametrize("foreign", ["notes.txt", "p/my-analysis.xlsx", "scenario-copy/scenario.yaml"])
def test_a_folder_with_a_foreign_file_is_refused_and_kept(tmp_path, capsys, foreign):
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 0
    (out / foreign).parent.mkdir(parents=True, exist_ok=True)
    (out / foreign).write_text("mine")
    before = snapshot(out)
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx", "--seed", "5"]) == 2
    err = capsys.readouterr().err
    assert foreign in err and "--force" in err and "another --out" in err and "Traceback" not in err
    assert snapshot(out) == before


def test_a_summary_json_alone_does_not_make_a_results_folder(tmp_path, capsys):
    """The old rule (a summary.json present: replace everything) deleted the user's notes."""
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "scenario.yaml").write_text("my scenario")
    assert main(["run", str(path), "--out", str(out), "-q"]) == 2
    assert (out / "scenario.yaml").read_text() == "my scenario"


def test_force_writes_the_results_beside_the_users_files(tmp_path, capsys):
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 0
    (out / "notes.txt").write_text("mine")
    (out / "p" / "mine.csv").write_text("also mine")
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx", "--seed", "5", "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "p" / "mine.csv").read_text() == "also mine"
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    assert "notes.txt" not in json.loads((out / "manifest.json").read_text())["files"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _as_from_a_terminal() -> None:
    """The child starts with every signal it is sent handled by default, as from a terminal, even
    when this suite runs where they are ignored (a background job ignores SIGINT, nohup SIGHUP:
    the child would inherit that, and keep it, test_a_signal_the_parent_ignores_stays_ignored)."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)


@pytest.mark.parametrize("sig, group", [(signal.SIGTERM, False), (signal.SIGHUP, False), (signal.SIGINT, True)],
                         ids=["SIGTERM", "SIGHUP", "Ctrl-C to the process group"])
def test_a_signal_stops_the_run_quietly_and_leaves_no_temporary_folder(tmp_path, sig, group):
    """kill (SIGTERM), a closed terminal (SIGHUP) or Ctrl-C (SIGINT to every process of the
    terminal's group, the workers too: they printed 69 lines of KeyboardInterrupt tracebacks)
    mid-run: exit 1 with one line, workers end without tracebacks, the temporary folder is gone
    and the earlier results are untouched."""
    scenario = ROOT / "scenarios" / "us-office-domestic.yaml"
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    cmd = [sys.executable, str(ROOT / "run_sim.py"), "run", str(scenario), "--out", str(out / "res"),
           "-r", "400" if group else "40", "-w", "2", "--no-xlsx"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=group, preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + 60
    while not list(out.glob(".res.tmp-*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.5 if not group else 4.0)         # let the workers start (and run: they get Ctrl-C too)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "interrupted" in err, err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_sweep_refuses_a_foreign_folder_and_force_keeps_its_files(tmp_path, capsys):
    """The same rule for every command that writes a results folder (sweep, optimise)."""
    from tests.test_sweep import _scenario
    scen = _scenario(tmp_path, {"initial_funds": [20.00, 400.00]}, days=2)
    out = tmp_path / "sw"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["sweep", str(scen), "-r", "2", "-w", "1", "--out", str(out), "-q"]) == 2
    assert "--force" in capsys.readouterr().err and snapshot(out) == {"notes.txt": b"mine"}
    assert main(["sweep", str(scen), "-r", "2", "-w", "1", "--out", str(out), "-q", "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "manifest.json").is_file()


def test_force_never_deletes_outside_the_folder_whatever_the_manifest_says(tmp_path, capsys):
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 0
    (tmp_path / "precious.txt").write_text("mine")
    (out / "deep" / "er").mkdir(parents=True)
    (out / "deep" / "er" / "notes.txt").write_text("mine too")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] += ["../precious.txt", str(tmp_path / "precious.txt")]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx", "--force"]) == 0
    assert (tmp_path / "precious.txt").read_text() == "mine"
    assert (out / "deep" / "er" / "notes.txt").read_text() == "mine too"


def test_a_huge_foreign_folder_is_refused_without_walking_all_of_it(tmp_path, capsys, monkeypatch):
    """`--out /` once listed every file on the disk (and died on /proc). The check stops after
    FOREIGN_SHOWN foreign entries and says there are more; nothing is changed."""
    import os

    import sim.outputs.folder as folder
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    for d in range(5):
        for f in range(10):
            (out / f"d{d}").mkdir(parents=True, exist_ok=True)
            (out / f"d{d}" / f"f{f}.txt").write_text("mine")
    before = snapshot(out)
    monkeypatch.setattr(folder, "FOREIGN_SHOWN", 12)
    scans = []
    real_scandir = os.scandir
    monkeypatch.setattr(folder.os, "scandir", lambda p: scans.append(Path(p)) or real_scandir(p))
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 2
    err = capsys.readouterr().err
    assert "it holds d0, d0/f0.txt, d0/f1.txt and 9+ more" in err and "Traceback" not in err
    walked = [p for p in scans if p == out or out in p.parents]
    assert len(walked) <= 3                  # out, d0, d1: not the other three folders
    assert snapshot(out) == before


def test_a_symlinked_folder_is_named_not_followed(tmp_path, capsys):
    """A link in --out to a folder elsewhere is one foreign entry; what it points to is not listed."""
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret.txt").write_text("mine")
    out.mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 2
    err = capsys.readouterr().err
    assert "it holds link;" in err and "secret" not in err, err
    assert (tmp_path / "elsewhere" / "secret.txt").read_text() == "mine" and (out / "link").is_symlink()


def test_another_tools_manifest_does_not_make_its_files_ours(tmp_path, capsys):
    """A manifest.json with a `files` list but not written_by this project (another tool's)
    counted as ours: the run deleted mydata.txt and the manifest."""
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    out.mkdir()
    (out / "mydata.txt").write_text("mine")
    (out / "manifest.json").write_text(json.dumps({"files": ["mydata.txt"]}))
    before = snapshot(out)
    assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 2
    assert "mydata.txt" in capsys.readouterr().err
    assert snapshot(out) == before


def test_a_file_put_in_the_folder_during_the_run_is_kept(tmp_path):
    """The folder was checked at the start only, then replaced whole: a note saved into it while
    the run went on was deleted. Now nothing in it changes, and the results are set beside it."""
    from sim.errors import InputError
    from sim.outputs.folder import atomic_folder

    out = tmp_path / "out"
    with pytest.raises(InputError) as e:
        with atomic_folder(out) as tmp:
            (tmp / "summary.json").write_text("{}")
            out.mkdir()
            (out / "notes.txt").write_text("mine")          # the user, meanwhile
    assert "notes.txt appeared in it during the run" in str(e.value)
    assert snapshot(out) == {"notes.txt": b"mine"}
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("out.results-")]
    assert len(kept) == 1 and (kept[0] / "summary.json").is_file() and (kept[0] / "manifest.json").is_file()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_out_as_a_link_to_nowhere_is_refused_before_running(tmp_path, capsys):
    """A dangling link ran everything, then failed with exit 1 and left its temporary folder."""
    path, link = setup(tmp_path, BASE), tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    assert main(["run", str(path), "--out", str(link), "-q", "--no-xlsx"]) == 2
    assert "is a symbolic link to" in capsys.readouterr().err
    assert link.is_symlink() and not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_out_as_a_link_to_a_folder_writes_into_that_folder(tmp_path, capsys):
    """The link was replaced by a new folder and left behind as .link.old-PID on every run."""
    path, real, link = setup(tmp_path, BASE), tmp_path / "real", tmp_path / "link"
    real.mkdir()
    link.symlink_to(real, target_is_directory=True)
    for seed in ("1", "2"):
        assert main(["run", str(path), "--out", str(link), "-q", "--no-xlsx", "--seed", seed]) == 0
    assert link.is_symlink() and json.loads((real / "summary.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_stops_a_clean_up_that_hangs(tmp_path, sig):
    """An audit: the first SIGTERM's KeyboardInterrupt was lost inside Dask's garbage-collector
    callback, every signal was then ignored, and only SIGKILL ended the run. Now a second
    signal ends the process at once (status 128 + signal), Ctrl-C's too (a review: a second
    SIGINT raised another KeyboardInterrupt), and the temporary results folder goes with it."""
    script = ("import sys, time\nsys.path.insert(0, %r)\nfrom sim.cli import stop_on_signals\n"
              "from sim.outputs.folder import atomic_folder\n"
              "with stop_on_signals(), atomic_folder(%r):\n    try:\n        print('ready', flush=True); time.sleep(60)\n"
              "    except KeyboardInterrupt:\n        print('cleaning', flush=True); time.sleep(60)\n"
              ) % (str(ROOT), str(tmp_path / "out"))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_from_a_terminal)
    assert proc.stdout.readline().strip() == "ready"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]
    proc.send_signal(sig)
    assert proc.stdout.readline().strip() == "cleaning"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 128 + sig and "interrupted again; stopping now" in err, err
    assert list(tmp_path.iterdir()) == []


def test_the_results_folder_has_the_umasks_mode_not_mkdtemps(tmp_path, capsys):
    """Written aside in a mkdtemp folder (0700), the results could be read by their owner only."""
    path, out = setup(tmp_path, BASE), tmp_path / "out"
    old = os.umask(0o022)
    try:
        assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx"]) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755


def test_force_never_replaces_another_tools_manifest_or_a_users_file_of_our_name(tmp_path, capsys):
    """A review: --force read another tool's manifest.json as ours, deleted every file it listed
    and wrote ours over it. Now their files stay, and results that would replace a file of the
    user's (theirs, or a summary.json we did not write) are set beside the folder."""
    path = setup(tmp_path, BASE)
    for name, files in (("other", {"manifest.json": json.dumps({"tool": "other", "files": ["data.csv"]}),
                                   "data.csv": "theirs"}),
                        ("mine", {"summary.json": "my own summary", "notes.txt": "mine"})):
        out = tmp_path / name
        out.mkdir()
        for f, text in files.items():
            (out / f).write_text(text)
        before = snapshot(out)
        assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx", "--force"]) == 2
        err = capsys.readouterr().err
        assert "would be replaced (not written by this program); nothing in it was changed" in err, err
        assert snapshot(out) == before
        kept = [p for p in tmp_path.iterdir() if p.name.startswith(f"{name}.results-")]
        assert len(kept) == 1 and (kept[0] / "summary.json").is_file()


def test_a_file_put_at_out_during_the_run_is_kept(tmp_path):
    """A file (not a folder) put where the results were to go was renamed to a hidden
    .out.old-PID without a word."""
    from sim.errors import InputError
    from sim.outputs.folder import atomic_folder

    out = tmp_path / "out"
    with pytest.raises(InputError, match="a file or link was put in its place during the run"):
        with atomic_folder(out) as tmp:
            (tmp / "summary.json").write_text("{}")
            out.write_text("mine")
    assert out.read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_force_never_writes_through_a_users_file_or_link_where_a_policy_folder_goes(tmp_path, capsys):
    """A review: a user's file named like a policy's folder (`p`) made --force fail half-way
    (exit 1, the folder half-merged); a link of that name had the CDR written outside --out."""
    path = setup(tmp_path, BASE)
    (tmp_path / "elsewhere").mkdir()
    for name, make in (("file", lambda p: p.write_text("mine")),
                       ("link", lambda p: p.symlink_to(tmp_path / "elsewhere", target_is_directory=True))):
        out = tmp_path / name
        out.mkdir()
        make(out / "p")
        before = sorted(x.name for x in out.iterdir())
        assert main(["run", str(path), "--out", str(out), "-q", "--no-xlsx", "--force"]) == 2
        assert "its p/" in capsys.readouterr().err
        assert sorted(x.name for x in out.iterdir()) == before
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_signal_the_parent_ignores_stays_ignored(tmp_path):
    """A review: `nohup` (SIGHUP ignored) and a shell's background job (SIGINT ignored) were
    stopped all the same once the handler replaced the ignored disposition."""
    script = ("import sys, time\nsys.path.insert(0, %r)\nfrom sim.cli import stop_on_signals\n"
              "with stop_on_signals():\n    print('ready', flush=True); time.sleep(1.5); print('done', flush=True)\n"
              ) % str(ROOT)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGHUP)])
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and out.strip() == "done", err


def test_a_signal_inside_a_finaliser_is_not_lost():
    """An audit: a SIGTERM that arrived while Dask's garbage-collector callback ran raised its
    KeyboardInterrupt there, where Python prints it as "Exception ignored" and drops it, and the
    run went on. Such a signal is now delivered again once the callback is over (here a
    `__del__`, which Python treats the same way)."""
    script = ("import gc, os, signal, sys, time\nsys.path.insert(0, %r)\nfrom sim.cli import stop_on_signals\n"
              "class Dropped:\n    def __del__(self):\n        os.kill(os.getpid(), signal.SIGTERM)\n"
              "        time.sleep(0.2)\n"
              "with stop_on_signals():\n    try:\n        Dropped()\n        gc.collect()\n        time.sleep(5)\n"
              "        print('lost', flush=True)\n    except KeyboardInterrupt:\n        print('stopped', flush=True)\n"
              ) % str(ROOT)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                          preexec_fn=_as_from_a_terminal)
    assert proc.stdout.strip() == "stopped" and "Exception ignored" not in proc.stderr, proc.stderr


def test_run_sim_ends_at_once_after_an_interruption(tmp_path):
    """After the clean-up of an interrupted run, run_sim ends the process without the
    interpreter's shutdown, which could crash in a thread Dask left running (status -6)."""
    script = ("import runpy, sys\nsys.path.insert(0, %r)\nimport sim.cli\n"
              "def interrupted(argv=None):\n    sim.cli.INTERRUPTED.set()\n    return 1\n"
              "sim.cli.main = interrupted\n"
              "import atexit\natexit.register(lambda: print('shutdown ran', flush=True))\n"
              "runpy.run_path(%r, run_name='__main__')\n") % (str(ROOT), str(ROOT / "run_sim.py"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "shutdown ran" not in proc.stdout, (proc.stdout, proc.stderr)


def test_a_signal_resent_after_a_finaliser_does_not_outlive_the_run():
    """A review: the signal sent again after a finaliser fired after the run had finished and
    its handlers were restored, killing a process whose results were complete (status 143)."""
    script = ("import os, signal, sys, time\nsys.path.insert(0, %r)\nfrom sim.cli import stop_on_signals\n"
              "class Dropped:\n    def __del__(self):\n        os.kill(os.getpid(), signal.SIGTERM)\n"
              "        for _ in range(1000): pass\n"
              "with stop_on_signals():\n    Dropped()\n    print('finished', flush=True)\n"
              "time.sleep(0.3)\nprint('alive', flush=True)\n") % str(ROOT)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                          preexec_fn=_as_from_a_terminal)
    assert proc.returncode == 0 and proc.stdout.split() == ["finished", "alive"], (proc.returncode, proc.stderr)
