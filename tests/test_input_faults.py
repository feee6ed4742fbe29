"""Issue 12: every input fault ends in exit 2 with one line naming the key, line or option,
no traceback, and the previous results folder byte-identical (scenario-format.md, exit status)."""
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from tests.test_cli_errors import BASE, RATES, setup, with_


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A results folder of a good run: every bad run below must leave it exactly as it is."""
    base = tmp_path_factory.mktemp("good")
    out = base / "results"
    assert main(["run", str(setup(base, BASE)), "--out", str(out), "-q", "--no-xlsx"]) == 0
    return out, snapshot(out)


def fails(capsys, results, scenario: Path, *options) -> str:
    out, before = results
    code = main(["run", str(scenario), "--out", str(out), *options])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err and "Decimal(" not in err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert snapshot(out) == before
    return err


def raw(text: str):
    return {"raw_scenario": text}


SCENARIO = yaml.safe_dump(BASE, sort_keys=False)
CASES = [
    # ISO 3166-1 alpha-2 everywhere, with a hint
    ("user country UK", {"scenario": with_("tenant.users.0.country", "UK")}, ["tenant.users.0.country", "'UK'", "GB"]),
    ("user country XX", {"scenario": with_("tenant.users.0.country", "XX")}, ["tenant.users.0.country", "'XX'", "ISO 3166"]),
    ("lower-case country", {"scenario": with_("tenant.users.0.country", "us")}, ["country", "did you mean US"]),
    ("replay default country", {"scenario": with_("tenant.replay_default_country", "EL")}, ["replay_default_country", "GR"]),
    ("inline rate country", {"scenario": with_("rates", {"outbound": {"UK": 0.1, "US": 0.02}})},
     ["rates.outbound", "'UK'", "GB"]),
    ("allowance country", {"scenario": with_("switches", {"allowances": {"DOMESTIC_CALLING_PLAN": {"ZZ": 100}}})},
     ["switches.allowances.DOMESTIC_CALLING_PLAN", "'ZZ'"]),
    ("rate card country", {"rates": RATES + "outbound,UK,0.0350,0\n"}, ["rates.csv:5", "'UK'", "GB"]),
    # duplicate keys, top level and nested, name both lines
    ("duplicate top-level key", raw(SCENARIO.replace("days: 31\n", "days: 5\ndays: 3000\n")),
     ["scenario.yaml:4", "`days`", "line 3"]),
    ("duplicate nested key", raw(SCENARIO.replace("initial_funds: 50\n", "initial_funds: 50\n  initial_funds: 60\n")),
     ["`initial_funds`", "twice", "first on line"]),
    # policy names
    ("policy names differ by case", {"scenario": with_("policies", [{"name": "one-time-500", "initial_funds": 500},
                                                                   {"name": "ONE-TIME-500", "initial_funds": 500}])},
     ["policies.1.name", "ignoring case", "one-time-500"]),
    ("policy named summary.json", {"scenario": with_("policies", [{"name": "summary.json"}])},
     ["policies.0.name", "results file"]),
    ("policy named comparison.md", {"scenario": with_("policies", [{"name": "Comparison.md"}])},
     ["policies.0.name", "results file"]),
    # rate-card currency
    ("currency mismatch", {"scenario": with_("currency", "EUR")}, ["rates.csv:1", "USD", "EUR"]),
    ("card without currency", {"rates": RATES.replace("currency,USD\n", "")}, ["rates.csv:1", "currency"]),
    ("currency column mismatch", {"rates": "kind,country,per_minute,connection_fee,currency\noutbound,US,0.02,0,GBP\n"},
     ["rates.csv:2", "GBP", "USD"]),
    # messages that name the cause
    ("licenses (US spelling)", raw(SCENARIO.replace("licences:", "licenses:")),
     ["tenant.users.0.licenses", "did you mean `licences`"]),
    ("misspelt key", raw(SCENARIO.replace("initial_funds:", "inital_funds:")), ["inital_funds", "initial_funds"]),
    ("inline rate card mistake", {"scenario": with_("rates", {"outbound": {"GB": {"per_minute": "cheap"}}})},
     ["rates.outbound.GB.per_minute", "cheap"]),
    ("inline rate scalar mistake", {"scenario": with_("rates", {"outbound": {"US": "-0.5"}})},
     ["rates.outbound.US.per_minute", "negative"]),
    # what the run would cost, refused before simulating, naming the key that drives it
    ("absurd call rate", {"scenario": with_("traffic", {"user_outbound_calls_per_day": 1e9})},
     ["traffic.user_outbound_calls_per_day", "20,000,000", "call attempts"]),
    ("absurd billing events", {"scenario": {**BASE, "days": 3660, "switches": {"billing_increment_seconds": 1},
                                            "traffic": {"call_minutes": {"mean": 600}}}},
     ["traffic.user_outbound_calls_per_day", "billing events"]),
    ("absurd toll-free volume", {"scenario": {**BASE, "tenant": {**BASE["tenant"], "toll_free_numbers": [
        {"number": "+18885550100"}]}, "traffic": {"toll_free_calls_per_day": 1e7}}},
     ["traffic.toll_free_calls_per_day", "call attempts"]),
    ("group above the maximum", {"scenario": with_("tenant.generate", [
        {"count": 1_000_001, "country": "US", "licences": ["PHONE_SYSTEM"]}])}, ["tenant.generate.0.count", "1000000"]),
    ("negative decimal amount", raw(SCENARIO.replace("initial_funds: 50", "initial_funds: -50.5")),
     ["policies.0.initial_funds", "-50.5"]),
]


BYTE_CASES = [  # (file, its text before, after; the line of the bad byte)
    ("scenario.yaml", b"days: 31", b"days: 31 # \xff", 3),
    ("rates.csv", b"outbound,GB", b"outbound,G\xe9", 4),
]


@pytest.mark.parametrize("name,before,after,line", BYTE_CASES, ids=[c[0] for c in BYTE_CASES])
def test_a_bad_byte_is_reported_at_its_line(tmp_path, capsys, results, name, before, after, line):
    path = setup(tmp_path, BASE)
    target = tmp_path / name
    target.write_bytes(target.read_bytes().replace(before, after))
    err = fails(capsys, results, path)
    assert f"{name}:{line}:" in err and "UTF-8" in err, err


@pytest.mark.parametrize("case,files,expect", CASES, ids=[c[0] for c in CASES])
def test_input_fault(tmp_path, capsys, results, case, files, expect):
    err = fails(capsys, results, setup(tmp_path, **files))
    for fragment in expect:
        assert fragment in err, (fragment, err)


OPTION_CASES = [
    ("--seed -1", ["--seed", "-1"], ["--seed", "-1"]),
    ("--replications 0", ["-r", "0"], ["--replications"]),
    ("--workers 0", ["-w", "0"], ["--workers"]),
]


@pytest.mark.parametrize("case,options,expect", OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_option_fault(tmp_path, capsys, results, case, options, expect):
    err = fails(capsys, results, setup(tmp_path, BASE), *options)
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_unwritable_out_names_the_users_path(tmp_path, capsys):
    (tmp_path / "a-file").write_text("mine")
    out = tmp_path / "a-file" / "results"
    code = main(["run", str(setup(tmp_path, BASE)), "--out", str(out), "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--out" in err and str(out) in err and ".tmp" not in err, err
    assert (tmp_path / "a-file").read_text() == "mine"


def test_validate_refuses_too(tmp_path, capsys):
    assert main(["validate", str(setup(tmp_path, with_("tenant.users.0.country", "UK"))), "--seed", "3"]) == 2
    assert "GB" in capsys.readouterr().err
    assert main(["validate", str(setup(tmp_path, BASE)), "--seed", "-2"]) == 2
    assert "--seed" in capsys.readouterr().err
