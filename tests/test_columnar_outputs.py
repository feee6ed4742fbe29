"""Per-call tables written whole (issue 13): the column builders give exactly the text the
row-by-row formatting gave, the CSV writer exactly the bytes of Python's csv module, the
journal aggregated per call per lot still adds up to the balance (R7 conservation), and
--format parquet / --xlsx-rows work end to end."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from models.ledger import Ledger
from models.money import format_money, round_half_up_2
from models.timeutil import Clock
from sim.outputs.cdr import guid_v4
from sim.outputs.columns import decimals, guids, iso_times, money2, money4, timestamps
from sim.outputs.journal import journal_columns, ledger_table
from sim.outputs.tablefile import write_csv_table
from tests.billing_cases import run_cli
from tests.test_examples import ROOT, shortened

MONEY = st.integers(min_value=-10**14, max_value=10**14)


@settings(max_examples=60, deadline=None)
@given(st.lists(MONEY, max_size=30))
def test_money_columns_are_format_money_and_round_half_up_2(units):
    assert money4(np.array(units, dtype=np.int64)).cast(pa.string()).to_pylist() == [format_money(u) for u in units]
    assert money2(np.array(units, dtype=np.int64)).cast(pa.string()).to_pylist() == [round_half_up_2(u) for u in units]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**128 - 1), st.lists(st.integers(0, 2**40), max_size=20))
def test_guid_column_is_guid_v4(base, idx):
    got = guids(base, np.array(idx, dtype=np.int64)).to_pylist()
    assert got == [guid_v4(base + i) for i in idx]


def test_guid_column_carries_into_the_high_word_and_wraps():
    for base in (2**64 - 3, 2**128 - 2):
        idx = np.arange(6)
        assert guids(base, idx).to_pylist() == [guid_v4(base + int(i)) for i in idx]


@settings(max_examples=40, deadline=None)
@given(st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2090, 1, 1)),
       st.lists(st.integers(0, 3 * 366 * 86400), min_size=1, max_size=20))
def test_time_column_is_clock_iso(start, ts):
    clock = Clock(start.replace(tzinfo=timezone.utc))
    assert iso_times(timestamps(clock, np.array(ts))).to_pylist() == [clock.iso(t) for t in ts]


TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\r\n=é+1')), max_size=6)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(TEXT, st.one_of(st.none(), st.integers(-10**6, 10**6)), MONEY), max_size=12))
def test_csv_bytes_are_those_of_the_csv_module(tmp_path_factory, rows):
    """pyarrow writes the plain rows, the csv module the ones that need quotes: the bytes are
    csv.writer's, whatever the text holds."""
    table = pa.table({"text": pa.array([r[0] for r in rows], pa.string()),
                      "n": pa.array([r[1] for r in rows], pa.int64()),
                      "money": decimals(np.array([r[2] for r in rows], dtype=np.int64), 4)})
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    write_csv_table(path, table)
    want = io.StringIO()
    w = csv.writer(want)
    w.writerow(["text", "n", "money"])
    w.writerows([[r[0], "" if r[1] is None else r[1], format_money(r[2])] for r in rows])
    assert path.read_bytes() == want.getvalue().encode("utf-8")


def _ledger() -> Ledger:
    """Lot 1 (5.0000) pays calls 0 and 1 by increments of 0.9000; lot 2 (10.0000) is bought at
    150; call 0's increment at 190 takes lot 1's last 0.5000 and 0.4000 of lot 2; lot 2's rest
    (7.8000) expires at 20,000; call 2 then runs into overdraft (two increments)."""
    led = Ledger()
    led.purchase(0, 50_000, 10_000, "initial funds")
    for t, call in [(10, 0), (20, 1), (70, 0), (80, 1), (130, 0)]:
        led.debit(t, 9_000, call)
    led.purchase(150, 100_000, 20_000, "auto-recharge")
    for t, call in [(190, 0), (200, 2), (250, 0)]:
        led.debit(t, 9_000, call)
    led.expire(20_000)
    led.debit(20_010, 9_000, 2, allow_overdraft=True)
    led.debit(20_070, 9_000, 2, allow_overdraft=True)
    return led


def test_R7_journal_per_call_per_lot_adds_up_to_the_balance():
    """Per (call, lot) one debit row at the first increment's instant, the increments summed;
    balance_after the running balance (as the per-increment journal's own is); conservation."""
    led = _ledger()
    clock = Clock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    usage = lambda ix: pa.array([f"c{i}" for i in ix.tolist()], pa.string())   # noqa: E731
    inc = ledger_table(clock, led.journal, usage, "increments").to_pylist()
    calls = ledger_table(clock, led.journal, usage, "calls").to_pylist()
    # the ledger's own balance_after is the running sum of its rows: the definition used for calls
    running = 0
    for r in inc:
        running += r["amount"] if r["kind"] == "purchase" else -r["amount"]
        assert r["balance_after"] == running
    sums: dict = {}
    for r in inc:
        if r["kind"] == "debit":
            sums[(r["usage_id"], r["lot_id"])] = sums.get((r["usage_id"], r["lot_id"]), 0) + r["amount"]
    assert {(r["usage_id"], r["lot_id"]): r["amount"] for r in calls if r["kind"] == "debit"} == sums
    assert len([r for r in calls if r["kind"] == "debit"]) == len(sums)
    assert [r["kind"] for r in calls if r["kind"] != "debit"] == [r["kind"] for r in inc if r["kind"] != "debit"]
    running = 0
    for r in calls:
        running += r["amount"] if r["kind"] == "purchase" else -r["amount"]
        assert r["balance_after"] == running
    assert calls[-1]["balance_after"] == Decimal(led.balance) / 10_000 == inc[-1]["balance_after"]
    purchased = sum(r["amount"] for r in calls if r["kind"] == "purchase")
    spent = sum(r["amount"] for r in calls if r["kind"] == "debit")
    forfeited = sum(r["amount"] for r in calls if r["kind"] == "expire")
    assert purchased == spent + forfeited + calls[-1]["balance_after"]          # R7, to the last digit
    # call 0: lot 1 at 10, 70, 130 and its last 0.5000 at 190 = 3.2000; lot 2 at 190 and 250 = 1.3000
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    c0 = [((r["time"] - start).total_seconds(), r["lot_id"], r["amount"]) for r in calls if r["usage_id"] == "c0"]
    assert c0 == [(10, 1, Decimal("3.2000")), (190, 2, Decimal("1.3000"))]
    assert [r["amount"] for r in calls if r["kind"] == "expire"] == [Decimal("7.8000")]
    overdraft = [r for r in calls if r["lot_id"] is None and r["kind"] == "debit"]
    assert [(r["usage_id"], r["amount"], r["note"]) for r in overdraft] == [("c2", Decimal("1.8000"), "overdraft")]


def test_journal_columns_read_back_every_row():
    led = _ledger()
    c = journal_columns(led.journal)
    rows = list(led.journal)
    assert c["t"].tolist() == [r[0] for r in rows]
    assert c["balance"].tolist() == [r[3] for r in rows]
    assert c["lot"].tolist() == [r[4] if r[4] != "" else -1 for r in rows]
    notes = {i: n for i, (_, n) in c["texts"].items()} | {i: "overdraft" for i in np.flatnonzero(c["overdraft"]).tolist()}
    assert notes == {i: r[6] for i, r in enumerate(rows) if r[6]}
    assert c["overdraft"].any()                  # a debit beyond the lots, kept packed


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("columnar")
    return shortened(ROOT / "scenarios/us-office-domestic.yaml", tmp, days=5), tmp


@pytest.fixture(scope="module")
def formats(small):
    """(--format both folder, --format parquet --xlsx-rows 3 folder) of the small scenario."""
    scenario, tmp = small
    both, only = tmp / "both", tmp / "only"
    assert run_cli("run", str(scenario), "--out", str(both), "-q", "-w", "1", "--format", "both")[0] == 0
    assert run_cli("run", str(scenario), "--out", str(only), "-q", "-w", "1", "--format", "parquet",
                   "--xlsx-rows", "3")[0] == 0
    return both, only


def test_R12_cdr_rounding_is_what_the_csv_holds_in_every_format(formats):
    """summary.json `cdr_rounding` is totalled as the CDR is written, not read back: it must be the
    sum of the Charge and Connection Fee cells of cdr.csv as the csv module reads them, and a
    --format parquet run (no CSV) must give the same figures."""
    both, only = formats
    got = json.loads((both / "summary.json").read_text())["cdr_rounding"]["policies"]
    assert got and got == json.loads((only / "summary.json").read_text())["cdr_rounding"]["policies"]
    for policy, figures in got.items():
        with (both / policy / "cdr.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        total = sum(Decimal(r["Charge"] or "0") + Decimal(r["Connection Fee"] or "0") for r in rows)
        assert (figures["cdr_total"], figures["cdr_rows"]) == (f"{total:.2f}", len(rows))
        assert total > 0


def test_format_parquet_end_to_end(formats):
    """--format both: the Parquet files hold the CSVs' rows, typed; --format parquet writes no per-call
    CSV, and report.xlsx is still made (from the Parquet), with the head it was asked for."""
    both, only = formats
    for policy in (p.name for p in both.iterdir() if p.is_dir()):
        for name in ("cdr", "ledger", "disruptions"):
            table = pq.read_table(both / policy / f"{name}.parquet")
            with (both / policy / f"{name}.csv").open(newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            assert table.column_names == rows[0] and table.num_rows == len(rows) - 1
            assert not (only / policy / f"{name}.csv").exists()
            assert (only / policy / f"{name}.parquet").read_bytes() == (both / policy / f"{name}.parquet").read_bytes()
        cdr = pq.read_table(both / policy / "cdr.parquet")
        assert pa.types.is_decimal(cdr.schema.field("Charge").type)
        assert pa.types.is_timestamp(cdr.schema.field("Start Time").type)
        with (both / policy / "cdr.csv").open(newline="", encoding="utf-8") as f:
            first = next(iter(csv.DictReader(f)), None)
        if first:
            row = cdr.slice(0, 1).to_pylist()[0]
            assert str(row["Charge"]) == first["Charge"]
            assert row["Start Time"].strftime("%Y-%m-%dT%H:%M:%SZ") == first["Start Time"]
            wb = openpyxl.load_workbook(only / "report.xlsx", read_only=True)
            sheet = list(wb[f"{policy} cdr"].iter_rows(values_only=True))
            assert sheet[1][0] == first["UsageId"]
            assert len(sheet) == 1 + 3 + 1 and sheet[-1][0].startswith("only the first 3 rows")


def test_xlsx_rows_must_be_a_whole_number(small):
    scenario, tmp = small
    code, _, err = run_cli("run", str(scenario), "--out", str(tmp / "bad"), "-q", "--xlsx-rows", "-1")
    assert code == 2 and "--xlsx-rows" in err


def test_a_table_written_in_blocks_is_the_table_written_whole(tmp_path):
    """cdr.csv / .parquet are written a block of rows at a time (memory): same bytes, same rows."""
    n = 50
    table = pa.table({"id": guids(12345, np.arange(n)), "n": pa.array(range(n), pa.int64()),
                      "text": pa.array([f"a,{i}" if i % 7 == 0 else f"b{i}" for i in range(n)], pa.string()),
                      "money": money2(np.arange(n, dtype=np.int64) * 37 - 900)})
    from sim.outputs.tablefile import write_table
    (tmp_path / "whole").mkdir()
    (tmp_path / "blocks").mkdir()
    write_table(tmp_path / "whole", "t", table, "both")
    write_table(tmp_path / "blocks", "t", (table.slice(i, 8) for i in range(0, n, 8)), "both")
    assert (tmp_path / "blocks" / "t.csv").read_bytes() == (tmp_path / "whole" / "t.csv").read_bytes()
    assert pq.read_table(tmp_path / "blocks" / "t.parquet").equals(pq.read_table(tmp_path / "whole" / "t.parquet"))


def test_country_names_table_is_the_geocoders():
    """sim.inputs.countries.COUNTRY_NAMES (the CDR's "Country or region", kept as a table so a
    run does not import the geocoder's data) says what phonenumbers' geocoder says for every code."""
    import phonenumbers
    from phonenumbers import geocoder

    from sim.inputs.countries import COUNTRY_NAMES, ISO_3166_ALPHA2
    for code in sorted(ISO_3166_ALPHA2):
        ex = phonenumbers.example_number(code)
        assert COUNTRY_NAMES.get(code, "") == (geocoder.country_name_for_number(ex, "en") if ex else ""), code
