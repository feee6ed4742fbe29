"""R12 replay (issue 8): the same month of calls in every export format rebills to the same
ledger, to the cent, as the same calls in the project's own vocabulary.

tests/data/reports/ (written by its make_samples.py, column for column from Microsoft's docs)
holds 19 calls: every documented Calling Plans call type, obfuscated (`+17185550***`,
`+44161496****`) and withheld caller numbers, and one Operator Connect call (counted, never
charged). Worked by hand at the rates below, the credit debits are (R3, R6: whole minutes):
u02 alice->GB 3 min x 0.0350 = 0.1050; u03 bob (PAYG)->DE 1 x 0.0400; u04 bob->US 2 x 0.0200;
u06 carol (GB plan)->US 2 x 0.0200; u07 ucap_out->US 2 x 0.0200 and u08 ucap_out_conf->GB
1 x 0.0350 (the resource account, credits); u14 toll-free queue 7 x 0.0500 = 0.3500; u16
toll-free meeting dial-in 5 x 0.0500 = 0.2500: 0.9000 in all. Pools pay u01, u05 and u18;
the rest is free.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.commands.load import load
from sim.engine.loop import simulate
from sim.parallel.runner import payment_seed

DATA = Path(__file__).parent / "data" / "reports"
FORMATS = {
    "export-2025.csv": "CSV export 2025 (25 columns)",
    "export-2025-aad.csv": "CSV export 2025 (25 columns, AAD ObjectId header)",
    "export-2020.csv": "CSV export 2020-2021 (20 columns)",
    "export-2018.tsv": "tab-delimited export (before 2019)",
    "Calls.Export.0f1e2d3c.zip": "admin center ZIP: CSV export 2025 (25 columns)",
    "graph-pages": "Graph getPstnCalls JSON",
    "graph-beta.json": "Graph getPstnCalls JSON",
    "graph.jsonl": "Graph rows, JSON Lines",
    "powershell.json": "Graph getPstnCalls JSON (UTF-16)",
    "powershell-export.csv": "PowerShell Export-Csv (Graph rows)",
}
RATES = {"outbound": {"US": "0.0200", "GB": "0.0350", "DE": "0.0400"}, "toll_free_inbound": {"US": "0.0500"}}
PLAN_CREDITS = ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]
USERS = [
    {"upn": "alice@contoso.com", "country": "US", "licences": PLAN_CREDITS},
    {"upn": "bob@contoso.com", "country": "US",
     "licences": ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]},
    {"upn": "carol@contoso.com", "country": "GB", "licences": PLAN_CREDITS},
    {"upn": "dave@contoso.com", "country": "US", "licences": ["E5", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]},
]
RESOURCE = {"upn": "resource-account-us@contoso.com", "country": "US",
            "licences": ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]}


def scenario(tmp_path: Path, replay, users=USERS, **tenant) -> Path:
    doc = {"name": "formats", "start": "2026-01-01T00:00:00Z", "days": 31, "seed": 1,
           "tenant": {"users": users, "toll_free_numbers": [
               {"number": "+18885550100", "serves": "call_queue"},
               {"number": "+18005550199", "serves": "conference_bridge"}], **tenant},
           "rates": RATES, "traffic": {"replay": replay},
           "policies": [{"name": "p", "initial_funds": "20.00"}]}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def rebill(path: Path):
    """-> (debits as (time, usage id, amount), the attempts, their import report)."""
    _, world, attempts = load(path, None)
    policy = world.policies[0]
    run = simulate(world, policy, attempts, payment_seed(1, 0))
    debits = [(t, attempts.usage_ids[i], amount) for t, kind, amount, _b, _lot, i, _n in run.account.ledger.journal
              if kind == "debit"]
    return debits, attempts, attempts.import_report


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return rebill(scenario(tmp_path_factory.mktemp("own"), str(DATA / "own-vocabulary.csv"), USERS + [RESOURCE]))


def test_R12_own_vocabulary_rebills_as_worked_by_hand(reference):
    debits, _, report = reference
    by_call: dict[str, int] = {}
    for _, uid, amount in debits:
        by_call[uid] = by_call.get(uid, 0) + amount
    assert by_call == {"u02": 1050, "u03": 400, "u04": 400, "u06": 400, "u07": 400, "u08": 350,
                       "u14": 3500, "u16": 2500}
    assert sum(by_call.values()) == 9000
    assert report.rows_billed == 18


@pytest.mark.parametrize("name", FORMATS)
def test_R12_every_format_rebills_like_the_own_vocabulary(tmp_path, reference, name):
    debits, attempts, report = rebill(scenario(tmp_path, str(DATA / name)))
    assert debits == reference[0]
    assert [d["format"] for d in report.files][0].startswith(FORMATS[name])
    assert report.rows_billed == 18
    assert report.users_inferred == 1                 # the resource account of the ucap_out rows
    operator_connect = 0 if name in ("export-2020.csv", "export-2018.tsv") else 1
    assert report.not_billed == ({"operator_connect": 1} if operator_connect else {})
    assert report.rows_read == 18 + operator_connect
    assert sorted(report.by_call_type) == sorted(
        {"user_out", "user_out_conf", "user_out_transfer", "user_out_forwarding", "fmc_out", "ucap_out",
         "ucap_out_conf", "user_in", "emergency_in", "unassigned_in", "fmc_in", "emergency_out", "ucap_in",
         "conf_in", "conf_out"})


def test_R12_graph_pages_merge_in_time_order_from_a_folder_or_a_list(tmp_path, reference):
    pages = sorted((DATA / "graph-pages").iterdir())
    debits, _, report = rebill(scenario(tmp_path, [str(p) for p in reversed(pages)]))
    assert debits == reference[0]
    assert [f["rows"] for f in report.files] == [9, 10]
