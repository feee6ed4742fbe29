"""The example scenarios in scenarios/ validate as shipped and run end to end.

Each is run on a shortened horizon (its YAML loaded, `days` made small, its rate card
and replayed report made absolute, written to tmp_path), and must produce every file
of the README's results reference.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("scenarios/*/*.yaml")])
IDS = [str(p.relative_to(ROOT / "scenarios")) for p in SCENARIOS]

RUN_FILES = ["summary.json", "comparison.md", "comparison.png", "monthly.png", "report.xlsx", "manifest.json"]
POLICY_FILES = ["cdr.csv", "ledger.csv", "notifications.csv", "disruptions.csv", "pools.csv", "balance.png"]
REPLAY_FILES = ["reconciliation.csv"]       # replay of a report that carries charges
SHORT_DAYS = 5


def shortened(path: Path, tmp_path: Path, days: int | None = SHORT_DAYS, edit=None) -> Path:
    """A copy of scenario `path` in tmp_path: paths made absolute, the horizon cut to `days`
    (not for a replay: its report fixes the horizon), then `edit(data)` if given."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data.get("rates"), str):
        data["rates"] = str((path.parent / data["rates"]).resolve())
    traffic = data.get("traffic") or {}
    if traffic.get("replay"):
        traffic["replay"] = str((path.parent / traffic["replay"]).resolve())
    elif days is not None:
        data["days"] = days
    if edit:
        edit(data)
    out = tmp_path / path.name
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out


def run_quiet(scenario: Path, out: Path, *extra: str) -> int:
    return main(["-q", "run", str(scenario), "--out", str(out), "--workers", "1", *extra])


def test_the_briefs_examples_are_all_there():
    names = {p.name for p in SCENARIOS}
    assert {"us-office-domestic.yaml", "toll-free-contact-centre.yaml", "international-sales.yaml",
            "conference-heavy-e5.yaml", "multi-country-us-gb-de.yaml"} <= names
    assert (ROOT / "scenarios/replay-example/replay-january.yaml").is_file()
    assert (ROOT / "scenarios/replay-example/pstn-usage-2026-01.csv").is_file()
    assert len(SCENARIOS) >= 6


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_example_validates_as_shipped(path, capsys):
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("ok")


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_example_is_commented_and_uses_the_shipped_rate_card(path):
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().startswith("#"), "an example opens with a comment saying what it is for"
    data = yaml.safe_load(text)
    assert isinstance(data["rates"], str)
    assert (path.parent / data["rates"]).resolve() == (ROOT / "rates/illustrative-usd.csv").resolve()


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_example_runs_and_writes_every_result_file(path, tmp_path):
    """... and with 2 replications its table opens with each policy against the first (issue 10)."""
    out = tmp_path / "out"
    assert run_quiet(shortened(path, tmp_path), out, "-r", "2") == 0
    for name in RUN_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    policies = [p["name"] for p in yaml.safe_load(path.read_text())["policies"]]
    assert list(summary["policies"]) == policies
    assert summary["baseline"] == policies[0] and list(summary["comparisons"]) == policies[1:]
    assert f"Against the baseline {policies[0]}" in (out / "comparison.md").read_text(encoding="utf-8")
    for policy in policies:
        for name in POLICY_FILES:
            assert (out / policy / name).is_file(), f"{policy}/{name}"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(RUN_FILES)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(policies)


def test_replay_example_reports_its_duplicate_row(tmp_path):
    path = ROOT / "scenarios/replay-example/replay-january.yaml"
    out = tmp_path / "out"
    assert run_quiet(shortened(path, tmp_path), out) == 0
    replay = json.loads((out / "summary.json").read_text())["replay"]
    assert replay["rows_billed"] == 50
    policies = [p["name"] for p in yaml.safe_load(path.read_text())["policies"]]
    for policy in policies:                  # the example report carries Microsoft's charges
        assert (out / policy / REPLAY_FILES[0]).is_file()
    assert set(replay["reconciliation"]) == set(policies)
    assert [d["line"] for d in replay["duplicate_usage_ids"]] == [22]


def test_the_replay_example_report_is_the_2025_export_format():
    from sim.inputs.reports.columns import COLUMNS_2025
    lines = (ROOT / "scenarios/replay-example/pstn-usage-2026-01.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == COLUMNS_2025
    body = "\n".join(lines[1:])
    for call_type in ("user_out", "user_in", "ucap_in", "conf_in", "conf_out", "emergency_out"):
        assert f",{call_type}," in body
    assert ",International," in body and ",toll-free," in body


def test_readme_results_reference_names_every_file():
    """The files checked above are the ones the README documents, and the other way round."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Results reference", 1)[1].split("\n## ", 1)[0]
    for name in RUN_FILES + POLICY_FILES + REPLAY_FILES:
        assert re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", section), name
    documented = set(re.findall(r"(?<![\w.-])([\w-]+\.(?:json|md|png|xlsx|csv))(?![\w-])", section))
    assert documented == set(RUN_FILES + POLICY_FILES + REPLAY_FILES), documented
