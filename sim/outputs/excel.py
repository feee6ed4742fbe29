"""report.xlsx: the results folder as one Excel workbook.

Sheets: `about` (what the run was), `comparison` (every summary.json metric per
policy: mean and 95 % CI half-width), then per policy `<policy> cdr` and
`<policy> ledger`, row for row the same as that policy's cdr.csv and ledger.csv
(a sheet that would pass Excel's 1,048,576-row limit continues in `<policy> cdr 2`, ...).

Numbers are written as numbers (durations, charges, amounts, balances, lot ids),
times as Excel date-times in UTC, and every text cell goes through
`sim.results.inert` so that a display name like `=HYPERLINK(...)` stays text.

The workbook is written with XlsxWriter, a well-kept library that knows the
SpreadsheetML package (parts, relationships, styles, defined names, escaping) so
this module doesn't have to. It runs in `constant_memory` mode: each row goes to a
temporary file as soon as the next one starts, so memory stays flat however big the
CDRs (strings are written inline instead of into a shared-string table, and rows
must be written in order, which is how this module writes them). Text is written
with `write_string` only, and the workbook's strings_to_formulas / _urls / _numbers
options are off, so no text is ever turned into a formula, link or number.
One exception is handled here: in constant_memory mode XlsxWriter writes a string
that starts with `<r>` and ends with `</r>` as raw rich-text XML (unescaped), so
such text is written as a two-run rich string, which XlsxWriter does escape.
The same run gives the same bytes: XlsxWriter fixes the zip entries' timestamps,
and the document's creation time is set to a constant.
The price is speed: XlsxWriter spends ~5 us a cell, ~6 s for the 1.1 million cells
of a 90-day, 3-policy run (the hand-written SpreadsheetML writer it replaced: 0.9 s).
"""
from __future__ import annotations

import itertools
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from sim.analysis.metrics import METRICS, MONEY

from .folder import inert
from .rounding import exact_mean, half_up
from .tablefile import head_rows

MAX_ROWS = 1_048_576            # Excel's rows per sheet, header included
HEAD_ROWS = 1_000               # rows of each per-call table copied by default (~5 us a cell: the
                                # workbook stays a fraction of a run; the files hold every row)
MAX_CELL_TEXT = 32_767          # Excel's characters (UTF-16 units) per cell
SHEET_NAME_MAX = 31             # also UTF-16 units
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
CREATED = datetime(1980, 1, 1)      # the document's creation time: fixed, so the bytes are reproducible
OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
           "strings_to_numbers": False}

# Cell formats (XlsxWriter Format properties) by name
FORMATS = {"datetime": {"num_format": "yyyy\\-mm\\-dd\\ hh:mm:ss"}, "money4": {"num_format": "0.0000"},
           "money2": {"num_format": "0.00"}, "header": {"bold": True}, "plain": {}}

# How each CSV column goes into a cell: 'time', 'int', 'money2', 'money4'; anything else is text.
CDR_TYPES = {"Start Time": "time", "End Time": "time", "Duration Seconds": "int",
             "Connection Fee": "money2", "Charge": "money2"}
LEDGER_TYPES = {"time": "time", "amount": "money4", "balance_after": "money4", "lot_id": "int"}

UNITS = {"minutes_lost": "minutes", "users_affected": "users", "hours_exhausted": "hours",
         "pool_minutes_used": "minutes", "recharges_succeeded": "recharges", "recharges_failed": "recharges",
         "notifications": "notifications", "prob_disruption": "share of replications"}


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    return xl_col_to_name(i)


def _utf16_cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 code units (Excel's measure), never inside a pair."""
    if len(text) <= limit // 2:
        return text
    units = text.encode("utf-16-le")
    if len(units) <= 2 * limit:
        return text
    return units[:2 * limit].decode("utf-16-le", errors="ignore")


def clean_text(value: str) -> str:
    """A text cell's content: formula-inert, XML-legal, within Excel's length limit."""
    return _utf16_cut(_ILLEGAL_XML.sub("\ufffd", inert(value)), MAX_CELL_TEXT)


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A legal, unique (case-insensitively, as Excel compares) sheet name of <= 31 characters."""
    base = _BAD_SHEET_CHARS.sub("_", wanted).strip("'") or "sheet"
    name = _utf16_cut(base, SHEET_NAME_MAX)
    n = 1
    while name.lower() in taken:
        n += 1
        tail = f"~{n}"
        name = _utf16_cut(base, SHEET_NAME_MAX - len(tail)) + tail
    taken.add(name.lower())
    return name


def policy_sheet_name(policy: str, what: str, taken: set[str]) -> str:
    """'<policy> <what>', the policy name shortened so that `what` always shows."""
    return sheet_name(f"{_utf16_cut(policy, SHEET_NAME_MAX - len(what) - 1)} {what}", taken)


def _utc_time(text: str) -> datetime | None:
    """'2026-01-05T14:03:00Z' -> naive datetime (UTC), or None if not that shape."""
    if len(text) != 20 or text[10] != "T" or text[19] != "Z":
        return None
    try:
        return datetime.fromisoformat(text[:19])
    except ValueError:
        return None


class _Sheet:
    """One worksheet, written row by row (constant_memory: rows must come in order)."""

    CACHE_LIMIT = 200_000        # distinct values remembered per column (ids repeat per increment)

    def __init__(self, report: "_Report", name: str, header: list[str], types: dict[str, str],
                 widths: list[float] | None = None):
        self.name = name
        self.header = header
        self.ws = report.book.add_worksheet(name)
        self._formats = report.formats
        self._kinds = [types.get(h, "text") for h in header]
        self._caches: list[dict] = [{} for _ in header]
        widths = widths or [max(10.0, min(60.0, len(h) * 1.1 + 2)) for h in header]
        for i, w in enumerate(widths):
            self.ws.set_column(i, i, w)
        self.ws.freeze_panes(1, 0)
        for c, h in enumerate(header):
            self.write_text(0, c, h, self._formats["header"])
        self.rows = 1

    def write_text(self, row: int, col: int, text: str, fmt=None) -> None:
        """A text cell: inert, and never formula / URL / number / raw XML."""
        text = clean_text(text)
        self._text_writer(text)(row, col, text, fmt)

    def _text_writer(self, text: str):
        """The method that writes clean `text` as it is: the worksheet's `write_string`, except for
        text that XlsxWriter would take for rich-text XML (below)."""
        if text.startswith("<r>") and text.endswith("</r>"):
            return self._write_rich
        return self.ws.write_string

    def _write_rich(self, row: int, col: int, text: str, fmt=None) -> None:
        """In constant_memory mode XlsxWriter writes a string that starts with `<r>` and ends with
        `</r>` into the sheet as raw rich-text XML, unescaped (a display name could smuggle in a
        formula that way). Such text goes in as two runs in the cell's font, which XlsxWriter
        escapes and Excel shows as the same text."""
        run = fmt if fmt is not None else self._formats["plain"]
        self.ws.write_rich_string(row, col, text[:1], run, text[1:], *([fmt] if fmt is not None else []))

    def _cell(self, kind: str, v: str) -> tuple:
        """CSV text -> (writer, value, format) by column kind ('time', 'int', 'money2', 'money4' or text)."""
        if kind == "time":
            t = _utc_time(v)
            if t is not None:
                return self.ws.write_datetime, t, self._formats["datetime"]
        elif kind in ("int", "money2", "money4") and _NUMBER.match(v):
            number = float(v) if "." in v else int(v)
            return self.ws.write_number, number, self._formats.get(kind)
        text = clean_text(v)
        return self._text_writer(text), text, None

    def add_csv_row(self, row: list[str]) -> None:
        """A CSV row: typed columns become numbers / date-times, the rest inert text."""
        r = self.rows
        for c, (kind, cache, v) in enumerate(zip(self._kinds, self._caches, row)):
            if v:
                cell = cache.get(v)
                if cell is None:
                    cell = self._cell(kind, v)
                    if len(cache) >= self.CACHE_LIMIT:
                        cache.clear()
                    cache[v] = cell
                write, value, fmt = cell
                write(r, c, value, fmt)
        self.rows += 1

    def add_values(self, values: list) -> None:
        """Python values: numbers (int, Decimal, float) as numbers, the rest as text."""
        r = self.rows
        for c, v in enumerate(values):
            if v is None or v == "":
                continue
            if isinstance(v, (int, Decimal, float)) and not isinstance(v, bool):
                self.ws.write_number(r, c, v)
            else:
                self.write_text(r, c, str(v))
        self.rows += 1

    def close(self) -> None:
        self.ws.autofilter(0, 0, max(self.rows, 1) - 1, len(self.header) - 1)


class _Report:
    """An XlsxWriter workbook in constant_memory mode: add sheets one after another, then close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.book = xlsxwriter.Workbook(str(self.path), OPTIONS)
        self.book.set_properties({"created": CREATED})
        self.formats = {k: self.book.add_format(v) for k, v in FORMATS.items()}
        self.sheets: list[_Sheet] = []
        self._taken: set[str] = set()

    def sheet(self, name: str, header: list[str], types: dict[str, str] | None = None,
              widths: list[float] | None = None, exact_name: bool = False) -> _Sheet:
        name = name if exact_name else sheet_name(name, self._taken)
        if exact_name:
            self._taken.add(name.lower())
        sh = _Sheet(self, name, header, types or {}, widths)
        self.sheets.append(sh)
        return sh

    def table_sheets(self, folder: Path, table: str, policy: str, what: str, types: dict[str, str],
                     head: int = 0) -> list[_Sheet]:
        """Copy a per-call table (its CSV, else its Parquet) into '<policy> <what>' sheets (more than
        one past Excel's row limit). With `head` > 0 only its first `head` rows, then a note row."""
        header, rows = head_rows(folder, table, head + 1 if head else None)
        first = list(itertools.islice(rows, 200))       # sizes the columns
        widths = [max([len(h)] + [len(r[i]) for r in first if i < len(r)]) * 1.1 + 2 for i, h in enumerate(header)]
        widths = [max(8.0, min(50.0, w)) for w in widths]
        out = []
        part = 1
        sh = None
        for n, row in enumerate(itertools.chain(first, rows)):
            if sh is None or sh.rows >= MAX_ROWS:
                label = what if part == 1 else f"{what} {part}"
                sh = self.sheet(policy_sheet_name(policy, label, self._taken), header, types, widths, exact_name=True)
                out.append(sh)
                part += 1
            if head and n == head:
                sh.add_values([f"only the first {head:,} rows are shown here: every row is in {policy}/{table}.csv "
                               "or .parquet"])
                break
            sh.add_csv_row(row)
        if sh is None:       # no data rows: still a sheet with the header
            out.append(self.sheet(policy_sheet_name(policy, what, self._taken), header, types, widths,
                                  exact_name=True))
        return out

    def close(self) -> None:
        for sh in self.sheets:
            if sh.header:
                sh.close()
        self.book.close()

    def abort(self) -> None:
        """After a failure: let XlsxWriter close (it also removes its temporary files); the caller
        deletes the half-written workbook."""
        try:
            self.book.close()
        except Exception:
            pass


# ---- the report ------------------------------------------------------------------------------

# per policy on the comparison sheet: an interval's ends, not only its half-width, because a
# skewed, clipped or Wilson interval is not symmetric about the mean (blank: no interval)
COMPARISON_COLUMNS = ("mean", "95% half-width", "95% low", "95% high")


def _paired_sheet(wb: _Report, comparisons: dict) -> None:
    if not comparisons:
        return
    sh = wb.sheet("vs baseline", ["policy", "metric", "difference", "95% half-width", "95% low", "95% high", "p-value",
                                  "Holm p", "significant"], widths=[24, 30, 14, 14, 14, 14, 10, 10, 12])
    for name, per_metric in comparisons.items():
        for m, c in per_metric.items():
            sh.add_values([name, m, *(Decimal(c[k]) for k in ("diff_mean", "half_width", "ci95_low", "ci95_high")),
                           c["p_value"], c["p_holm"], "yes" if c["significant"] else "no"])


def _monthly_sheet(wb: _Report, monthly: dict) -> None:
    if not monthly:
        return
    sh = wb.sheet("monthly", ["policy", "month", "spent", "spent P50", "spent P95", "expired", "purchased",
                              "disruptions", "hours exhausted", "hours P50", "hours P95"],
                  widths=[24, 10] + [14] * 9)
    for name, rows in monthly.items():
        for r in rows:
            sh.add_values([name, r["month"], *(Decimal(r["spent"][k]) for k in ("mean", "p50", "p95")),
                           Decimal(r["expired"]["mean"]), Decimal(r["purchased"]["mean"]),
                           Decimal(r["disruptions"]["mean"]),
                           *(Decimal(r["hours_exhausted"][k]) for k in ("mean", "p50", "p95"))])


def write_report(folder: Path, doc: dict, policy_names: list[str], head: int = HEAD_ROWS) -> Path:
    """Write folder/report.xlsx from summary `doc` and the policies' cdr / ledger tables: the first
    `head` rows of each (0: all of them)."""
    folder = Path(folder)
    path = folder / "report.xlsx"
    summary = doc["policies"]
    scenario = doc.get("scenario", {})
    currency = scenario.get("currency", "")
    wb = _Report(path)
    try:
        about = wb.sheet("about", ["item", "value"], widths=[24, 90])
        reps = doc.get("replications")
        for item, value in [
            ("scenario", scenario.get("name", "")),
            ("start (UTC)", str(scenario.get("start", ""))),
            ("days", scenario.get("days", "")),
            ("currency", currency),
            ("seed", doc.get("seed", "")),
            ("replications", reps),
            ("policies", ", ".join(policy_names)),
            ("rates", scenario.get("rates") if isinstance(scenario.get("rates"), str) else "inline in the scenario"),
            ("version", (doc.get("versions") or {}).get("pstn-credits-sim", "")),
            ("comparison", "every summary.json metric per policy: mean, 95 % CI half-width (0 with one "
                           "replication) and the interval's ends (blank: none; read the ends, an interval "
                           "need not be symmetric); money rounded half-up to 2 decimals from the exact "
                           "mean, as in the comparison table (summary.json keeps 4 decimals)"),
            ("vs baseline", f"each policy minus the baseline {doc.get('baseline', '')}, paired over the "
                            "replications: mean difference, 95 % half-width and ends, p-value, Holm-adjusted p"),
            ("monthly", "per policy and calendar month: credits spent, expired, purchased, disruptions and hours "
                        "exhausted, means over the replications; spent and hours also P50 and P95"),
            ("<policy> cdr", "the policy's cdr.csv (replication 0): PSTN usage report, times in UTC; Charge and "
                             "Connection Fee rounded half-up to 2 decimals as in Teams' export"),
            ("<policy> ledger", "the policy's ledger.csv (replication 0): the credit journal, exact to 4 decimals"),
            ("rows shown", f"the first {head:,} rows of each cdr / ledger table (the CSV or Parquet files hold "
                           "every row)" if head else "every row"),
            ("note", "rates are illustrative unless the scenario brings its own rate card"),
        ]:
            about.add_values([item, value])

        header = ["metric", "unit"]
        for name in policy_names:
            header += [f"{name} {h}" for h in COMPARISON_COLUMNS]
        comp = wb.sheet("comparison", header, widths=[22, 12] + [16] * (len(COMPARISON_COLUMNS) * len(policy_names)))
        for m in METRICS:
            row: list = [m, currency if m in MONEY else UNITS.get(m, "calls")]
            for name in policy_names:
                stat = summary[name][m]
                # the table's figures: money half-up to cents (the mean from the exact values)
                figure = half_up if m in MONEY else Decimal
                row += [figure(exact_mean(stat) if m in MONEY else stat["mean"]), figure(stat["ci95_half_width"]),
                        *(None if stat.get(k) is None else figure(stat[k]) for k in ("ci95_low", "ci95_high"))]
            comp.add_values(row)
        _paired_sheet(wb, doc.get("comparisons") or {})
        _monthly_sheet(wb, doc.get("monthly") or {})

        for name in policy_names:
            wb.table_sheets(folder / name, "cdr", name, "cdr", CDR_TYPES, head)
            wb.table_sheets(folder / name, "ledger", name, "ledger", LEDGER_TYPES, head)
        wb.close()
    except BaseException:
        wb.abort()
        path.unlink(missing_ok=True)
        raise
    return path
