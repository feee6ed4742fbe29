"""R12 replay: properties of the readers and the import report (issue 8)."""
from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings, strategies as st

from sim.inputs.reports import read_calls
from tests.billing_cases import run_cli
from tests.data.reports.make_samples import COLUMNS_2025, GRAPH, CALLS, row
from tests.test_replay_checks import report
from tests.test_replay_formats import DATA, scenario

BASE = [row(c) for c in CALLS]
FIELDS = ["usage_id", "call_type", "billing", "direction", "upn", "user_location", "far_number", "far_country",
          "start", "end", "duration", "charge", "fee", "capability"]

calls = st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 86_400), st.integers(0, 86_399),
                           st.integers(0, 9999)), min_size=1, max_size=12)


def _rows(picks) -> list[dict]:
    out = []
    for n, (k, secs, offset, cents) in enumerate(picks):
        r = dict(BASE[k], UsageId=f"x{n}", **{"Duration Seconds": str(secs), "End Time": "",
                                               "Start Time": f"2026-01-{1 + offset // 3600 % 28:02d}T"
                                                             f"{offset // 60 % 24:02d}:{offset % 60:02d}:00Z",
                                               "Charge": f"{cents // 100}.{cents % 100:02d}"})
        out.append(r)
    return out


@settings(max_examples=25, deadline=None)
@given(picks=calls)
def test_R12_csv_and_graph_json_lines_read_the_same_calls(tmp_path_factory, picks):
    """Any calls written as the 2025 CSV and as Graph rows (JSON Lines) read back the same."""
    folder = tmp_path_factory.mktemp("p")
    rows = _rows(picks)
    a, rep_a = read_calls(report(folder, rows))
    lines = []
    for r in rows:
        g = {GRAPH[c]: (r[c] or None) for c in GRAPH if c != "Administrative Units"}
        g["duration"] = int(r["Duration Seconds"])
        g["charge"] = float(r["Charge"])
        lines.append(json.dumps(g))
    (folder / "rows.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    b, rep_b = read_calls(folder / "rows.jsonl")
    assert [[getattr(x, f) for f in FIELDS] for x in a] == [[getattr(x, f) for f in FIELDS] for x in b]
    assert [x.start for x in a] == sorted(x.start for x in a)            # merged in time order
    assert rep_a.rows_read == rep_b.rows_read == len(rows)
    assert rep_a.reported_charge == sum(x.charge for x in a)             # exact, in ten-thousandths
    assert sum(rep_a.by_billing.values()) == len(a)


def test_R12_number_type_and_toll_free_numbers_disagreeing_are_reported(tmp_path):
    """Number Type `Service` on a call to the tenant's listed toll-free number: billed as Number
    Type says (free), and listed in the import report."""
    u14 = dict(BASE[13], **{"Number Type": "Service"})
    path = scenario(tmp_path, str(report(tmp_path, [BASE[1], u14])))
    code, out, err = run_cli("validate", str(path))
    assert code == 0, err
    assert "r.csv:3: Number Type 'Service' but +18885550100 is in tenant.toll_free_numbers" in out
    assert "service_in 1" in out


def test_R12_validate_prints_the_import_report(tmp_path):
    code, out, err = run_cli("validate", str(scenario(tmp_path, str(DATA / "Calls.Export.0f1e2d3c.zip"))))
    assert code == 0, err
    for line in ["replay: 19 rows read from 1 file(s), 18 call attempts",
                 "Calls.Export.0f1e2d3c.zip!PSTN.calls.2026-01-31.csv: admin center ZIP: CSV export 2025 (25 columns)",
                 "skipped ", "DirectRouting.calls.2026-01-31.csv (Direct Routing: no credit charges)",
                 "not billed by credits (the carrier bills them): operator_connect 1",
                 "calls from 2026-01-05T15:00:00Z to 2026-01-16T14:00:00Z",
                 "users: 4 in the report, 4 of the tenant, 1 inferred",
                 "reported charge 0.9300 + connection fees 0.0000 (USD)"]:
        assert line in out, line
