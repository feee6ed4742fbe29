"""What a replay read: formats, files, rows by call type and billing kind, what is not billed
and why, duplicates, skipped rows, time span, users. Printed by `validate`, kept in
summary.json under `replay`."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from models.money import format_money

LISTED = 20          # rows listed by line in each category; the counts are always whole


@dataclass
class ImportReport:
    files: list[dict] = field(default_factory=list)          # {"file", "format", "encoding", "rows"}
    skipped_files: list[str] = field(default_factory=list)
    rows_read: int = 0
    by_call_type: Counter = field(default_factory=Counter)
    by_billing: Counter = field(default_factory=Counter)
    not_billed: Counter = field(default_factory=Counter)     # direct_routing / operator_connect
    duplicates: list[tuple[str, int, str]] = field(default_factory=list)   # (file, line, UsageId), first kept
    skipped: list[tuple[str, str]] = field(default_factory=list)      # (where, why)
    country_rules: Counter = field(default_factory=Counter)
    currencies: Counter = field(default_factory=Counter)     # of rows with a reported charge
    duration_mismatches: list[tuple[str, int, int]] = field(default_factory=list)  # (where, reported, End-Start)
    number_type_disagreements: list[tuple[str, str]] = field(default_factory=list)
    direction_disagreements: list[tuple[str, str]] = field(default_factory=list)   # Call Direction vs Call Type
    pages_followed: list[str] = field(default_factory=list)    # Graph pages with an @odata.nextLink
    last_page_read: bool = False                              # a Graph page without one was read
    first_start: datetime | None = None
    last_start: datetime | None = None
    upns: set = field(default_factory=set)
    users_found: int | None = None        # filled when rows meet a scenario's tenant
    users_inferred: int | None = None
    reported_charge: int = 0
    reported_fee: int = 0
    rows_billed: int = 0

    def to_dict(self) -> dict:
        span = None
        if self.first_start is not None:
            span = {"first_start": _iso(self.first_start), "last_start": _iso(self.last_start)}
        return {
            "format": sorted({f["format"] for f in self.files}),
            "files": self.files,
            "skipped_files": self.skipped_files,
            "rows_read": self.rows_read,
            "rows_billed": self.rows_billed,
            "rows_by_call_type": dict(sorted(self.by_call_type.items())),
            "rows_by_billing_kind": dict(sorted(self.by_billing.items())),
            "not_billed_by_credits": dict(sorted(self.not_billed.items())),
            "duplicates": len(self.duplicates),
            "duplicate_usage_ids": [{"file": f, "line": n, "usage_id": u} for f, n, u in self.duplicates],
            "skipped": len(self.skipped),
            "skipped_rows": [{"where": w, "why": y} for w, y in self.skipped[:LISTED]],
            "far_country_from": dict(sorted(self.country_rules.items())),
            "duration_mismatches": len(self.duration_mismatches),
            "duration_mismatch_rows": [{"where": w, "duration_seconds": d, "end_minus_start": s}
                                       for w, d, s in self.duration_mismatches[:LISTED]],
            "number_type_disagreements": len(self.number_type_disagreements),
            "number_type_disagreement_rows": [{"where": w, "why": y}
                                              for w, y in self.number_type_disagreements[:LISTED]],
            "direction_disagreements": len(self.direction_disagreements),
            "direction_disagreement_rows": [{"where": w, "why": y} for w, y in self.direction_disagreements[:LISTED]],
            "graph_last_page_missing": self.last_page_missing,
            "time_span": span,
            "users_in_report": len(self.upns),
            "users_found": self.users_found,
            "users_inferred": self.users_inferred,
            "reported_charge": format_money(self.reported_charge),
            "reported_connection_fee": format_money(self.reported_fee),
            "reported_currencies": dict(sorted(self.currencies.items())),
        }

    @property
    def last_page_missing(self) -> bool:
        """Every Graph page read says another follows (@odata.nextLink): the last one was not
        given, so calls are missing (getPstnCalls returns at most 1,000 rows a page)."""
        return bool(self.pages_followed) and not self.last_page_read

    def lines(self) -> list[str]:
        """The import report as `validate` prints it."""
        d = self.to_dict()
        out = [f"replay: {self.rows_read} rows read from {len(self.files)} file(s), {self.rows_billed} call attempts"]
        for f in self.files:
            out.append(f"  {f['file']}: {f['format']}, {f['encoding']}, {f['rows']} rows")
        for s in self.skipped_files:
            out.append(f"  skipped {s}")
        if self.last_page_missing:
            out.append(f"  WARNING: every Graph page read has an @odata.nextLink ({', '.join(self.pages_followed[:3])}"
                       f"{', ...' if len(self.pages_followed) > 3 else ''}): the last page is missing; fetch the "
                       "pages until one has none and replay them all (or their folder)")
        if d["time_span"]:
            out.append(f"  calls from {d['time_span']['first_start']} to {d['time_span']['last_start']}")
        out.append("  rows by call type: " + ", ".join(f"{k} {n}" for k, n in d["rows_by_call_type"].items()))
        out.append("  rows by billing kind: " + ", ".join(f"{k} {n}" for k, n in d["rows_by_billing_kind"].items()))
        if self.not_billed:
            out.append("  not billed by credits (the carrier bills them): "
                       + ", ".join(f"{k} {n}" for k, n in d["not_billed_by_credits"].items()))
        if self.duplicates:
            out.append(f"  ({len(self.duplicates)} duplicate UsageId rows not billed)")
        for w, y in self.skipped[:LISTED]:
            out.append(f"  skipped {w}: {y}")
        if len(self.skipped) > LISTED:
            out.append(f"  ... {len(self.skipped)} rows skipped in all")
        if self.country_rules:
            out.append("  far-end country from: " + ", ".join(f"{k} {n}" for k, n in d["far_country_from"].items()))
        for w, rep, diff in self.duration_mismatches[:LISTED]:
            out.append(f"  {w}: Duration Seconds {rep} differs from End Time - Start Time ({diff} s)")
        for w, y in (self.number_type_disagreements[:LISTED] + self.direction_disagreements[:LISTED]):
            out.append(f"  {w}: {y}")
        users = f"  users: {len(self.upns)} in the report"
        if self.users_found is not None:
            users += f", {self.users_found} of the tenant, {self.users_inferred} inferred"
        out.append(users)
        out.append(f"  reported charge {d['reported_charge']} + connection fees {d['reported_connection_fee']}"
                   + (f" ({', '.join(d['reported_currencies'])})" if self.currencies else ""))
        return out


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
