"""Issue 12, the small things a newcomer hits: the project's rate card found from anywhere,
rates asked for only where money can flow, `validate` echoing the scenario as written,
`--version`, and an unexpected failure in one line (the traceback only with --verbose)."""
import re

import pytest
import yaml

from sim.cli import main

GROUP = {"count": 3, "country": "US", "licences": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"]}


def scenario(tmp_path, **over):
    doc = {"name": "newcomer", "start": "2026-01-01T00:00:00Z", "days": 7, "tenant": {"generate": [GROUP]},
           "policies": [{"name": "p", "initial_funds": 20}], **over}
    path = tmp_path / "elsewhere" / "scenario.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_without_rates_the_projects_card_is_used_wherever_the_scenario_is(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(scenario(tmp_path))]) == 0, capsys.readouterr().err


def test_no_international_rates_needed_when_nobody_can_pay_for_them(tmp_path, capsys):
    """R3/R6: nobody holds COMMUNICATIONS_CREDITS and international_share is 0: no call can reach
    credits, so an empty inline card is enough. With a credits holder calling abroad it is not."""
    quiet = {"international_share": 0.0, "toll_free_calls_per_day": 0.0}
    assert main(["validate", str(scenario(tmp_path, rates={"outbound": {}}, traffic=quiet))]) == 0, \
        capsys.readouterr().err
    credits = {**GROUP, "licences": GROUP["licences"] + ["COMMUNICATIONS_CREDITS"]}
    path = scenario(tmp_path, rates={"outbound": {"US": 0.02}}, tenant={"generate": [credits]},
                    traffic={"international_share": 0.1, "international_destinations": {"DE": 1.0}})
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert "no outbound rate for DE" in capsys.readouterr().err


def test_validate_echoes_licences_as_written_and_yaml_values(tmp_path, capsys):
    assert main(["validate", str(scenario(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "3  US  PHONE_SYSTEM + DOMESTIC_CALLING_PLAN" in out
    assert "mid_call_cutoff=true" in out and "allowances=none" in out
    assert not re.search(r"\b(True|False|None)\b", out)
    assert "cost: about" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and re.match(r"run_sim.py \d+\.\d+", capsys.readouterr().out)


def test_an_unexpected_failure_is_one_line_and_the_traceback_only_with_verbose(tmp_path, capsys, monkeypatch):
    import sim.commands.validate as validate

    def broken(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(validate, "load", broken)
    path = scenario(tmp_path)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: RuntimeError: disk on fire (run with --verbose for details)"
    assert main(["-v", "validate", str(path)]) == 1
    assert "Traceback" in capsys.readouterr().err
