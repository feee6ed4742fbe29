"""Graph `getPstnCalls` rows -> records: one JSON page (`{"value": [...], "@odata.nextLink": ...}`),
several pages in one array, a plain array of rows (PowerShell `ConvertTo-Json`), or JSON Lines.
Pages linked by `@odata.nextLink` come as separate files: pass them all (or their folder)."""
from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from sim.errors import InputError

from .columns import GRAPH_PROPERTIES, REQUIRED, canonical
from .formats import Text


DIRECT_ROUTING_ONLY = frozenset({"finalSipCode", "finalSipCodePhrase", "mediaBypassEnabled", "trunkFullyQualifiedDomainName",
                                 "successfulCall", "signalingLocation", "mediaPathLocation"})


def read_json(doc: Text, lines: bool) -> tuple[str, list[tuple[str, int, dict[str, str]]], bool]:
    """-> (format name, [(where, line or index, {2025 column: text})], whether a page follows:
    the document's last page has an `@odata.nextLink`)."""
    out = []
    if lines:
        for n, text in enumerate(doc.text.lstrip("\ufeff").splitlines(), 1):
            if text.strip():
                row = _load(doc, text, n)
                out.append(_record(doc, f"{doc.name}:{n}", n, row))
        return "Graph rows, JSON Lines", out, False
    data = _load(doc, doc.text.lstrip("\ufeff"), 0)
    if isinstance(data, dict):
        pages = [data] if "value" in data else [{"value": [data]}]
    elif isinstance(data, list) and data and all(isinstance(p, dict) and "value" in p for p in data):
        pages = data
    elif isinstance(data, list):
        pages = [{"value": data}]
    else:
        raise InputError(doc.name, "expected Graph getPstnCalls JSON: an object with a `value` array of rows")
    i = 0
    for p, page in enumerate(pages):
        rows = page.get("value")
        if not isinstance(rows, list):
            raise InputError(f"{doc.name}: page {p + 1}", "`value` is not an array of rows")
        for row in rows:
            i += 1
            out.append(_record(doc, f"{doc.name}: row {i}", i, row))
    # directRoutingLogRow has SIP outcomes a pstnCallLogRow lacks: say which API the file came from
    rows = [r for page in pages for r in page["value"]]
    api = "getDirectRoutingCalls" if rows and all(DIRECT_ROUTING_ONLY & r.keys() for r in rows) else "getPstnCalls"
    fmt = f"Graph {api} JSON" + (f" ({len(pages)} pages)" if len(pages) > 1 else "")
    more = bool(pages[-1].get("@odata.nextLink")) if pages else False
    return (fmt + f" ({doc.encoding.upper()})") if doc.encoding.startswith("utf-16") else fmt, out, more


def _load(doc: Text, text: str, line: int):
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as e:
        where = f"{doc.name}:{line}:{e.colno}" if line else f"{doc.name}:{e.lineno}:{e.colno}"
        raise InputError(where, f"not valid JSON ({e.msg})") from None
    except RecursionError:
        raise InputError(f"{doc.name}:{line}" if line else doc.name,
                         "not Graph getPstnCalls JSON: arrays or objects nested too deeply") from None


def _record(doc: Text, where: str, n: int, row) -> tuple[str, int, dict[str, str]]:
    if not isinstance(row, dict):
        raise InputError(where, "expected a pstnCallLogRow object")
    cols = {}
    for key, value in row.items():
        name = canonical(key)
        if name:
            cols[name] = _text(value)
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        graph = {v: k for k, v in GRAPH_PROPERTIES.items()}
        raise InputError(where, f"not a pstnCallLogRow: missing {', '.join(graph[c] for c in missing)}")
    return where, n, cols


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        if value.is_finite() and value.as_tuple().exponent < -4 and value.adjusted() < 20:
            # a Double (charge, connectionCharge): binary noise past 4 places (0.10500000000000001)
            # rounded half-up to the ten-thousandths money is kept in; export text stays strict
            # (and a number too large for that is left for the column's own check to refuse)
            value = value.quantize(Decimal("0.0001"), ROUND_HALF_UP)
        return format(value, "f")
    if isinstance(value, list):        # administrativeUnitInfos: [{"id": ...}, ...]
        return ";".join(_text(v.get("id") if isinstance(v, dict) else v) for v in value)
    if isinstance(value, dict):
        return _text(value.get("id", ""))
    return str(value).strip()
