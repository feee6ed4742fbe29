"""The layout of sim/ (sim/__init__.py): imports run one way, inputs → engine → analysis →
outputs → parallel → commands → cli, and the billing core in models/ imports nothing of sim/, SimPy or I/O."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["errors", "inputs", "engine", "analysis", "outputs", "parallel", "commands", "cli"]
MAX_LINES = 400


def _imports(path: Path) -> list[str]:
    """Absolute names of every sim/models module a file imports (relative ones resolved)."""
    pkg = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append(name)
            out += [f"{name}.{a.name}" for a in node.names]
    return out


def _stage(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "sim" or len(parts) < 2:
        return None
    return ORDER.index(parts[1]) if parts[1] in ORDER else None


SIM_FILES = sorted(p for p in (ROOT / "sim").rglob("*.py"))


@pytest.mark.parametrize("path", SIM_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sim_imports_run_one_way(path):
    own = _stage(".".join(path.relative_to(ROOT).with_suffix("").parts))
    if own is None:                        # sim/__init__.py
        return
    upward = [m for m in _imports(path) if (s := _stage(m)) is not None and s > own]
    assert not upward, f"{path.relative_to(ROOT)} imports a later stage: {upward}"


@pytest.mark.parametrize("path", sorted((ROOT / "models").rglob("*.py")), ids=lambda p: p.name)
def test_models_stay_pure(path):
    bad = [m for m in _imports(path)
           if m.split(".")[0] in {"sim", "simpy", "numpy", "csv", "json", "pathlib", "yaml", "io", "os"}]
    assert not bad, f"models/{path.name} imports {bad}: the billing core stays free of the engine and of I/O"


@pytest.mark.parametrize("path", SIM_FILES + sorted((ROOT / "models").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by what it holds"


def test_a_lower_stage_importing_a_higher_one_is_caught(tmp_path):
    """The check itself can fail: an engine module importing outputs is flagged."""
    fake = ROOT / "sim" / "engine" / "_probe_for_layout_test.py"
    fake.write_text("from sim.outputs.cdr import CDR_COLUMNS\nfrom ..parallel import runner\n", encoding="utf-8")
    try:
        found = [m for m in _imports(fake) if (_stage(m) or 0) > ORDER.index("engine")]
    finally:
        fake.unlink()
    assert "sim.outputs.cdr" in found and "sim.parallel" in found
