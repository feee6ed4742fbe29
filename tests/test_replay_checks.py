"""R12 replay input checks (issues 8 and 12): every fault in a usage report is one message
naming the file, line and column, with the fix; exit status 2 and no traceback from the CLI."""
from __future__ import annotations

import csv
import io
import json

import pytest

from sim.errors import InputError
from sim.inputs.reports import calltypes, read_calls
from tests.billing_cases import run_cli
from tests.data.reports.make_samples import COLUMNS_2025, row, CALLS
from tests.test_replay_formats import DATA, scenario

GOOD = row(CALLS[1])          # u02: alice -> GB, credits


def report(tmp_path, rows, header=COLUMNS_2025, name="r.csv", delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(c, "") for c in header])
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def bad(**cols):
    return [GOOD, {**GOOD, "UsageId": "u99", **cols}]


CASES = [
    ("country not ISO", bad(**{"External Country": "ZZ"}), ["r.csv:3: External Country", "'ZZ'", "ISO 3166-1"]),
    ("UK hint", bad(**{"External Country": "UK"}), ["r.csv:3: External Country", "did you mean GB?"]),
    ("user location", bad(**{"User Location": "XX"}), ["r.csv:3: User Location", "ISO 3166-1"]),
    ("not a number", bad(**{"Destination Number": "not-a-number"}), ["r.csv:3: Destination Number", "not a phone number"]),
    ("Excel scientific", bad(**{"Destination Number": "4.41615E+11"}), ["r.csv:3: Destination Number",
                                                                       "scientific notation", "re-export"]),
    ("lost plus", bad(**{"Destination Number": "442071234567"}), ["r.csv:3: Destination Number", "leading '+'",
                                                                 "+442071234567"]),
    ("NUL in a name", bad(**{"User Display Name": "Al\x00ice"}), ["r.csv:3: User Display Name", "U+0000"]),
    ("End before Start", bad(**{"End Time": "2026-01-05T15:59:00Z"}), ["r.csv:3: End Time", "before the Start Time"]),
    ("absurd duration", bad(**{"Duration Seconds": "999999999"}), ["r.csv:3: Duration Seconds", "longer than a day"]),
    ("local date", bad(**{"Start Time": "05.01.2026 17:35"}), ["r.csv:3: Start Time", "local date", "ISO 8601"]),
    ("decimal comma", bad(Charge="0,11"), ["r.csv:3: Charge", "decimal comma"]),
    ("unknown call type", bad(**{"Call Type": "fax_out"}), ["r.csv:3: Call Type", "fax_out", "replay_unknown_call_types"]),
    ("number type", bad(**{"Number Type": "mobile"}), ["r.csv:3: Number Type", "TollFree"]),
    ("empty usage id", bad(UsageId=""), ["r.csv:3: UsageId", "empty"]),
]


@pytest.mark.parametrize("rows,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_R12_bad_row_is_named_by_file_line_and_column(tmp_path, rows, expected):
    with pytest.raises(InputError) as e:
        read_calls(report(tmp_path, rows))
    for part in expected:
        assert part in str(e.value)


def test_R12_bad_byte_is_reported_at_its_real_line(tmp_path):
    """A de-DE Excel save: Windows-1252 ('Müller' on line 3), not UTF-8."""
    path = report(tmp_path, bad(**{"User Display Name": "Jörg Müller"}), encoding="cp1252")
    with pytest.raises(InputError) as e:
        read_calls(path)
    assert "r.csv:3:" in str(e.value) and "Windows-1252" in str(e.value) and "CSV UTF-8" in str(e.value)


def test_R12_semicolon_export_names_the_locale_and_the_fix(tmp_path):
    with pytest.raises(InputError) as e:
        read_calls(report(tmp_path, [GOOD], delimiter=";"))
    assert "r.csv:1" in str(e.value) and "de-DE" in str(e.value) and "re-export" in str(e.value)


def test_R12_header_only_is_an_error_unless_allowed(tmp_path):
    path = report(tmp_path, [])
    with pytest.raises(InputError, match="holds no calls.*replay_allow_empty"):
        read_calls(path)
    rows, rep = read_calls(path, allow_empty=True)
    assert rows == [] and rep.rows_read == 0


def test_R12_unknown_call_types_skipped_and_counted_on_request(tmp_path):
    rows, rep = read_calls(report(tmp_path, bad(**{"Call Type": "fax_out"})), unknown_call_types="skip")
    assert [r.usage_id for r in rows] == ["u02"]
    assert rep.skipped == [(f"{tmp_path / 'r.csv'}:3", "undocumented Call Type 'fax_out'")]


def test_R12_duration_disagreeing_with_times_is_reported_not_refused(tmp_path):
    rows, rep = read_calls(report(tmp_path, bad(**{"Duration Seconds": "100"})))
    assert len(rows) == 2
    assert rep.duration_mismatches == [(f"{tmp_path / 'r.csv'}:3", 100, 125)]


def test_R12_direct_routing_export_is_named_for_what_it_is(tmp_path):
    path = tmp_path / "DirectRouting.calls.2026-01-31.csv"
    path.write_text("Correlation ID,SBC FQDN\r\n", encoding="utf-8")
    with pytest.raises(InputError, match="Direct Routing.*no Communications Credits charges"):
        read_calls(path)
    assert calltypes.classify("dr_out_user_forwarding").billing == calltypes.DIRECT_ROUTING
    assert calltypes.classify("ByotOutUserForwarding").billing == calltypes.DIRECT_ROUTING


def test_R12_zip_skips_its_direct_routing_file_and_parameters(tmp_path):
    _, rep = read_calls(DATA / "Calls.Export.0f1e2d3c.zip")
    assert [s.split("!")[1] for s in rep.skipped_files] == [
        "DirectRouting.calls.2026-01-31.csv (Direct Routing: no credit charges)", "parameters.json (the export's parameters)"]


def test_R12_broken_json_names_line_and_column(tmp_path):
    path = tmp_path / "page.json"
    path.write_text('{"value": [\n  {"id": "a",\n   "callType" "user_out"}]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"page.json:3:\d+: not valid JSON"):
        read_calls(path)


def test_R12_obfuscated_plus_one_number_says_which_rule_decided(tmp_path):
    r = dict(GOOD, **{"External Country": "", "Destination Dialed": "", "Destination Number": "+1718555****"})
    rows, rep = read_calls(report(tmp_path, [r]))
    assert rows[0].far_country == "US" and rows[0].country_rule.startswith("number prefix")


def test_R12_replay_faults_exit_2_without_traceback(tmp_path):
    cases = [(bad(**{"External Country": "ZZ"}), "r.csv:3: External Country"),
             (bad(**{"Duration Seconds": "999999999"}), "r.csv:3: Duration Seconds"),
             (bad(**{"Start Time": "2026-02-05T10:00:00Z", "End Time": "2026-02-05T10:02:05Z"}), "r.csv:3: Start Time"),
             (bad(Currency="EUR"), "r.csv:3: Currency"),
             ([], "holds no calls")]
    for rows, expected in cases:
        path = scenario(tmp_path, str(report(tmp_path, rows)))
        code, out, err = run_cli("validate", str(path))
        assert code == 2 and expected in err and "Traceback" not in err, err


def test_R12_graph_page_json_with_a_bad_field_names_the_row(tmp_path):
    page = json.loads((DATA / "graph-beta.json").read_text())
    page["value"][3]["otherPartyCountryCode"] = "ZZ"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    with pytest.raises(InputError, match=r"p.json: row 4: External Country: 'ZZ'"):
        read_calls(path)


def test_R12_call_direction_contradicting_the_call_type_is_reported_not_refused(tmp_path, capsys):
    """The Call Type decides who pays and how (billing-rules.md R3, R12); a `Call Direction` that
    contradicts it (a hand-edited row, 'Sideways') is listed in the import report, and the row is
    billed by its Call Type as if the direction agreed."""
    from sim.cli import main
    from tests.test_cli_errors import row as cli_row, setup
    rows = [cli_row(**{"Call Direction": "Outbound"}),
            cli_row(**{"UsageId": "u2", "Call ID": "c2", "Call Direction": "Sideways"}),
            cli_row(**{"UsageId": "u3", "Call ID": "c3", "Call Direction": "inbound"})]
    path = setup(tmp_path, rows=rows)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "report.csv:3: Call Direction 'Sideways' but Call Type user_out is Outbound (Call Type used)" in out, out
    assert "report.csv:4: Call Direction 'inbound' but Call Type user_out is Outbound" in out
    assert "report.csv:2: Call Direction" not in out
    assert main(["run", str(path), "-q", "--no-xlsx", "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["replay"]["direction_disagreements"] == 2
    charged = [r for r in csv.DictReader((tmp_path / "out" / "p" / "cdr.csv").open()) if r["Call Type"] == "user_out"]
    assert len(charged) == 3 and len({(r["Charge"], r["Capability"]) for r in charged}) == 1
