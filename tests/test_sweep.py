"""`sweep` and `optimise` (issue 11): the same sweep.csv on 1 worker, a LocalCluster and an external
Dask cluster; the optimiser finds a best candidate known by construction; no feasible candidate is
an answer, not an error; bad `sweep:` blocks exit 2 naming their key."""
import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import sim.parallel.engine as engine_mod
from sim.analysis.frontier import pareto_front
from sim.cli import main
from sim.inputs.scenario import load_scenario

from .dask_cluster import external_cluster
from .test_metamorphic import SYNTHETIC

# Spend of the SYNTHETIC tenant over 6 days is a few tens of dollars (no pool covers toll-free
# or international calls): 20.00 surely runs dry, 400.00 and more surely do not.
BASE = {"name": "prepaid", "initial_funds": 20.00}


def _scenario(tmp_path: Path, grid: dict, days: int = 6, **extra) -> Path:
    doc = dict(SYNTHETIC, days=days, sweep={"base": "prepaid", "grid": grid})
    doc |= {"policies": [BASE, SYNTHETIC["policies"][1]]} | extra
    path = tmp_path / f"s{len(list(tmp_path.glob('s*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    with external_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


def test_sweep_csv_is_identical_on_1_and_2_local_workers_and_an_external_cluster(tmp_path, scheduler, monkeypatch):
    scen = _scenario(tmp_path, {"auto_recharge.trigger": [20.00, 30.00],
                                "auto_recharge.amount": {"from": 25, "to": 50, "step": 25}},
                     policies=[{"name": "prepaid", "initial_funds": 30.00,
                                "auto_recharge": {"trigger": 20.00, "amount": 25.00},
                                "payment": {"decline_rate": 0.3, "delay_minutes": 120}}])
    monkeypatch.setattr(engine_mod, "START_SECONDS", 0.0)        # a real cluster even for this tiny sweep
    outs = {}
    for label, opts in (("w1", ["-w", "1"]), ("w2", ["-w", "2"]), ("ext", ["--scheduler", scheduler])):
        assert main(["-q", "sweep", str(scen), "-r", "3", *opts, "--out", str(tmp_path / label)]) == 0
        outs[label] = (tmp_path / label / "sweep.csv").read_bytes()
    assert outs["w1"] == outs["w2"] == outs["ext"]
    lines = outs["w1"].decode().splitlines()
    assert lines[0].startswith("candidate,auto_recharge.trigger,auto_recharge.amount,disruptions_mean,")
    assert [line.split(",")[1:3] for line in lines[1:]] == [["20.0", "25"], ["20.0", "50"], ["30.0", "25"],
                                                            ["30.0", "50"]]
    summary = json.loads((tmp_path / "w2" / "summary.json").read_text())
    # every metric's interval ends as summary.json has them (asymmetric ones are not mean ± half-width)
    rows = list(csv.DictReader(io.StringIO(outs["w1"].decode())))
    for row in rows:
        for m in ("disruptions", "calls_blocked", "credits_spent", "prob_disruption"):
            stat = summary["candidates"][row["candidate"]]["metrics"][m]
            assert (row[f"{m}_ci95_low"], row[f"{m}_ci95_high"]) == (stat["ci95_low"] or "", stat["ci95_high"] or "")
    assert summary["ran_on"] == "LocalCluster of 2 workers" and summary["replications"] == 3
    assert set(summary["frontier"]) <= set(summary["candidates"]) and summary["frontier"]
    assert (tmp_path / "w1" / "frontier.png").read_bytes()[:4] == b"\x89PNG"


def test_optimise_finds_the_cheapest_sufficient_purchase(tmp_path, capsys):
    """initial_funds 20 runs dry, 400 / 800 / 1600 never do: buying 400 is the optimum by construction
    (credits_purchased equals initial_funds in every replication)."""
    scen = _scenario(tmp_path, {"initial_funds": [1600.00, 20.00, 800.00, 400.00]})
    code = main(["optimise", str(scen), "--minimise", "credits_purchased", "--subject-to", "disruptions<=0.6",
                 "--max-replications", "16", "-w", "1", "--out", str(tmp_path / "opt")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("winner: prepaid-4 (initial_funds=400.0)")
    assert "runners-up it beat:" in out and "prepaid-3 (initial_funds=800.0)" in out
    assert "surely fail a constraint, e.g. prepaid-2 (initial_funds=20.0)" in out
    summary = json.loads((tmp_path / "opt" / "summary.json").read_text())
    assert summary["winner"] == "prepaid-4"
    assert summary["candidates"]["prepaid-2"]["status"] == "infeasible"
    assert summary["candidates"]["prepaid-1"]["status"] == "beaten"
    # optimum.yaml pastes into a scenario as it is
    pasted = yaml.safe_load((tmp_path / "opt" / "optimum.yaml").read_text())
    assert pasted["policies"][0] == {"name": "prepaid-4", "initial_funds": 400.0}
    doc = yaml.safe_load(scen.read_text())
    doc["policies"] = pasted["policies"]
    del doc["sweep"]
    (tmp_path / "pasted.yaml").write_text((tmp_path / "opt" / "optimum.yaml").read_text().join(
        [yaml.safe_dump({k: v for k, v in doc.items() if k != "policies"}, sort_keys=False), ""]))
    assert load_scenario(tmp_path / "pasted.yaml").policies[0].initial_funds == 4_000_000


def test_no_candidate_meeting_the_constraints_is_an_answer_listing_the_closest(tmp_path, capsys):
    scen = _scenario(tmp_path, {"initial_funds": [20.00, 25.00]})
    code = main(["optimise", str(scen), "--minimise", "credits_purchased", "--subject-to", "disruptions<=0.6",
                 "--max-replications", "8", "-w", "1", "--out", str(tmp_path / "opt")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("no candidate meets disruptions<=0.6 with 95% confidence")
    assert "prepaid-1 (initial_funds=20.0)" in out and "prepaid-2 (initial_funds=25.0)" in out
    assert not (tmp_path / "opt" / "optimum.yaml").exists()
    assert json.loads((tmp_path / "opt" / "summary.json").read_text())["winner"] is None


@pytest.mark.parametrize("grid, key, says", [
    ({"auto_recharge.trigerr": [10]}, "sweep.grid.auto_recharge.trigerr", "unknown policy field"),
    ({"colour": [1]}, "sweep.grid.colour", "unknown policy field"),
    ({}, "sweep.grid", "at least one policy field"),
    ({"initial_funds": []}, "sweep.grid.initial_funds", "non-empty list"),
    ({"initial_funds": {"from": 50, "to": 10, "step": 5}}, "sweep.grid.initial_funds", "must not be below"),
    ({"initial_funds": [100.00, 10.00]}, "sweep.grid.initial_funds", "at least the minimum_purchase 20.00, got 10.00"),
    ({"payment.decline_rate": [2]}, "sweep.grid", "less than or equal to 1"),
])
def test_a_bad_sweep_block_exits_2_naming_the_key(tmp_path, capsys, grid, key, says):
    scen = _scenario(tmp_path, grid)
    assert main(["sweep", str(scen), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{scen}: {key}" in err and says in err, err
    assert not (tmp_path / "o").exists()


def test_sweep_needs_a_sweep_block_and_a_known_base(tmp_path, capsys):
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(dict(SYNTHETIC, days=2), sort_keys=False))
    assert main(["sweep", str(plain)]) == 2
    assert "sweep: this command needs a `sweep:` block" in capsys.readouterr().err
    doc = dict(SYNTHETIC, days=2, sweep={"base": "nope", "grid": {"initial_funds": [50]}})
    plain.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["sweep", str(plain)]) == 2
    assert "sweep.base: expected the name of one of the scenario's policies" in capsys.readouterr().err


@pytest.mark.parametrize("opts, option", [(["--minimise", "happiness", "--subject-to", "disruptions<=1"], "--minimise"),
                                          (["--minimise", "credits_spent", "--subject-to", "disruptions<1"], "--subject-to"),
                                          (["--minimise", "credits_spent"], "--subject-to"),
                                          # 400 digits were read as infinity: every candidate met the bound
                                          (["--minimise", "credits_spent", "--subject-to", "disruptions<=" + "9" * 400],
                                           "--subject-to")])
def test_bad_optimise_options_exit_2_naming_the_option(tmp_path, capsys, opts, option):
    scen = _scenario(tmp_path, {"initial_funds": [50.00]})
    assert main(["optimise", str(scen), *opts]) == 2
    assert capsys.readouterr().err.startswith(f"error: {option}: ")


def test_pareto_front_worked_by_hand():
    d = Decimal
    costs = {"a": (d(1), d(5), d(0)), "b": (d(2), d(2), d(0)), "c": (d(2), d(3), d(0)),   # c: b is better
             "d": (d(0), d(9), d(1)), "e": (d(2), d(2), d(0)), "f": (d(3), d(1), d(5))}    # e ties b: both stay
    assert pareto_front(costs) == ["d", "a", "b", "e", "f"]


EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.yaml") if "auto_recharge" in p.read_text()),
                         ids=lambda p: p.name)
def test_every_example_with_auto_recharge_has_a_sweep_of_valid_candidates(path):
    """Issue 11's 'done when': sweep and optimise run on these (their candidates are what they run)."""
    from types import SimpleNamespace

    from sim.commands.sweep import load_space
    space = load_space(SimpleNamespace(scenario=path, seed=None))
    base = next(p for p in space.scenario.policies if p.name == space.scenario.sweep.base)
    assert base.auto_recharge is not None and len(space.names) >= 4
    assert len({s.auto_recharge for s in space.specs.values()}) == len(space.names), "every candidate differs"
