"""The pictures and the workbook of a results folder open and hold what they claim.

PNGs: a real PNG of the stated size (header parsed by hand, pixels read back by
matplotlib), and figures whose artists carry the ledger's and the summary's numbers.
report.xlsx: read back with openpyxl: sheet names legal and unique, each policy's
cdr / ledger sheet row for row its CSV, numbers as numbers, the comparison sheet equal
to summary.json.
"""
from __future__ import annotations

import csv
import json
import struct
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from sim.outputs import excel
from tests.test_examples import ROOT, run_quiet, shortened

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which the PNG spec puts first."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """us-office-domestic over 10 days, 2 replications: one policy runs dry, one recharges."""
    tmp = tmp_path_factory.mktemp("outputs")

    def edit(data):
        data["policies"][0]["initial_funds"] = 40.00          # one-time: runs dry within days
        data["policies"][1]["initial_funds"] = 60.00
        data["policies"][1]["auto_recharge"] = {"trigger": 30.00, "amount": 40.00}

    scenario = shortened(ROOT / "scenarios/us-office-domestic.yaml", tmp, days=10, edit=edit)
    out = tmp / "out"
    assert run_quiet(scenario, out, "-r", "2") == 0
    return out, scenario


def policies(out: Path) -> list[str]:
    return list(json.loads((out / "summary.json").read_text())["policies"])


# ---- PNG ---------------------------------------------------------------------------------

def test_pngs_are_pngs_of_the_stated_size(results):
    import matplotlib.image as mpimg
    out, _ = results
    files = [out / "comparison.png", out / "monthly.png"] + [out / p / "balance.png" for p in policies(out)]
    for path in files:
        width, height = png_size(path)
        pixels = mpimg.imread(path)
        assert pixels.shape[:2] == (height, width)
        assert pixels[..., :3].std() > 0.05, f"{path} looks blank"
    assert png_size(out / policies(out)[0] / "balance.png") == (1100, 650)
    assert png_size(out / "comparison.png")[0] == 1200
    assert png_size(out / "monthly.png") == (1100, 850)


@pytest.fixture(scope="module")
def simulated(results):
    """Replication 0 of every policy of the results fixture, re-simulated in process."""
    from sim.commands.load import load
    from sim.parallel.runner import attempts_for, Job, payment_seed
    from sim.engine.loop import simulate
    _, scenario = results
    sc, world, replay = load(scenario, None)
    job = Job(world, sc.seed, replay, None)
    attempts = attempts_for(job, 0)
    runs = {p.name: simulate(world, p, attempts, payment_seed(sc.seed, 0)) for p in world.policies}
    return world, attempts, runs


def _by_gid(fig, gid):
    return [a for a in fig.findobj() if a.get_gid() == gid]


def test_balance_figure_draws_the_ledger(simulated, results):
    """The balance line ends at the final balance; markers count the journal's purchases,
    recharges and expiries; the disruption bars add up to blocked + cut (R7, R8, R11)."""
    from sim.outputs.plots import balance_figure
    world, attempts, runs = simulated
    out, _ = results
    for name, run in runs.items():
        fig = balance_figure(world, attempts, run)
        (line,) = _by_gid(fig, "balance")
        journal = run.account.ledger.journal
        assert line.get_ydata()[-1] == pytest.approx(run.account.ledger.balance / 10_000)
        assert max(line.get_ydata()) == pytest.approx(max([0] + [e[3] / 10_000 for e in journal]))
        scatter = {g: sum(len(c.get_offsets()) for c in _by_gid(fig, g))
                   for g in ("purchases", "recharges", "recharge_failed", "expiries")}
        purchases = [e for e in journal if e[1] == "purchase"]
        assert scatter["purchases"] + scatter["recharges"] == len(purchases)
        assert scatter["recharges"] == (run.account.recharge.succeeded if run.account.recharge else 0)
        assert scatter["recharge_failed"] == sum(1 for n in run.account.notifications if n[1] == "recharge_failed")
        assert scatter["expiries"] == sum(1 for e in journal if e[1] == "expire")
        bars = sum(p.get_height() for p in _by_gid(fig, "blocked")) + sum(p.get_height() for p in _by_gid(fig, "cut"))
        assert bars == run.account.blocked + run.account.cut
        assert bars == len(csv_rows(out / name / "disruptions.csv")) - 1
        assert bool(_by_gid(fig, "trigger")) == (run.policy.auto_recharge is not None)
    one_time = runs["one-time-500"]
    assert one_time.account.blocked > 0, "the fixture's one-time policy should run dry"
    assert _by_gid(balance_figure(world, attempts, one_time), "exhausted")


def test_comparison_figure_holds_the_summary(results, simulated):
    """Bars are the summary's means: disruptions by funding = blocked + cut by funding, spent, expired."""
    from sim.outputs.plots import comparison_figure, disruption_stat
    out, _ = results
    world, _, _ = simulated
    summary = json.loads((out / "summary.json").read_text())["policies"]
    fig = comparison_figure(world, summary)
    names = list(summary)
    widths = {g: [p.get_width() for p in _by_gid(fig, g)] for g in ("disruptions", "spent", "expired")}
    assert widths["spent"] == pytest.approx([float(summary[n]["credits_spent"]["mean"]) for n in names])
    assert widths["expired"] == pytest.approx([float(summary[n]["credits_expired"]["mean"]) for n in names])
    expect = [float(summary[n]["calls_blocked_funding"]["mean"]) + float(summary[n]["calls_cut_funding"]["mean"])
              for n in names]
    assert widths["disruptions"] == pytest.approx(expect)
    stat = disruption_stat(summary, names[0])
    assert len(stat["replications"]) == 2 and float(stat["mean"]) == pytest.approx(expect[0])


def test_comparison_figure_error_bars_span_the_tables_interval(simulated):
    """An asymmetric interval (Hall's, of skewed values; clipped at 0) is drawn from its low end
    to its high end, not as mean ± half-width, and labelled as the table shows it."""
    from sim.analysis.summary import interval_json
    from sim.outputs.plots import comparison_figure
    world, _, _ = simulated
    skewed = [Decimal(0)] * 8 + [Decimal(3), Decimal(40)]       # 4.3 (0–32.9131)
    plain = [Decimal(v) for v in (5, 6, 7, 5, 6, 7, 5, 6, 7, 6)]
    stat = {m: interval_json(m, plain) for m in ("calls_blocked", "calls_blocked_funding", "calls_cut_funding",
                                                 "credits_expired")}
    summary = {"p": stat | {"credits_spent": interval_json("credits_spent", skewed)}}
    assert summary["p"]["credits_spent"]["ci_method"] == "hall"
    fig = comparison_figure(world, summary)
    spent = next(ax for ax in fig.axes if ax.get_title().startswith("Credits spent"))
    from matplotlib.container import ErrorbarContainer
    error_bar = next(c for c in spent.containers if isinstance(c, ErrorbarContainer))
    (segment,) = error_bar.lines[2][0].get_segments()
    assert [x for x, _ in segment] == pytest.approx([0.0, 32.9131])
    labels = [t.get_text() for t in spent.texts]
    assert labels == ["4.30 (0.00–32.91)"]


# ---- XLSX --------------------------------------------------------------------------------

def test_report_sheets_are_named_legally_and_uniquely(results):
    out, _ = results
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    expected = ["about", "comparison", "vs baseline", "monthly"]
    for p in policies(out):
        expected += [f"{p} cdr", f"{p} ledger"]
    assert wb.sheetnames == expected
    assert all(len(n) <= 31 for n in wb.sheetnames)
    assert len({n.lower() for n in wb.sheetnames}) == len(wb.sheetnames)


def test_report_monthly_and_baseline_sheets_are_the_summary(results):
    out, _ = results
    doc = json.loads((out / "summary.json").read_text())
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    monthly = list(wb["monthly"].iter_rows(values_only=True))[1:]
    want = [(name, r["month"], r["spent"]["mean"], r["spent"]["p95"], r["hours_exhausted"]["p50"])
            for name, rows in doc["monthly"].items() for r in rows]
    assert [(r[0], r[1], Decimal(str(r[2])), Decimal(str(r[4])), Decimal(str(r[9]))) for r in monthly] == [
        (n, m, Decimal(a), Decimal(b), Decimal(c)) for n, m, a, b, c in want]
    paired = list(wb["vs baseline"].iter_rows(values_only=True))[1:]
    assert [(r[0], r[1], *(Decimal(str(x)) for x in r[2:6]), r[8]) for r in paired] == [
        (n, m, *(Decimal(c[k]) for k in ("diff_mean", "half_width", "ci95_low", "ci95_high")),
         "yes" if c["significant"] else "no")
        for n, per in doc["comparisons"].items() for m, c in per.items()]


def test_report_sheets_are_the_csvs_row_for_row(results):
    """Each sheet is its CSV's first HEAD_ROWS rows, then (only if the CSV has more) a note."""
    out, _ = results
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    head = excel.HEAD_ROWS
    truncated = 0
    for p in policies(out):
        for what in ("cdr", "ledger"):
            rows = csv_rows(out / p / f"{what}.csv")
            sheet = list(wb[f"{p} {what}"].iter_rows(values_only=True))
            shown = rows[1:head + 1]
            cut = len(rows) - 1 > head
            truncated += cut
            assert len(sheet) == 1 + len(shown) + cut, f"{p} {what}"
            if cut:
                assert sheet[-1][0].startswith(f"only the first {head:,} rows") and f"{p}/{what}.csv" in sheet[-1][0]
            assert list(sheet[0]) == rows[0]
            col = {h: i for i, h in enumerate(rows[0])}
            for got, want in zip(sheet[1:1 + len(shown)], shown):
                if what == "cdr":
                    assert got[col["UsageId"]] == want[col["UsageId"]]
                    assert got[col["Duration Seconds"]] == int(want[col["Duration Seconds"]])
                    assert Decimal(str(got[col["Charge"]])) == Decimal(want[col["Charge"]])
                    assert got[col["Start Time"]] == datetime.strptime(want[col["Start Time"]], "%Y-%m-%dT%H:%M:%SZ")
                    assert got[col["Caller ID"]] == want[col["Caller ID"]]          # +1... stays text
                else:
                    assert isinstance(got[col["amount"]], (int, float))
                    assert Decimal(str(got[col["balance_after"]])) == Decimal(want[col["balance_after"]])
                    assert got[col["kind"]] == want[col["kind"]]
                    assert (got[col["usage_id"]] or "") == want[col["usage_id"]]
    assert truncated, "the fixture should have a table longer than the head"


def test_report_comparison_sheet_is_the_summary(results):
    out, _ = results
    summary = json.loads((out / "summary.json").read_text())["policies"]
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    rows = list(wb["comparison"].iter_rows(values_only=True))
    names = list(summary)
    assert rows[0][:2] == ("metric", "unit")
    assert list(rows[0][2:]) == [f"{n} {h}" for n in names for h in ("mean", "95% half-width", "95% low", "95% high")]
    from sim.analysis.metrics import METRICS
    assert [r[0] for r in rows[1:]] == list(METRICS)
    from sim.analysis.metrics import MONEY
    from sim.outputs.rounding import exact_mean, half_up
    for r in rows[1:]:
        for k, n in enumerate(names):
            stat = summary[n][r[0]]
            mean, half, low, high = r[2 + 4 * k:6 + 4 * k]
            # the table's figures (R1: money half-up to cents from the exact mean)
            figure = half_up if r[0] in MONEY else Decimal
            assert Decimal(str(mean)) == figure(exact_mean(stat) if r[0] in MONEY else stat["mean"])
            assert Decimal(str(half)) == figure(stat["ci95_half_width"])
            for cell, key in ((low, "ci95_low"), (high, "ci95_high")):
                assert (cell is None) == (stat[key] is None)
                assert cell is None or Decimal(str(cell)) == figure(stat[key])
    about = dict(wb["about"].iter_rows(values_only=True))
    assert about["scenario"] == "us-office-domestic" and about["replications"] == 2


def test_table_workbook_and_picture_show_the_same_money(results, simulated):
    """Issue 12 / R1: one rounding rule. Every money cell of the comparison table (spent,
    expired, ...) equals the workbook's comparison sheet and comparison.png's bar label."""
    from sim.outputs.plots import comparison_figure
    from sim.outputs.rounding import exact_mean, half_up
    from sim.outputs.table import TABLE_METRICS, comparison_table, interval_cell
    out, _ = results
    world, _, _ = simulated
    summary = json.loads((out / "summary.json").read_text())["policies"]
    names = list(summary)
    table = comparison_table(summary)
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in table.splitlines()[2:] if line.startswith("|")}
    labels = [m for m, _ in TABLE_METRICS]
    sheet = {r[0]: r for r in openpyxl.load_workbook(out / "report.xlsx", read_only=True)["comparison"]
             .iter_rows(values_only=True)}
    fig = comparison_figure(world, summary)
    for metric, gid in (("credits_spent", "spent"), ("credits_expired", "expired")):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == f"{gid}-label"]
        for k, n in enumerate(names):
            cell = rows[n][labels.index(metric)]
            assert cell == interval_cell(summary[n][metric], True) == texts[k]
            mean_text = cell.split(" ")[0]
            assert Decimal(mean_text) == Decimal(str(sheet[metric][2 + 4 * k])) == half_up(exact_mean(summary[n][metric]))


def test_report_is_byte_for_byte_reproducible(results, tmp_path):
    out, _ = results
    doc = json.loads((out / "summary.json").read_text())
    a = excel.write_report(out, doc, list(doc["policies"])).read_bytes()
    b = excel.write_report(out, doc, list(doc["policies"])).read_bytes()
    assert a == b == (out / "report.xlsx").read_bytes()
    with zipfile.ZipFile(out / "report.xlsx") as z:
        assert z.testzip() is None
        assert "<f>" not in z.read("xl/worksheets/sheet3.xml").decode()      # never a formula


def test_a_sheet_past_excels_row_limit_continues_in_the_next(tmp_path, monkeypatch):
    policy = tmp_path / "p"
    policy.mkdir()
    rows = [[f"u{i}", str(i)] for i in range(25)]
    for name in ("cdr", "ledger"):
        with (policy / f"{name}.csv").open("w", newline="") as f:
            csv.writer(f).writerows([["UsageId", "Duration Seconds"]] + rows)
    monkeypatch.setattr(excel, "MAX_ROWS", 10)          # 9 data rows a sheet
    doc = {"policies": {"p": {m: {"mean": "0", "ci95_half_width": "0"} for m in excel.METRICS}}}
    wb = openpyxl.load_workbook(excel.write_report(tmp_path, doc, ["p"]), read_only=True)
    assert wb.sheetnames == ["about", "comparison", "p cdr", "p cdr 2", "p cdr 3", "p ledger", "p ledger 2",
                             "p ledger 3"]
    data = [r for n in ("p cdr", "p cdr 2", "p cdr 3") for r in list(wb[n].iter_rows(values_only=True))[1:]]
    assert [list(r) for r in data] == [[u, int(d)] for u, d in rows]


@pytest.mark.parametrize("names", [
    ["a" * 80, "a" * 80 + "b", "a" * 79],                 # long names sharing their first 26 characters
    ["Sales", "sales"],                                    # Excel compares sheet names case-insensitively
])
def test_sheet_names_stay_unique_and_short(names):
    taken = {"about", "comparison"}
    got = [excel.policy_sheet_name(n, w, taken) for n in names for w in ("cdr", "ledger")]
    assert all(len(g) <= 31 for g in got)
    assert len({g.lower() for g in got}) == len(got)
    assert all(g.endswith(("cdr", "ledger")) or "~" in g for g in got)


def test_cell_text_is_xml_legal():
    assert excel.clean_text("a\x00b\x1fc") == "a\ufffdb\ufffdc"
    assert len(excel.clean_text("x" * 40_000)) == excel.MAX_CELL_TEXT
    assert excel.column_letter(0) == "A" and excel.column_letter(25) == "Z" and excel.column_letter(26) == "AA"


def test_png_header_parser_rejects_non_png(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"GIF89a" + bytes(30))
    with pytest.raises(AssertionError):
        png_size(bad)


# ---- the command line around the results folder --------------------------------------------

def _cli(*argv) -> tuple[int, str, str]:
    import contextlib
    import io
    from sim.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    return shortened(ROOT / "scenarios/replay-example/replay-january.yaml", tmp)


def test_run_says_where_the_results_are_last(tiny, tmp_path):
    code, out, err = _cli("run", str(tiny), "--out", str(tmp_path / "r"), "-w", "1")
    assert code == 0
    assert out.rstrip().splitlines()[-1].startswith(f"results written to {tmp_path / 'r'}/ (")
    assert "| policy " in out


def test_quiet_prints_nothing_and_verbose_prints_the_steps(tiny, tmp_path):
    code, out, err = _cli("-q", "run", str(tiny), "--out", str(tmp_path / "q"))
    assert (code, out, err) == (0, "", "")
    code, out, err = _cli("run", "-v", str(tiny), "--out", str(tmp_path / "v"))
    assert code == 0
    for step in ("loaded", "simulated", "summary.json", "comparison.png", "report.xlsx"):
        assert step in err
    assert (tmp_path / "v" / "comparison.png").is_file() and (tmp_path / "v" / "report.xlsx").is_file()
    code, out, err = _cli("validate", "-q", str(tiny))
    assert (code, out) == (0, "")


def test_quiet_and_verbose_together_is_a_usage_error(tiny):
    with pytest.raises(SystemExit) as e:
        _cli("-q", "-v", "validate", str(tiny))
    assert e.value.code == 2


def test_out_refuses_to_replace_a_folder_that_is_not_a_results_folder(tiny, tmp_path):
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "budget.xlsx").write_text("mine")
    code, out, err = _cli("run", str(tiny), "--out", str(precious))
    assert code == 2 and "--out" in err and "not a results folder" in err
    assert [p.name for p in precious.iterdir()] == ["budget.xlsx"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, out, err = _cli("run", str(tiny), "--out", str(a_file))
    assert code == 2 and a_file.read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _cli("-q", "run", str(tiny), "--out", str(empty))[0] == 0
    assert _cli("-q", "run", str(tiny), "--out", str(empty))[0] == 0        # an earlier results folder: replaced
    assert (empty / "report.xlsx").is_file()


def test_help_explains_every_option():
    from sim.cli import build_parser
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for p in [parser, *subparsers.values()]:
        for action in p._actions:
            if action.dest not in ("help", "command"):
                assert action.help and len(action.help) > 10, f"{p.prog}: {action.option_strings or action.dest}"
