"""Text a user controls never becomes a spreadsheet formula (OWASP CSV injection).

Display names, UPNs and a replayed report's ids that start with = + - @ (or a tab)
come out of cdr.csv, ledger.csv, disruptions.csv and report.xlsx with a leading
quote; E.164 numbers (+1888...) and negative amounts are left as they are.
"""
from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from sim.outputs.folder import inert
from tests.test_examples import ROOT, run_quiet

HYPERLINK = '=HYPERLINK("http://x","y")'
NAMES = {
    "hyper@contoso.com": HYPERLINK,
    "plus@contoso.com": "+cmd|' /C calc'!A0",
    "minus@contoso.com": "-2+3",
    "at@contoso.com": "@SUM(A1:A9)",
    "tab@contoso.com": "\t=1+1",
}
PLAN_CREDITS = ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]


def rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def scenario(tmp_path: Path, **extra) -> Path:
    data = {
        "name": "injection",
        "start": "2026-01-05T00:00:00Z",        # a Monday
        "days": 3,
        "tenant": {"users": [{"upn": upn, "country": "US", "licences": PLAN_CREDITS, "display_name": name}
                             for upn, name in NAMES.items()]},
        "rates": str(ROOT / "rates/illustrative-usd.csv"),
        "traffic": {"user_outbound_calls_per_day": 20, "international_share": 0.5,
                    "international_destinations": {"GB": 1.0}, "toll_free_calls_per_day": 0},
        "policies": [{"name": "tiny", "initial_funds": 20.00}, {"name": "postpay", "billing": "postpay"}],
    }
    data.update(extra)
    path = tmp_path / "injection.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sheet_cells(xlsx: Path, sheet: str) -> list[tuple]:
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    return list(wb[sheet].iter_rows(values_only=True))


def assert_no_formulas(xlsx: Path) -> None:
    with zipfile.ZipFile(xlsx) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name


@pytest.mark.parametrize("text, expected", [
    (HYPERLINK, "'" + HYPERLINK), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@x", "'@x"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("+18885550100", "+18885550100"), ("Alice", "Alice"), ("", ""), ("'=x", "'=x"),
])
def test_inert(text, expected):
    assert inert(text) == expected
    assert inert(inert(text)) == expected             # idempotent: the workbook re-guards the CSVs' text


def test_display_names_come_out_inert_in_cdr_csv_and_xlsx(tmp_path):
    out = tmp_path / "out"
    assert run_quiet(scenario(tmp_path), out) == 0
    cdr = rows(out / "tiny" / "cdr.csv")
    shown = {r["UPN"]: r["User Display Name"] for r in cdr}
    assert set(shown) == set(NAMES), "every user should have made calls in 3 weekdays"
    for upn, name in NAMES.items():
        assert shown[upn] == "'" + name
    sheet = sheet_cells(out / "report.xlsx", "tiny cdr")
    col = sheet[0].index("User Display Name")
    in_xlsx = {r[col] for r in sheet[1:]}
    assert "'" + HYPERLINK in in_xlsx
    assert in_xlsx == {"'" + n for n in NAMES.values()}
    assert_no_formulas(out / "report.xlsx")
    # Caller IDs are E.164 text, not guarded, not numbers
    caller = sheet[0].index("Caller ID")
    assert all(isinstance(r[caller], str) and r[caller].startswith("+1") for r in sheet[1:])


def test_disruptions_name_the_payer_inertly(tmp_path):
    out = tmp_path / "out"
    assert run_quiet(scenario(tmp_path), out) == 0
    payers = {r["payer"] for r in rows(out / "tiny" / "disruptions.csv")}
    assert payers, "20.00 of credits should not last 3 days of international calls"
    assert payers <= set(NAMES)              # UPNs starting with a letter need no guard


def test_negative_amounts_stay_numbers(tmp_path):
    out = tmp_path / "out"
    assert run_quiet(scenario(tmp_path), out) == 0
    sheet = sheet_cells(out / "report.xlsx", "postpay ledger")
    col = sheet[0].index("balance_after")
    values = [r[col] for r in sheet[1:]]
    assert values and all(isinstance(v, (int, float)) and v < 0 for v in values)


def test_replayed_ids_and_names_come_out_inert(tmp_path):
    """A replayed report is user text too: UsageId, Call ID, ObjectId and an inferred user's name."""
    from sim.inputs.reports.columns import COLUMNS_2025
    report = tmp_path / "report.csv"
    row = {c: "" for c in COLUMNS_2025}
    row.update({"UsageId": "=1+2", "Call ID": "@call", "Microsoft Entra ObjectId": "-oid", "User Location": "US",
                "UPN": "mallory@contoso.com", "User Display Name": HYPERLINK, "Caller ID": "+12125550147",
                "Call Type": "user_out", "Call Direction": "Outbound", "Number Type": "user",
                "Destination Number": "+442079460123", "External Country": "GB",
                "Start Time": "2026-01-05T15:00:00Z", "End Time": "2026-01-05T15:03:00Z",
                "Duration Seconds": "180", "Currency": "USD"})
    with report.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, COLUMNS_2025)
        w.writeheader()
        w.writerow(row)
    path = scenario(tmp_path, traffic={"replay": str(report)},
                    tenant={"users": [], "replay_users": "infer", "replay_default_licences": PLAN_CREDITS})
    out = tmp_path / "out"
    assert run_quiet(path, out) == 0
    (cdr,) = rows(out / "tiny" / "cdr.csv")
    assert (cdr["UsageId"], cdr["Call ID"], cdr["Microsoft Entra ObjectId"], cdr["User Display Name"]) == \
           ("'=1+2", "'@call", "'-oid", "'" + HYPERLINK)
    assert {r["usage_id"] for r in rows(out / "tiny" / "ledger.csv") if r["kind"] == "debit"} == {"'=1+2"}
    sheet = sheet_cells(out / "report.xlsx", "tiny cdr")
    assert sheet[1][:2] == ("'=1+2", "'@call")
    assert_no_formulas(out / "report.xlsx")
