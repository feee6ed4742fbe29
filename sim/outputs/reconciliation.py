"""<policy>/reconciliation.csv: Microsoft's reported charge of every replayed call against the
rebilled one (issue 8), so a billing QA engineer can check a real month's bill against the
rulebook and a rate card. Written only when the report carries charges (Charge / Connection
Fee, or Graph charge / connectionCharge). Amounts are the CDR's 2 decimals, half-up (R1)."""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np

from models.money import round_half_up_2

from .cdr import CDR_COLUMNS
from .folder import inert, write_csv

COLUMNS = ["UsageId", "Call Type", "Reported Charge", "Reported Connection Fee", "Rebilled Charge",
           "Rebilled Connection Fee", "Difference", "Reported Capability", "Rebilled Capability", "Rebilled Status"]
DIFFERS = Decimal("0.01")       # a call "differs" beyond one cent
_CHARGE, _FEE, _CAP, _TYPE = (CDR_COLUMNS.index(c) for c in ("Charge", "Connection Fee", "Capability", "Call Type"))


def write_reconciliation(path: Path, attempts, run, cdr: list[list]) -> None:
    """`cdr`: the CDR rows of the connected calls, in attempt order (as cdr.cdr_rows yields them)."""
    reported = attempts.reported
    if not reported or all(fee is None and charge is None for fee, charge, _ in reported):
        return
    connected = np.asarray(run.outcomes.connected)
    rows_of = dict(zip(np.flatnonzero(connected >= 0).tolist(), cdr))
    kept = attempts.passthrough or [{}] * len(attempts)
    durations = attempts.duration.tolist()

    def lines():
        for i, (fee, charge, capability) in enumerate(reported):
            row = rows_of.get(i)
            rep_charge, rep_fee = _cents(charge), _cents(fee)
            if row is None:
                new_charge = new_fee = "0.00"
                new_cap, status = "", "blocked"
            else:
                new_charge, new_fee, new_cap = row[_CHARGE], row[_FEE], row[_CAP]
                status = "cut" if int(connected[i]) < durations[i] else "connected"
            diff = Decimal(new_charge) + Decimal(new_fee) - Decimal(rep_charge or "0") - Decimal(rep_fee or "0")
            yield [inert(attempts.usage_ids[i]), inert(kept[i].get("Call Type", row[_TYPE] if row else "")),
                   rep_charge, rep_fee, new_charge, new_fee, f"{diff:.2f}", inert(capability), new_cap, status]

    write_csv(path, COLUMNS, lines())


def _cents(units: int | None) -> str:
    return "" if units is None else round_half_up_2(units)


def totals(path: Path) -> dict | None:
    """The reconciliation's totals, summed from its 2-decimal rows (so they add up as shown)."""
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    total = {c: sum((Decimal(r[c] or "0") for r in rows), Decimal("0.00")) for c in COLUMNS[2:7]}
    return {
        "calls": len(rows),
        "reported_charge": f"{total['Reported Charge']:.2f}",
        "reported_connection_fee": f"{total['Reported Connection Fee']:.2f}",
        "rebilled_charge": f"{total['Rebilled Charge']:.2f}",
        "rebilled_connection_fee": f"{total['Rebilled Connection Fee']:.2f}",
        "difference": f"{total['Difference']:.2f}",
        "calls_differing": sum(abs(Decimal(r["Difference"])) > DIFFERS for r in rows),
        "capability_differing": sum(r["Reported Capability"] != r["Rebilled Capability"] for r in rows),
        # "a technical issue that prevents us from pricing a call": Microsoft waived it (pstn-usage-report.md)
        "calls_freecall": sum(r["Reported Capability"].strip().upper() == "FREECALL" for r in rows),
    }
