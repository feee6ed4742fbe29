"""Teams PSTN usage reports, every export an admin has, read into one vocabulary (R12).

`read_calls(paths)` needs no scenario: it is the world-free reader (fitting a traffic model
reads reports through it); `sim.inputs.replay.read_report` turns its rows into call attempts
under a scenario's tenant.
"""
from __future__ import annotations

from pathlib import Path

from sim.errors import InputError

from . import calltypes
from .checks import CallRow, number_country, to_row
from .csv_exports import read_csv
from .formats import kind_of, read_texts, skip_reason
from .graph import read_json
from .import_report import ImportReport

__all__ = ["CallRow", "ImportReport", "read_calls", "expand_paths", "number_country", "calltypes"]

REPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".zip")


def expand_paths(paths, skipped: list[str] | None = None) -> list[Path]:
    """A file, a list of files, or a folder (every report file in it, by name) -> files. In a
    folder, what the admin center's ZIP holds besides the calls (`formats.skip_reason`: an
    unzipped export) is left out, and listed in `skipped` (as "file (why)")."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")
                           and f.suffix.lower() in REPORT_SUFFIXES)
            left = [(f, why) for f in found if (why := skip_reason(f.name))]
            if skipped is not None:
                skipped.extend(f"{f} ({why})" for f, why in left)
            found = [f for f in found if not skip_reason(f.name)]
            if not found:
                only = f" (only {', '.join(f.name for f, _ in left)})" if left else ""
                raise InputError(str(p), f"the folder holds no usage report ({', '.join(REPORT_SUFFIXES)} files, "
                                         f"PSTN.calls.*.csv as exported){only}")
            out.extend(found)
        else:
            out.append(p)
    return out


def read_calls(paths, *, unknown_call_types: str = "error",
               allow_empty: bool | None = False) -> tuple[list[CallRow], ImportReport]:
    """Usage report file(s) -> (rows, import report). No scenario needed.

    `paths`: a file, a list of files, or a folder. Each file's format is told by its content:
    the CSV exports (2025 25 columns, also with `AAD ObjectId`; 2020-21 20 columns; tab-delimited
    before 2019), the admin center's ZIP, Graph getPstnCalls JSON (pages, arrays, JSON Lines),
    PowerShell ConvertTo-Json (UTF-16) and Export-Csv saves; UTF-8 with or without BOM, UTF-16.

    Rows (`CallRow`, fields documented there) come merged from every file in Start Time order
    (stable: file order, then line order). A UsageId seen before is not returned again: it is
    listed in `report.duplicates`. Every row's call type is documented (`calltypes.CALL_TYPES`,
    or Direct Routing `dr_*` / `Byot*`); an undocumented one is an InputError, or with
    `unknown_call_types="skip"` left out and listed in `report.skipped`. Rows that credits never
    pay — Direct Routing, Operator Connect — are returned (billing `direct_routing` /
    `operator_connect`, `billed_by_credits` False) and counted in `report.not_billed`.
    Amounts are ints of ten-thousandths (models.money); times are UTC datetimes, whole seconds.
    `far_country` is "" only when no column tells it (a withheld caller ID on a free inbound call).

    Raises sim.errors.InputError naming file, line and column for every fault, and when no
    file holds a call (unless `allow_empty`; None: no scenario to allow it, e.g. `fit`).
    """
    report = ImportReport()
    rows: list[CallRow] = []
    seen: set[str] = set()
    for path in expand_paths(paths, report.skipped_files):
        texts, skipped = read_texts(path)
        report.skipped_files.extend(skipped)
        for doc in texts:
            kind = kind_of(doc)
            fmt, records, more = (*read_csv(doc), False) if kind == "csv" else read_json(doc, kind == "jsonl")
            if more:
                report.pages_followed.append(doc.name)
            elif kind == "json":
                report.last_page_read = True
            if str(path) != doc.name:
                fmt = f"admin center ZIP: {fmt}"
            report.files.append({"file": doc.name, "format": fmt, "encoding": doc.encoding, "rows": len(records)})
            for where, line, cols in records:
                report.rows_read += 1
                ctype = calltypes.classify(cols["Call Type"])
                if ctype is None:
                    if unknown_call_types == "skip":
                        report.skipped.append((where, f"undocumented Call Type {cols['Call Type']!r}"))
                        continue
                    raise InputError(f"{where}: Call Type", f"{cols['Call Type']!r} is not a documented call type "
                                     f"(expected one of {', '.join(calltypes.CALL_TYPES)}, or Direct Routing dr_*); "
                                     "set tenant.replay_unknown_call_types: skip to leave such rows out")
                usage = cols.get("UsageId", "")
                if usage in seen:
                    report.duplicates.append((doc.name, line, usage))
                    continue
                row = to_row(where, cols, ctype)
                seen.add(usage)
                rows.append(row)
    rows.sort(key=lambda r: r.start)
    if not rows and allow_empty is not True:
        names = ", ".join(f["file"] for f in report.files) or ", ".join(map(str, expand_paths(paths)))
        raise InputError(names, "the usage report holds no calls (only a header?)" + (
            "" if allow_empty is None else "; set tenant.replay_allow_empty: true to replay an empty report"))
    _tally(report, rows)
    return rows, report



def _tally(report: ImportReport, rows: list[CallRow]) -> None:
    for r in rows:
        report.by_call_type[r.call_type] += 1
        report.by_billing[r.billing] += 1
        if not r.billed_by_credits:
            report.not_billed[r.billing] += 1
        if r.country_rule:
            report.country_rules[r.country_rule.split(" (")[0]] += 1
        if r.end is not None and abs((r.end - r.start).total_seconds() - r.duration) > 1:
            report.duration_mismatches.append((r.where, r.duration, int((r.end - r.start).total_seconds())))
        if r.upn:
            report.upns.add(r.upn.lower())
        if r.charge is not None or r.fee is not None:
            report.currencies[r.currency or "?"] += 1
        report.reported_charge += r.charge or 0
        report.reported_fee += r.fee or 0
    if rows:
        report.first_start, report.last_start = rows[0].start, rows[-1].start
