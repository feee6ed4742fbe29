"""The per-policy files of replication 0: cdr.csv, ledger.csv, notifications.csv,
disruptions.csv, pools.csv, balance.png (scenario-format.md)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from models.calls import KIND_NAME, CallKind
from models.money import format_money

from .cdr import CDR_COLUMNS, CallIds, cdr_rows
from .folder import inert, write_csv as _csv

LEDGER_COLUMNS = ["time", "kind", "amount", "balance_after", "lot_id", "usage_id", "note"]
NOTIFICATION_COLUMNS = ["time", "kind", "detail"]
DISRUPTION_COLUMNS = ["time", "usage_id", "payer", "call_kind", "reason", "minutes_lost"]
POOL_COLUMNS = ["month", "Country or region", "Capability", "scope", "Total minutes", "Minutes used",
                "Minutes available"]



def write_policy_files(folder: Path, world, attempts, run, rep_seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ids = CallIds(attempts, rep_seed)
    clock = world.clock
    account = run.account
    cdr = cdr_rows(world, attempts, run, ids)
    if attempts.reported:
        cdr = list(cdr)
    _csv(folder / "cdr.csv", CDR_COLUMNS, cdr)
    if attempts.reported:
        from .reconciliation import write_reconciliation
        write_reconciliation(folder / "reconciliation.csv", attempts, run, cdr)

    def uid(x):
        return ids.usage_id(x) if isinstance(x, int) else x

    _csv(folder / "ledger.csv", LEDGER_COLUMNS,
         ([clock.iso(t), kind, format_money(amount), format_money(bal), lot, uid(usage), inert(note)]
          for t, kind, amount, bal, lot, usage, note in account.ledger.journal))
    _csv(folder / "notifications.csv", NOTIFICATION_COLUMNS,
         ([clock.iso(t), kind, inert(_detail(kind, detail))] for t, kind, detail in account.notifications))
    users = world.users
    _csv(folder / "disruptions.csv", DISRUPTION_COLUMNS,
         ([clock.iso(t), ids.usage_id(i), inert(users[p].upn) if p >= 0 else "tenant", KIND_NAME[CallKind(k)],
           reason, f"{Decimal(lost) / 60:.2f}"] for t, i, p, k, reason, lost in account.disruptions))
    _csv(folder / "pools.csv", POOL_COLUMNS,
         ([m, c, cap, scope, _minutes(total), _minutes(used), _minutes(avail)]
          for m, c, cap, scope, total, used, avail in account.pools.report))
    from .plots import balance_plot
    balance_plot(folder / "balance.png", world, attempts, run)


def _detail(kind: str, detail: str) -> str:
    if kind.startswith("recharge_succeeded") and detail.lstrip("-").isdigit():
        return f"amount {format_money(int(detail))}"
    if kind == "balance_exhausted" and detail.startswith("balance "):
        return f"balance {format_money(int(detail.split()[1]))}"
    return detail


def _minutes(seconds: int) -> str:
    whole, rest = divmod(seconds, 60)
    return str(whole) if rest == 0 else f"{Decimal(seconds) / 60:.2f}"
