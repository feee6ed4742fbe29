"""The per-policy files of replication 0: cdr.csv, ledger.csv, notifications.csv,
disruptions.csv, pools.csv, balance.png (scenario-format.md).

The per-call tables (cdr, ledger, disruptions) are built as columns and written by pyarrow,
as CSV, Parquet or both (`fmt`); notifications and pools are a few rows each, always CSV."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from models.calls import KIND_NAME, CallKind
from models.money import format_money
from sim.engine.call_journal import CallJournal

from .cdr import CallIds, cdr_table, cdr_tables
from .columns import decimals, lookup, timestamps
from .folder import inert, write_csv as _csv
from .journal import LEDGER_COLUMNS, journal_columns, ledger_tables
from .tablefile import as_text, write_table

NOTIFICATION_COLUMNS = ["time", "kind", "detail"]
DISRUPTION_COLUMNS = ["time", "usage_id", "payer", "call_kind", "reason", "minutes_lost"]
POOL_COLUMNS = ["month", "Country or region", "Capability", "scope", "Total minutes", "Minutes used",
                "Minutes available"]
__all__ = ["FileOptions", "write_policy_files", "LEDGER_COLUMNS"]


@dataclass(frozen=True)
class FileOptions:
    """How the per-policy files are written: `fmt` of the per-call tables ('csv', 'parquet',
    'both') and the journal's granularity ('calls' or 'increments')."""

    fmt: str = "csv"
    journal: str = "calls"


def write_policy_files(folder: Path, world, attempts, run, rep_seed: int,
                       options: FileOptions = FileOptions()) -> dict:
    """Writes the files; returns the CDR's totals as written, {"total": Charge + Connection Fee
    (2 decimals, text), "rows": rows} (summary.json `cdr_rounding`), whatever the format."""
    folder.mkdir(parents=True, exist_ok=True)
    totals = {"total": Decimal(0), "rows": 0}
    ids = CallIds(attempts, rep_seed)
    clock = world.clock
    account = run.account
    if attempts.reported:            # replay: a report's rows, few enough to hold at once
        cdr = cdr_table(world, attempts, run, ids)
        write_table(folder, "cdr", _totalled(cdr, totals), options.fmt)
        from .reconciliation import write_reconciliation
        write_reconciliation(folder / "reconciliation.csv", attempts, run,
                             [list(r.values()) for r in as_text(cdr).to_pylist()])
    else:
        write_table(folder, "cdr", map(lambda t: _totalled(t, totals), cdr_tables(world, attempts, run, ids)),
                    options.fmt)
    journal = account.ledger.journal
    if options.journal == "calls":
        journal = CallJournal.of(journal)
    elif isinstance(journal, CallJournal):
        raise ValueError("this run kept its journal per call: simulate it with journal='increments'")
    journal = journal_columns(journal)
    # read once: ledger.csv and balance.png draw the same rows
    write_table(folder, "ledger", ledger_tables(clock, journal, ids.usage_column), options.fmt)
    _csv(folder / "notifications.csv", NOTIFICATION_COLUMNS,
         ([clock.iso(t), kind, inert(_detail(kind, detail))] for t, kind, detail in account.notifications))
    write_table(folder, "disruptions", disruptions_table(world, ids, account.disruptions), options.fmt)
    _csv(folder / "pools.csv", POOL_COLUMNS,
         ([m, c, cap, scope, _minutes(total), _minutes(used), _minutes(avail)]
          for m, c, cap, scope, total, used, avail in account.pools.report))
    from .plots import balance_plot
    balance_plot(folder / "balance.png", world, attempts, run, journal)
    return {"total": f"{totals['total']:.2f}", "rows": totals["rows"]}


def _totalled(table: pa.Table, totals: dict) -> pa.Table:
    """`table` (a block of CDR rows), its exact decimal Charge and Connection Fee added to `totals`."""
    totals["rows"] += table.num_rows
    for name in ("Charge", "Connection Fee"):
        totals["total"] += pc.sum(table.column(name)).as_py() or 0
    return table


def disruptions_table(world, ids: CallIds, disruptions: list[tuple]) -> pa.Table:
    """One row per blocked or cut call (R11): minutes lost to 2 places, half up."""
    t, idx, payer, kind, reason, lost = (np.array(col, dtype=object) for col in zip(*disruptions)) \
        if disruptions else [np.zeros(0, dtype=object)] * 6
    payer = payer.astype(np.int64)
    upns = [inert(u.upn) for u in world.users] + ["tenant"]
    lost = lost.astype(np.int64)
    return pa.table([timestamps(world.clock, t.astype(np.int64)), ids.usage_column(idx.astype(np.int64)),
                     lookup(upns, np.where(payer >= 0, payer, len(upns) - 1)),
                     lookup([KIND_NAME[k] for k in CallKind], kind.astype(np.int64)),
                     pa.array(reason.tolist(), pa.string()), decimals((lost * 100 + 30) // 60, 2)],
                    names=DISRUPTION_COLUMNS)


def _detail(kind: str, detail: str) -> str:
    if kind.startswith("recharge_succeeded") and detail.lstrip("-").isdigit():
        return f"amount {format_money(int(detail))}"
    if kind == "balance_exhausted" and detail.startswith("balance "):
        return f"balance {format_money(int(detail.split()[1]))}"
    return detail


def _minutes(seconds: int) -> str:
    whole, rest = divmod(seconds, 60)
    return str(whole) if rest == 0 else f"{Decimal(seconds) / 60:.2f}"
