"""Common random numbers for payments (issue 10): a card attempt's decline draw depends on the
replication and the attempt's place in the sequence of payment attempts, never on the policy's
name or place; renaming or reordering policies changes none of their figures."""
import json

import yaml

from sim.cli import main

from .test_metamorphic import SYNTHETIC

CARD = {"initial_funds": 30.00, "auto_recharge": {"trigger": 20.00, "amount": 25.00},
        "payment": {"method": "card", "decline_rate": 0.3, "delay_minutes": 30, "retry_minutes": 60,
                    "max_retries": 2}}


def _run(tmp_path, tag: str, policies: list[dict], *extra) -> dict:
    scen = tmp_path / f"{tag}.yaml"
    scen.write_text(yaml.safe_dump(dict(SYNTHETIC, days=10, policies=policies), sort_keys=False))
    out = tmp_path / tag
    assert main(["-q", "run", str(scen), "-r", "4", "-w", "1", "--no-xlsx", "--out", str(out), *extra]) == 0
    return json.loads((out / "summary.json").read_text())


def test_renaming_and_reordering_policies_changes_none_of_their_figures(tmp_path):
    tight = {"name": "tight", "initial_funds": 40.00}
    a = _run(tmp_path, "a", [tight, dict(CARD, name="card-a")])
    b = _run(tmp_path, "b", [dict(CARD, name="renamed-card"), dict(tight, name="tight-too")], "--baseline", "tight-too")
    assert a["policies"]["card-a"] == b["policies"]["renamed-card"]
    assert a["policies"]["tight"] == b["policies"]["tight-too"]
    assert a["comparisons"]["card-a"] == b["comparisons"]["renamed-card"]
    assert a["policies"]["card-a"]["recharges_failed"]["mean"] != "0.0000", "declines must happen"


def test_two_identical_card_policies_with_different_names_have_identical_results(tmp_path):
    s = _run(tmp_path, "twins", [dict(CARD, name="card-1"), dict(CARD, name="card-2")])
    assert s["policies"]["card-1"] == s["policies"]["card-2"]
    assert all(not c["significant"] and c["diff_mean"] == "0.0000" for c in s["comparisons"]["card-2"].values())
