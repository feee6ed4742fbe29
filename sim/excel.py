"""report.xlsx: the results folder as one Excel workbook.

Sheets: `about` (what the run was), `comparison` (every summary.json metric per
policy: mean and 95 % CI half-width), then per policy `<policy> cdr` and
`<policy> ledger`, row for row the same as that policy's cdr.csv and ledger.csv
(a sheet that would pass Excel's 1,048,576-row limit continues in `<policy> cdr 2`, ...).

Numbers are written as numbers (durations, charges, amounts, balances, lot ids),
times as Excel date-times in UTC, and every text cell goes through
`sim.results.inert` so that a display name like `=HYPERLINK(...)` stays text.

The workbook is written directly as SpreadsheetML (a zip of XML parts), streamed
row by row: openpyxl, which the tests use to read it back, needs ~6x longer for the
same cells (8 s for a 90-day, 3-policy run), and a results folder should be ready as
fast as its CSVs. Entries carry a fixed timestamp, so the same run gives the same bytes.
"""
from __future__ import annotations

import csv
import itertools
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .metrics import METRICS, MONEY
from .results import inert

MAX_ROWS = 1_048_576            # Excel's rows per sheet, header included
MAX_CELL_TEXT = 32_767          # Excel's characters per cell
SHEET_NAME_MAX = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_EPOCH = date(1899, 12, 30).toordinal()     # Excel's day 0 (1900 date system)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 1               # deflate: level 1 is ~3x faster than 6 and ~25 % bigger

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# cellXfs indexes in STYLES
GENERAL, DATETIME, MONEY4, MONEY2, HEADER = 0, 1, 2, 3, 4
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{NS_MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/><numFmt numFmtId="165" formatCode="0.0000"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""

# How each CSV column goes into a cell: 'time', 'int', 'money2', 'money4'; anything else is text.
CDR_TYPES = {"Start Time": "time", "End Time": "time", "Duration Seconds": "int",
             "Connection Fee": "money2", "Charge": "money2"}
LEDGER_TYPES = {"time": "time", "amount": "money4", "balance_after": "money4", "lot_id": "int"}

UNITS = {"minutes_lost": "minutes", "users_affected": "users", "hours_exhausted": "hours",
         "pool_minutes_used": "minutes", "recharges_succeeded": "recharges", "recharges_failed": "recharges",
         "notifications": "notifications"}


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def clean_text(value: str) -> str:
    """A text cell's content: formula-inert, XML-legal, within Excel's length limit."""
    return _ILLEGAL_XML.sub("\ufffd", inert(value))[:MAX_CELL_TEXT]


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A legal, unique (case-insensitively, as Excel compares) sheet name of <= 31 characters."""
    base = _BAD_SHEET_CHARS.sub("_", wanted).strip("'") or "sheet"
    name = base[:SHEET_NAME_MAX]
    n = 1
    while name.lower() in taken:
        n += 1
        tail = f"~{n}"
        name = base[:SHEET_NAME_MAX - len(tail)] + tail
    taken.add(name.lower())
    return name


def policy_sheet_name(policy: str, what: str, taken: set[str]) -> str:
    """'<policy> <what>', the policy name shortened so that `what` always shows."""
    return sheet_name(f"{policy[:SHEET_NAME_MAX - len(what) - 1]} {what}", taken)


def _excel_time(text: str, cache: dict) -> str | None:
    """'2026-01-05T14:03:00Z' -> Excel serial date-time (UTC), or None if not that shape."""
    if len(text) != 20 or text[10] != "T" or text[19] != "Z":
        return None
    day = cache.get(text[:10])
    if day is None:
        try:
            day = cache[text[:10]] = date.fromisoformat(text[:10]).toordinal() - _EPOCH
        except ValueError:
            return None
    try:
        secs = int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19])
    except ValueError:
        return None
    return repr(day + secs / 86400)


def _zip_info(name: str) -> zipfile.ZipInfo:
    """A deflated entry with a fixed timestamp: the same workbook gives the same bytes."""
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = COMPRESS_LEVEL       # ZipFile.open(ZipInfo) ignores the archive's level
    return info


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


def text_tail(value: str, style: int = GENERAL) -> str:
    """A text cell's XML after its `<c r="A1`: formula-inert, escaped, whitespace kept."""
    text = escape(clean_text(value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'"{_style(style)} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def number_tail(text: str, style: int = GENERAL) -> str:
    return f'"{_style(style)}><v>{text}</v></c>'


def _converter(kind: str, days: dict):
    """CSV text -> cell XML tail, by column kind ('time', 'int', 'money2', 'money4' or text)."""
    if kind == "time":
        def conv(v):
            serial = _excel_time(v, days)
            return number_tail(serial, DATETIME) if serial is not None else text_tail(v)
    elif kind in ("int", "money2", "money4"):
        style = {"int": GENERAL, "money2": MONEY2, "money4": MONEY4}[kind]

        def conv(v):
            return number_tail(v, style) if _NUMBER.match(v) else text_tail(v)
    else:
        conv = text_tail
    return conv


class _Sheet:
    """One worksheet being streamed into the zip, row by row."""

    CACHE_LIMIT = 200_000        # distinct values remembered per column (ids repeat per increment)

    def __init__(self, zf: zipfile.ZipFile, index: int, name: str, header: list[str], types: dict[str, str],
                 widths: list[float] | None = None):
        self.name = name
        self.index = index
        self.header = header
        self.letters = [column_letter(i) for i in range(len(header))]
        self._prefixes = [f'<c r="{x}' for x in self.letters]
        days: dict = {}
        self._convs = [_converter(types.get(h, "text"), days) for h in header]
        self._caches: list[dict] = [{} for _ in header]
        self.rows = 0
        self._out = zf.open(_zip_info(f"xl/worksheets/sheet{index}.xml"), "w")
        self._buf: list[str] = []
        widths = widths or [max(10.0, min(60.0, len(h) * 1.1 + 2)) for h in header]
        cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w:.1f}" customWidth="1"/>'
                       for i, w in enumerate(widths))
        selected = ' tabSelected="1"' if index == 1 else ""
        self._buf.append(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}" '
            f'xmlns:r="{NS_REL}"><sheetViews><sheetView workbookViewId="0"{selected}>'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')
        self._append_tails([text_tail(h, HEADER) for h in header])

    def _append_tails(self, tails) -> None:
        """A row from each cell's XML tail (None: an empty cell)."""
        self.rows += 1
        rs = str(self.rows)
        parts = ['<row r="', rs, '">']
        for prefix, tail in zip(self._prefixes, tails):
            if tail is not None:
                parts += (prefix, rs, tail)
        parts.append("</row>")
        self._buf.append("".join(parts))
        if len(self._buf) >= 4000:
            self._flush()

    def add_csv_row(self, row: list[str]) -> None:
        """A CSV row: typed columns become numbers / date-times, the rest inert text."""
        self.rows += 1
        rs = str(self.rows)
        parts = ['<row r="', rs, '">']
        for prefix, cache, conv, v in zip(self._prefixes, self._caches, self._convs, row):
            if v:
                tail = cache.get(v)
                if tail is None:
                    tail = conv(v)
                    if len(cache) >= self.CACHE_LIMIT:
                        cache.clear()
                    cache[v] = tail
                parts += (prefix, rs, tail)
        parts.append("</row>")
        self._buf.append("".join(parts))
        if len(self._buf) >= 4000:
            self._flush()

    def add_values(self, values: list) -> None:
        """Python values: numbers (int, Decimal, float) as numbers, the rest as text."""
        tails = []
        for v in values:
            if v is None or v == "":
                tails.append(None)
            elif isinstance(v, bool):
                tails.append(text_tail(str(v)))
            elif isinstance(v, (int, Decimal)):
                tails.append(number_tail(str(v)))
            elif isinstance(v, float):
                tails.append(number_tail(repr(v)))
            else:
                tails.append(text_tail(str(v)))
        self._append_tails(tails)

    def _flush(self) -> None:
        if self._buf:
            self._out.write("".join(self._buf).encode("utf-8"))
            self._buf = []

    def close(self) -> None:
        last = f"{self.letters[-1]}{max(self.rows, 1)}"
        self._buf.append(f'</sheetData><autoFilter ref="A1:{last}"/>'
                         '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                         '</worksheet>')
        self._flush()
        self._out.close()


class Workbook:
    """A streaming .xlsx writer: add sheets one after another, then close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._zf = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self.sheets: list[_Sheet] = []
        self._taken: set[str] = set()
        self._open: _Sheet | None = None

    def sheet(self, name: str, header: list[str], types: dict[str, str] | None = None,
              widths: list[float] | None = None, exact_name: bool = False) -> _Sheet:
        if self._open is not None:
            self._open.close()
        name = name if exact_name else sheet_name(name, self._taken)
        if exact_name:
            self._taken.add(name.lower())
        sh = _Sheet(self._zf, len(self.sheets) + 1, name, header, types or {}, widths)
        self.sheets.append(sh)
        self._open = sh
        return sh

    def csv_sheets(self, csv_path: Path, policy: str, what: str, types: dict[str, str]) -> list[_Sheet]:
        """Copy a CSV into '<policy> <what>' sheets (more than one past Excel's row limit)."""
        out = []
        with Path(csv_path).open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None) or []
            first = list(itertools.islice(reader, 200))       # sizes the columns
            widths = [max([len(h)] + [len(r[i]) for r in first if i < len(r)]) * 1.1 + 2 for i, h in enumerate(header)]
            widths = [max(8.0, min(50.0, w)) for w in widths]
            part = 1
            sh = None
            for row in itertools.chain(first, reader):
                if sh is None or sh.rows >= MAX_ROWS:
                    label = what if part == 1 else f"{what} {part}"
                    sh = self.sheet(policy_sheet_name(policy, label, self._taken), header, types, widths,
                                    exact_name=True)
                    out.append(sh)
                    part += 1
                sh.add_csv_row(row)
            if sh is None:       # no data rows: still a sheet with the header
                out.append(self.sheet(policy_sheet_name(policy, what, self._taken), header, types, widths,
                                      exact_name=True))
        return out

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None
        n = len(self.sheets)
        sheets = "".join(f'<sheet name={quoteattr(s.name)} sheetId="{s.index}" r:id="rId{s.index}"/>'
                         for s in self.sheets)
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.index - 1}" hidden="1">'
            f"{escape(_quote_sheet(s.name))}!$A$1:${s.letters[-1]}${max(s.rows, 1)}</definedName>"
            for s in self.sheets)
        self._part("xl/workbook.xml",
                   f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{NS_MAIN}" '
                   f'xmlns:r="{NS_REL}"><bookViews><workbookView activeTab="0"/></bookViews>'
                   f'<sheets>{sheets}</sheets><definedNames>{names}</definedNames></workbook>')
        rels = "".join(f'<Relationship Id="rId{s.index}" Type="{NS_REL}/worksheet" '
                       f'Target="worksheets/sheet{s.index}.xml"/>' for s in self.sheets)
        rels += f'<Relationship Id="rId{n + 1}" Type="{NS_REL}/styles" Target="styles.xml"/>'
        self._part("xl/_rels/workbook.xml.rels",
                   f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f'<Relationships xmlns="{NS_PKG_REL}">{rels}</Relationships>')
        self._part("xl/styles.xml", STYLES)
        self._part("_rels/.rels",
                   f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_REL}">'
                   f'<Relationship Id="rId1" Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
                   f'</Relationships>')
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{s.index}.xml" ContentType="{CT_SHEET}"/>'
                            for s in self.sheets)
        self._part("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/styles.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                   f'{overrides}</Types>')
        self._zf.close()

    def _part(self, name: str, text: str) -> None:
        self._zf.writestr(_zip_info(name), text.encode("utf-8"))

    def abort(self) -> None:
        try:
            if self._open is not None:
                self._open._out.close()
        finally:
            self._zf.close()


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# ---- the report ------------------------------------------------------------------------------

def write_report(folder: Path, doc: dict, policy_names: list[str]) -> Path:
    """Write folder/report.xlsx from summary `doc` and the policies' cdr.csv / ledger.csv."""
    folder = Path(folder)
    path = folder / "report.xlsx"
    summary = doc["policies"]
    scenario = doc.get("scenario", {})
    currency = scenario.get("currency", "")
    wb = Workbook(path)
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
            ("comparison", "every summary.json metric per policy: mean and 95 % CI half-width "
                           "(Student t over the replications; 0 with one replication)"),
            ("<policy> cdr", "the policy's cdr.csv (replication 0): PSTN usage report, times in UTC; Charge and "
                             "Connection Fee rounded half-up to 2 decimals as in Teams' export"),
            ("<policy> ledger", "the policy's ledger.csv (replication 0): the credit journal, exact to 4 decimals"),
            ("note", "rates are illustrative unless the scenario brings its own rate card"),
        ]:
            about.add_values([item, value])

        header = ["metric", "unit"]
        for name in policy_names:
            header += [f"{name} mean", f"{name} ±95% CI"]
        comp = wb.sheet("comparison", header, widths=[22, 12] + [18] * (2 * len(policy_names)))
        for m in METRICS:
            row: list = [m, currency if m in MONEY else UNITS.get(m, "calls")]
            for name in policy_names:
                stat = summary[name][m]
                row += [Decimal(stat["mean"]), Decimal(stat["ci95_half_width"])]
            comp.add_values(row)

        for name in policy_names:
            wb.csv_sheets(folder / name / "cdr.csv", name, "cdr", CDR_TYPES)
            wb.csv_sheets(folder / name / "ledger.csv", name, "ledger", LEDGER_TYPES)
        wb.close()
    except BaseException:
        wb.abort()
        path.unlink(missing_ok=True)
        raise
    return path
