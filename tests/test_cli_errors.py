"""Bad input exits with status 2 and one clear line naming the file, key or line
(scenario-format.md), never a traceback, and never damages existing results."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.inputs.reports.columns import COLUMNS_2025

ROOT = Path(__file__).resolve().parents[1]

BASE = {
    "name": "bad-input",
    "start": "2026-01-01T00:00:00Z",
    "days": 31,
    "tenant": {"users": [{"upn": "alice@contoso.com", "country": "US",
                          "licences": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]}]},
    "rates": "rates.csv",
    "traffic": {"replay": "report.csv"},
    "policies": [{"name": "p", "initial_funds": 50}],
}

RATES = "currency,USD\nkind,country,per_minute,connection_fee\noutbound,US,0.0200,0\noutbound,GB,0.0350,0\n"


def row(**over):
    r = dict.fromkeys(COLUMNS_2025, "")
    r.update({"UsageId": "u1", "Call ID": "c1", "UPN": "alice@contoso.com", "Caller ID": "+12065550100",
              "Call Type": "user_out", "Number Type": "user", "Destination Number": "+12065550199",
              "External Country": "US", "Start Time": "2026-01-05T10:00:00Z", "Duration Seconds": "90"})
    r.update(over)
    return [r[c] for c in COLUMNS_2025]


def setup(tmp_path: Path, scenario=None, rates=RATES, rows=None, header=COLUMNS_2025, raw_scenario=None):
    (tmp_path / "rates.csv").write_text(rates)
    with (tmp_path / "report.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows if rows is not None else [row()])
    path = tmp_path / "scenario.yaml"
    path.write_text(raw_scenario if raw_scenario is not None else yaml.safe_dump(scenario or BASE, sort_keys=False))
    return path


def with_(path_keys: str, value):
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    node = doc
    keys = path_keys.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if value is DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return doc


DELETE = object()


def run_bad(capsys, path, *extra):
    code = main(["run", str(path), "--out", str(path.parent / "out"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    return err


SCENARIO_CASES = [
    ("unknown key", with_("colour", "red"), ["scenario.yaml", "colour", "unknown key"]),
    ("unknown nested key", with_("switches", {"dni_cap": "whichever_first", "cutoff": True}),
     ["switches.cutoff", "unknown key"]),
    ("wrong type", with_("days", "ninety"), ["scenario.yaml: days", "integer"]),
    ("missing key", with_("start", DELETE), ["start", "required"]),
    ("negative amount", with_("policies.0.initial_funds", -5), ["policies.0.initial_funds", "negative"]),
    ("too precise amount", with_("policies.0.initial_funds", "20.00001"), ["policies.0.initial_funds", "4 decimal"]),
    ("credits alone", with_("tenant.users.0.licences", ["COMMUNICATIONS_CREDITS"]),
     ["tenant.users.0.licences", "add-on"]),
    ("plan without phone system", with_("tenant.users.0.licences", ["DOMESTIC_CALLING_PLAN"]),
     ["tenant.users.0.licences", "PHONE_SYSTEM"]),
    ("two plans", with_("tenant.users.0.licences", ["E5", "DOMESTIC_CALLING_PLAN", "DOMESTIC_CALLING_PLAN_120"]),
     ["tenant.users.0.licences", "at most one Calling Plan"]),
    ("unknown licence", with_("tenant.users.0.licences", ["PHONE_SYSTEM", "GOLD"]), ["licences", "GOLD"]),
    ("bad switch value", with_("switches", {"dni_cap": "sometimes"}), ["switches.dni_cap", "whichever_first"]),
    ("below minimum purchase", with_("policies.0.initial_funds", 10), ["policies.0.initial_funds", "minimum_purchase"]),
    ("postpay with recharge", with_("policies.0", {"name": "p", "billing": "postpay",
                                                   "auto_recharge": {"trigger": 20, "amount": 50}}),
     ["policies.0", "postpay"]),
    ("duplicate policy names", with_("policies", [{"name": "p"}, {"name": "p"}]), ["policies", "unique"]),
    ("no policies", with_("policies", []), ["policies"]),
    ("bad country code", with_("tenant.users.0.country", "USA"), ["tenant.users.0.country", "two-letter"]),
    ("bad toll-free number", with_("tenant.toll_free_numbers", [{"number": "call me", "serves": "call_queue"}]),
     ["tenant.toll_free_numbers.0.number", "E.164"]),
]


@pytest.mark.parametrize("case,doc,expect", SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario(tmp_path, capsys, case, doc, expect):
    err = run_bad(capsys, setup(tmp_path, doc))
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_missing_scenario_file(tmp_path, capsys):
    err = run_bad(capsys, tmp_path / "nope.yaml")
    assert "nope.yaml" in err and "cannot read" in err


def test_malformed_yaml_names_line_and_column(tmp_path, capsys):
    err = run_bad(capsys, setup(tmp_path, raw_scenario="name: x\nstart: [unclosed\ndays: 3\n"))
    assert "scenario.yaml:3:" in err and "YAML" in err


@pytest.mark.parametrize("rates,expect", [
    ("country,kind,per_minute,connection_fee\n", ["rates.csv:1", "header"]),
    (RATES + "outbound,FR,cheap,0\n", ["rates.csv:5", "per_minute"]),
    (RATES + "outbound,FR,0.00001,0\n", ["rates.csv:5", "4 decimal"]),
    (RATES + "inbound,FR,0.01,0\n", ["rates.csv:5", "kind"]),
    (RATES + "outbound,US,0.03,0\n", ["rates.csv:5", "twice"]),
    (RATES + "outbound,FR,0.01\n", ["rates.csv:5", "4 columns"]),
])
def test_bad_rate_card_names_the_line(tmp_path, capsys, rates, expect):
    err = run_bad(capsys, setup(tmp_path, rates=rates))
    for fragment in expect:
        assert fragment in err, (fragment, err)


REPORT_CASES = [
    ("unknown user", [row(UPN="bob@contoso.com")], ["report.csv:2: UPN", "bob@contoso.com", "replay_users"]),
    ("bad start time", [row(**{"Start Time": "yesterday"})], ["report.csv:2: Start Time", "ISO 8601"]),
    ("outside horizon", [row(**{"Start Time": "2027-01-05T10:00:00Z"})], ["report.csv:2: Start Time", "horizon"]),
    ("bad duration", [row(**{"Duration Seconds": "4.5"})], ["report.csv:2: Duration Seconds", "whole number"]),
    ("unknown call type", [row(**{"Call Type": "fax_out"})], ["report.csv:2: Call Type", "fax_out"]),
    ("short row", [row()[:10]], ["report.csv:2", "columns"]),
    ("empty usage id", [row(UsageId="")], ["report.csv:2", "UsageId"]),
    ("no rate for the country", [row(), row(UsageId="u2", **{"External Country": "NG", "Destination Number": "+2348012345678"})],
     ["report.csv:3", "no outbound rate for NG"]),
    ("unknown country", [row(**{"External Country": "", "Destination Number": "garbage"})],
     ["report.csv:2: Destination Number", "E.164"]),
]


@pytest.mark.parametrize("case,rows,expect", REPORT_CASES, ids=[c[0] for c in REPORT_CASES])
def test_bad_report_names_the_line(tmp_path, capsys, case, rows, expect):
    err = run_bad(capsys, setup(tmp_path, rows=rows))
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_report_with_missing_columns(tmp_path, capsys):
    err = run_bad(capsys, setup(tmp_path, header=["UsageId", "UPN"], rows=[["u1", "alice@contoso.com"]]))
    assert "report.csv:1" in err and "Start Time" in err


def test_bad_replications_option(tmp_path, capsys):
    err = run_bad(capsys, setup(tmp_path), "--replications", "0")
    assert "--replications" in err


def test_bad_input_leaves_existing_results_untouched(tmp_path, capsys):
    path = setup(tmp_path)
    out = tmp_path / "out"
    assert main(["-q", "run", str(path), "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len(before) >= 7
    setup(tmp_path, rows=[row(UPN="mallory@contoso.com")])
    run_bad(capsys, path)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failure_while_writing_leaves_existing_results_untouched(tmp_path, capsys, monkeypatch):
    path = setup(tmp_path)
    out = tmp_path / "out"
    assert main(["-q", "run", str(path), "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.outputs.table.write_summary", broken)
    assert main(["run", str(path), "--out", str(out)]) == 1
    assert "No space left" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_command_line_itself_exits_2_without_traceback(tmp_path):
    path = setup(tmp_path, with_("policies.0.initial_funds", -1))
    proc = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(path)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "policies.0.initial_funds" in proc.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("argv, named", [
    (["run", "S.yaml", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["run", "S.yaml", "-r", "x"], "invalid int value: 'x'"),
    (["run", "S.yaml", "-q", "-v"], "--quiet and --verbose exclude each other"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["run"], "required: SCENARIO.yaml"),
])
def test_a_command_line_mistake_is_one_line_naming_the_option(argv, named, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: run_sim.py") and named in err and "--help" in err, err
