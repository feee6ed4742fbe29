"""Metamorphic cross-check of the engine against the replay path (issue 3, R12).

Run a synthetic scenario, export its CDRs, replay them under the same policy:
the ledger must be byte-identical (blocked calls never touched it; a cut call
replays as a call of its connected duration, whose increments were all funded).
"""
from pathlib import Path

import pytest
import yaml

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]

SYNTHETIC = {
    "name": "meta",
    "start": "2026-01-20T00:00:00Z",
    "days": 21,                       # crosses a month boundary (pool reset)
    "seed": 11,
    "switches": {"dni_cap": "whichever_first"},
    "tenant": {
        "domain": "fabrikam.com",
        "generate": [
            {"count": 6, "country": "US", "licences": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_120", "COMMUNICATIONS_CREDITS"]},
            {"count": 3, "country": "GB", "licences": ["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]},
            {"count": 2, "country": "DE", "licences": ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]},
            {"count": 3, "country": "US", "licences": ["E5", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]},
            {"count": 2, "country": "US", "licences": ["E5"]},
        ],
        "toll_free_numbers": [{"number": "+18885550100", "serves": "call_queue"},
                              {"number": "+18005550199", "serves": "conference_bridge"}],
    },
    "rates": str(ROOT / "rates" / "illustrative-usd.csv"),
    "traffic": {
        "user_outbound_calls_per_day": 4,
        "international_share": 0.2,
        "international_destinations": {"GB": 0.3, "IN": 0.3, "NG": 0.4},
        "toll_free_calls_per_day": 30,
        "toll_free_origins": {"US": 0.8, "CA": 0.2},
        "meetings_per_organiser_per_day": 1.0,
        "dial_outs_per_meeting": 1.0,
        "toll_free_dial_ins_per_meeting": 1.0,
        "toll_dial_ins_per_meeting": 0.5,
        "user_inbound_calls_per_day": 1.0,
        "emergency_calls_per_user_per_year": 5,
    },
    "policies": [
        {"name": "tight", "initial_funds": 40.00},
        {"name": "recharging", "initial_funds": 30.00, "auto_recharge": {"trigger": 20.00, "amount": 25.00},
         "payment": {"method": "card", "decline_rate": 0.3, "delay_minutes": 30, "retry_minutes": 60, "max_retries": 2}},
    ],
}


def _write(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("policy", ["tight", "recharging"])
def test_replaying_a_synthetic_runs_cdr_gives_the_same_ledger(tmp_path, policy):
    syn = _write(tmp_path / "syn.yaml", SYNTHETIC)
    assert main(["-q", "run", str(syn), "--out", str(tmp_path / "syn")]) == 0
    cdr = tmp_path / "syn" / policy / "cdr.csv"
    disruptions = (tmp_path / "syn" / policy / "disruptions.csv").read_text().splitlines()
    assert len(disruptions) > 1, "the scenario must disrupt calls for the check to mean something"

    replay = dict(SYNTHETIC, traffic={"replay": str(cdr)},
                  policies=[p for p in SYNTHETIC["policies"] if p["name"] == policy])
    rep = _write(tmp_path / "rep.yaml", replay)
    assert main(["-q", "run", str(rep), "--out", str(tmp_path / "rep")]) == 0

    original = (tmp_path / "syn" / policy / "ledger.csv").read_bytes()
    replayed = (tmp_path / "rep" / policy / "ledger.csv").read_bytes()
    assert original.count(b"\n") > 20
    assert replayed == original
    # Cut calls replay at their connected length, so the CDR itself round-trips too.
    assert (tmp_path / "rep" / policy / "cdr.csv").read_bytes() == cdr.read_bytes()
