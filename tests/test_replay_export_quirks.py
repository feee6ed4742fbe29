"""R12 replay of what real exports hold that the tidy samples do not (an audit against
Microsoft's pages: pstn-usage-report.md, callrecords-pstncalllogrow.md, getpstncalls.md).

Each case edits the 19-call Graph sample (tests/data/reports/graph.jsonl) and expects the
rebilled debits of test_replay_formats.py's hand-worked reference (0.9000 in all) unless it says
otherwise.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from sim.cli import main
from tests.test_replay_formats import DATA, rebill, reference, scenario  # noqa: F401 - `reference` is a fixture


def graph_rows() -> list[dict]:
    return [json.loads(line) for line in (DATA / "graph.jsonl").read_text().splitlines() if line.strip()]


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def edited(tmp_path: Path, usage_id: str, **changes) -> Path:
    rows = graph_rows()
    for r in rows:
        if r["id"] == usage_id:
            r.update(changes)
    return write_rows(tmp_path / "rows.jsonl", rows)


def test_an_unzipped_admin_center_export_reads_like_its_zip(tmp_path, reference):
    """pstn-usage-report.md: the download holds PSTN.calls.*.csv, DirectRouting.calls.*.csv and
    parameters.json. Unzipped into a folder, the folder was refused (a Direct Routing export)."""
    folder = tmp_path / "export"
    with zipfile.ZipFile(DATA / "Calls.Export.0f1e2d3c.zip") as z:
        z.extractall(folder)
    debits, _, report = rebill(scenario(tmp_path, str(folder)))
    assert debits == reference[0]
    assert [Path(f["file"]).name for f in report.files] == ["PSTN.calls.2026-01-31.csv"]
    assert sorted(Path(s.split(" (")[0]).name for s in report.skipped_files) == \
        ["DirectRouting.calls.2026-01-31.csv", "parameters.json"]
    (folder / "PSTN.calls.2026-01-31.csv").unlink()          # nothing left to replay: one clear line
    assert main(["validate", str(scenario(tmp_path, str(folder)))]) == 2


@pytest.mark.parametrize("caller", [None, "", "Internal Revenue Service", "+0123456789", "anonymous"])
def test_a_toll_free_caller_of_no_country_is_rated_at_the_called_numbers(tmp_path, reference, caller):
    """u14: a toll-free queue call, 400 s -> 7 min x 0.0500 (US toll-free) = 0.3500 (R3, R6).
    Graph v1.0 has no otherPartyCountryCode and the caller number is the only origin; a name
    (pstn-usage-report.md: 'Internal Revenue Service'), a withheld number or the docs' own
    '+0123456789' refused the whole report. The called +1 888 number is the US's."""
    debits, attempts, report = rebill(scenario(tmp_path, str(edited(tmp_path, "u14", callerNumber=caller))))
    assert debits == reference[0]
    assert sum(a for _, u, a in debits if u == "u14") == 3500
    assert report.country_rules["the called number's country"] == 1


def test_an_inbound_caller_id_that_is_a_name_is_kept_as_written(tmp_path, reference):
    """u15 (a free service-number call) from a caller presenting only a name: billed as before,
    and the CDR keeps what the report said."""
    path = scenario(tmp_path, str(edited(tmp_path, "u15", callerNumber="Internal Revenue Service")))
    debits, attempts, _ = rebill(path)
    assert debits == reference[0]
    assert attempts.numbers[attempts.usage_ids.index("u15")] == "Internal Revenue Service"


def test_an_inbound_caller_id_of_digits_alone_is_still_a_spreadsheets_damage(tmp_path, capsys):
    """A review: 12065550100 (the '+' a spreadsheet dropped) was taken as a name and its country
    then guessed from the called number; it is refused with the re-export hint, as before."""
    path = scenario(tmp_path, str(edited(tmp_path, "u14", callerNumber="12065550144")))
    assert main(["validate", str(path)]) == 2
    assert "Caller ID: '12065550144' has lost its leading '+'" in capsys.readouterr().err


def test_an_inbound_caller_id_in_national_form_is_kept(tmp_path, reference):
    """A leading 0 is what a spreadsheet drops, so 02071234567 is no damage: a national number
    as presented (the review found it refused with the advice to write +02071234567)."""
    debits, attempts, _ = rebill(scenario(tmp_path, str(edited(tmp_path, "u15", callerNumber="02071234567"))))
    assert debits == reference[0]
    assert attempts.numbers[attempts.usage_ids.index("u15")] == "02071234567"


def test_a_graph_double_too_large_for_money_is_refused_at_its_column(tmp_path, capsys):
    text = (DATA / "graph.jsonl").read_text()
    row = next(line for line in text.splitlines() if '"id": "u02"' in line)
    path = tmp_path / "rows.jsonl"
    path.write_text(text.replace(row, row.replace('"charge": 0.11', '"charge": 123456789012345678901234567.123456')))
    assert main(["validate", str(scenario(tmp_path, str(path)))]) == 2
    assert "Charge" in capsys.readouterr().err


def test_an_outbound_number_that_is_no_number_is_still_refused(tmp_path, capsys):
    path = scenario(tmp_path, str(edited(tmp_path, "u02", calleeNumber="Internal Revenue Service")))
    assert main(["validate", str(path)]) == 2
    assert "Destination Number: 'Internal Revenue Service' is not a phone number" in capsys.readouterr().err


def test_numbers_written_with_spaces_as_the_docs_show_them(tmp_path, reference):
    """pstn-usage-report.md shows obfuscated numbers as '+123 456789***'."""
    debits, attempts, _ = rebill(scenario(tmp_path, str(edited(tmp_path, "u02", calleeNumber="+44 2071 234567"))))
    assert debits == reference[0]
    assert attempts.numbers[attempts.usage_ids.index("u02")] == "+442071234567"


@pytest.mark.parametrize("charge,shown", [("0.10500000000000001", "0.1050"), ("0.1049999999999999", "0.1050"),
                                          ("0.10494999", "0.1049")])
def test_a_graph_double_charge_is_rounded_half_up_to_4_places(tmp_path, reference, charge, shown):
    """pstnCallLogRow.charge is a Double: binary noise past 4 places refused the report."""
    path = tmp_path / "rows.jsonl"
    text = (DATA / "graph.jsonl").read_text()
    row = next(line for line in text.splitlines() if '"id": "u02"' in line)
    path.write_text(text.replace(row, row.replace('"charge": 0.11', f'"charge": {charge}')))
    debits, attempts, _ = rebill(scenario(tmp_path, str(path)))
    assert debits == reference[0]                   # the reported charge is reconciled, not billed
    assert attempts.reported[attempts.usage_ids.index("u02")][1] == int(shown.replace(".", ""))


def test_graphs_empty_end_time_on_a_call_that_did_not_connect(tmp_path, reference):
    """getDirectRoutingCalls / getPstnCalls write 0001-01-01T00:00:00Z for 'no value': a failed
    Direct Routing call (counted, never billed) refused the report as ending before it began."""
    rows = graph_rows() + [{"id": "dr1", "callId": "call-dr1", "callType": "ByotIn", "callerNumber": "Internal Revenue Service",
                            "calleeNumber": "+12065550100", "startDateTime": "2026-01-20T10:00:00Z",
                            "endDateTime": "0001-01-01T00:00:00Z", "duration": 0, "successfulCall": False}]
    debits, _, report = rebill(scenario(tmp_path, str(write_rows(tmp_path / "rows.jsonl", rows))))
    assert debits == reference[0]
    assert report.not_billed["direct_routing"] == 1


def test_every_graph_page_with_a_next_link_means_the_last_is_missing(tmp_path, capsys):
    """getpstncalls.md: more than 1,000 rows come in pages linked by @odata.nextLink, 'the last
    page ... doesn't have @odata.nextLink'. A set of pages that all have one lacks the last."""
    pages = sorted((DATA / "graph-pages").iterdir())
    first = json.loads(pages[0].read_text())
    assert first.get("@odata.nextLink")             # the sample's first page links to its second
    path = scenario(tmp_path, str(pages[0]))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "WARNING: every Graph page read has an @odata.nextLink" in out and "the last page is missing" in out
    assert main(["validate", str(scenario(tmp_path, [str(p) for p in pages]))]) == 0
    assert "WARNING" not in capsys.readouterr().out


def test_a_get_direct_routing_calls_page_is_named_as_such_and_never_billed(tmp_path, reference):
    """directRoutingLogRow (getDirectRoutingCalls) carries SIP outcomes; its rows are the tenant's
    own carrier's: counted, never charged. The file is named by the API it came from."""
    dr = [{"id": f"dr{k}", "callType": "ByotOut", "calleeNumber": "+442071234567", "callerNumber": "+12065550100",
           "startDateTime": "2026-01-21T10:00:00Z", "endDateTime": "2026-01-21T10:03:00Z", "duration": 180,
           "successfulCall": True, "finalSipCode": 0, "userPrincipalName": "alice@contoso.com"} for k in range(2)]
    page = tmp_path / "dr.json"
    page.write_text(json.dumps({"value": dr}), encoding="utf-8")
    debits, _, report = rebill(scenario(tmp_path, [str(DATA / "graph.jsonl"), str(page)]))
    assert debits == reference[0]
    assert [f["format"] for f in report.files] == ["Graph rows, JSON Lines", "Graph getDirectRoutingCalls JSON"]
    assert report.not_billed["direct_routing"] == 2


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, capsys, monkeypatch):
    """A 4 MB ZIP unpacking to 4 GiB of NULs ran out of memory (exit 1). A member past
    MAX_MEMBER is refused by its header (zipfile reads no further than the header says)."""
    import sim.inputs.reports.formats as formats
    monkeypatch.setattr(formats, "MAX_MEMBER", 1 << 20)
    bomb = tmp_path / "Calls.Export.bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("PSTN.calls.2026-01-31.csv", b"\0" * (2 << 20))
    assert main(["fit", str(bomb), "--out", str(tmp_path / "f.yaml"), "-q"]) == 2
    assert "PSTN.calls.2026-01-31.csv: the ZIP unpacks to more than 1 MB" in capsys.readouterr().err
    many = tmp_path / "Calls.Export.many.zip"          # a review: 40 members each under the cap
    with zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(40):
            z.writestr(f"PSTN.calls.{k:02d}.csv", b"\0" * (300 << 10))
    assert main(["fit", str(many), "--out", str(tmp_path / "f.yaml"), "-q"]) == 2
    assert "PSTN.calls.03.csv: the ZIP unpacks to more than 1 MB" in capsys.readouterr().err
