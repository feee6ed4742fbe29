"""The README's Quick start: `make run` works, quickly, and says where the results are.

The run happens in a copy of the project in tmp_path (the real .venv linked in), so
that the developer's own results/ folder is left alone. `-o .venv/.installed` tells
make not to (re)install the virtual environment: `make test`, which runs this, has
just done that, and a fresh install is not what is being tested.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 60          # the example runs in a few seconds; generous for a loaded CI machine


def project_files() -> list[str]:
    """What `make run` needs: the Makefile, the packages and modules pyproject.toml ships, data."""
    import tomllib
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    tops = [pattern.rstrip("*") for pattern in tool["packages"]["find"]["include"]]    # "sim*" -> sim
    code = tops + [f"{m}.py" for m in tool.get("py-modules", [])]
    return ["Makefile", "pyproject.toml", *code, "rates", "scenarios"]


def test_readme_quick_start_is_make_run_and_make_test():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section, flags=re.S)
    assert blocks and blocks[0].strip().splitlines() == ["make run", "make test"]


def test_makefile_run_target_runs_the_us_office_example():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^SCENARIO \?= scenarios/us-office-domestic\.yaml$", text, flags=re.M)
    assert (ROOT / "scenarios/us-office-domestic.yaml").is_file()


@pytest.mark.slow
def test_make_run(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        pytest.skip("no .venv: run through `make test`, which creates it")
    work = tmp_path / "project"
    work.mkdir()
    for name in project_files():
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, work / name)
    (work / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MAKE"))}
    started = time.monotonic()
    proc = subprocess.run(["make", "-o", ".venv/.installed", "run"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=BUDGET_SECONDS * 3, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert elapsed < BUDGET_SECONDS, f"make run took {elapsed:.0f} s"
    last = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"results written to results/us-office-domestic/ \(\d+\.\d s\)", last), last
    out = work / "results" / "us-office-domestic"
    for name in ("summary.json", "comparison.md", "comparison.png", "report.xlsx"):
        assert (out / name).is_file(), name
    for policy in ("one-time-500", "auto-200-at-50", "postpay"):
        for name in ("cdr.csv", "ledger.csv", "notifications.csv", "disruptions.csv", "pools.csv", "balance.png"):
            assert (out / policy / name).is_file(), f"{policy}/{name}"
    assert "| policy " in proc.stdout          # the comparison table is printed before the last line
