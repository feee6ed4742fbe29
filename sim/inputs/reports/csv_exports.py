"""CSV usage exports -> records: the 2025 (25 columns, also with the `AAD ObjectId` header it
carried until 2023) and 2020-21 (20 columns) admin center exports, the tab-delimited export
before 2019, and PowerShell `Export-Csv` / CLI saves of Graph rows (a `#TYPE` first line,
Graph property names as headers, every field quoted)."""
from __future__ import annotations

import csv
import io

from sim.errors import InputError

from .columns import COLUMNS_2020, COLUMNS_2025, REQUIRED, canonical
from .formats import RESAVE, Text, direct_routing_message

DIRECT_ROUTING_HEADERS = {"correlation id", "sbc fqdn", "final sip code"}
# columns whose values repeat from row to row (a user's, a country's, a price's): kept once each
REPEATED = frozenset({"User Location", "Microsoft Entra ObjectId", "UPN", "User Display Name", "Caller ID",
                      "Call Type", "Call Direction", "Number Type", "Domestic/International", "Destination Dialed",
                      "External Country", "Duration Seconds", "Connection Fee", "Charge", "Currency", "Capability",
                      "Operator", "Source of Call Duration", "Administrative Units", "Conference ID"})


def read_csv(doc: Text) -> tuple[str, list[tuple[str, int, dict[str, str]]]]:
    """-> (format name, [(where, line, {2025 column: text})])."""
    lines = doc.text.lstrip("\ufeff").splitlines(keepends=True)
    first = 0
    powershell = bool(lines) and lines[0].startswith("#TYPE")
    if powershell:
        first = 1
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first >= len(lines):
        raise InputError(f"{doc.name}:1", "the usage report is empty; expected a header row")
    head = lines[first]
    counts = {d: head.count(d) for d in (",", "\t", ";")}
    delimiter = max(counts, key=counts.get)
    if delimiter == ";":
        raise InputError(f"{doc.name}:{first + 1}", "the columns are separated by ';': a spreadsheet saved this file "
                                                    "in a locale such as de-DE (decimal commas, dates like "
                                                    f"05.01.2026 17:35); {RESAVE}")
    reader = csv.reader(io.StringIO("".join(lines[first:])), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as e:
        raise InputError(f"{doc.name}:{first + 1}", f"not a readable CSV header ({e})") from None
    if {h.lower() for h in header} & DIRECT_ROUTING_HEADERS:
        raise direct_routing_message(doc.name)
    names = [canonical(h) for h in header]
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise InputError(f"{doc.name}:{first + 1}", f"column {twice[0]!r} appears more than once in the header "
                                                    "(under this or another of its names); keep one")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(f"{doc.name}:{first + 1}", f"not a PSTN usage report: missing column(s) {', '.join(missing)}; "
                                                    "expected the 25-column (2025) or 20-column (2020-2021) export, "
                                                    "or Graph getPstnCalls rows")
    fmt = _format_name(header, delimiter, powershell)
    out = []
    shared = {}.setdefault                      # one string per distinct value: a row holds ~25,
    repeated = [n in REPEATED for n in names]   # most repeating (a month: millions of rows)
    prev = first + 1
    try:
        for row in reader:
            line = prev + 1
            prev = first + reader.line_num
            if not any(c.strip() for c in row):
                continue
            where = f"{doc.name}:{line}"
            if len(row) != len(header):
                raise InputError(where, f"expected {len(header)} columns like the header, got {len(row)}"
                                 + (" (a quote left open?)" if len(row) < len(header) else ""))
            out.append((where, line, {n: shared(v, v) if again else v
                                      for n, again, v in zip(names, repeated, map(str.strip, row)) if n}))
    except csv.Error as e:
        raise InputError(f"{doc.name}:{first + reader.line_num}", f"not a readable CSV row ({e})") from None
    return fmt, out


def _format_name(header: list[str], delimiter: str, powershell: bool) -> str:
    if powershell:
        return "PowerShell Export-Csv (Graph rows)"
    if delimiter == "\t":
        return "tab-delimited export (before 2019)"
    if header == COLUMNS_2025:
        return "CSV export 2025 (25 columns)"
    if header == ["AAD ObjectId" if h == "Microsoft Entra ObjectId" else h for h in COLUMNS_2025]:
        return "CSV export 2025 (25 columns, AAD ObjectId header)"
    if header == COLUMNS_2020:
        return "CSV export 2020-2021 (20 columns)"
    if "callType" in header:
        return "CSV of Graph rows"
    return f"CSV export ({len(header)} columns)"
