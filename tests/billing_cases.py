"""Tiny replay scenarios for hand-worked billing tests (billing-rules.md R2-R10).

A case is a scenario YAML plus a PSTN usage report CSV (the 2025 export's 25
columns) written into a temporary folder, run through the real pipeline
(`sim.cli.main`, or `load` + `simulate`), and read back from the results folder.

    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)],
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 150, dest=US_NUMBER)],
                      policies=[{"name": "p", "initial_funds": "20.00"}],
                      rates={"outbound": {"US": "0.1000"}})
    res = run_case(path)
    res.exit_code, res["p"].ledger, res["p"].cdr["c1"], res["p"].metrics["credits_spent"]

Money in results is compared as Decimal (the files hold decimal strings); times as the
ISO 8601 strings the files use.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
from unittest import mock
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from sim.inputs.reports.columns import COLUMNS_2025

# Licence mixes used again and again
PLAN = ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"]
PLAN_CREDITS = ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]
DI_PLAN_CREDITS = ["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]
PAYG_CREDITS = ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]
CONF = ["AUDIO_CONFERENCING"]
CONF_CREDITS = ["AUDIO_CONFERENCING", "COMMUNICATIONS_CREDITS"]

# E.164 numbers of known countries (phonenumbers resolves their region)
NUMBER = {
    "US": "+12065550100",
    "PR": "+17875550100",
    "CA": "+14165550100",
    "MX": "+525512345678",
    "GB": "+442071234567",
    "DE": "+4930123456",
    "IN": "+911123456789",
    "FR": "+33142345678",
    "IE": "+35312345678",
    "AE": "+97142345678",        # not in Zone A
    "US_TOLL_FREE": "+18005550199",
}
TOLL_FREE = "+18885550100"       # the tenant's own toll-free service number

DOMAIN = "contoso.com"


def upn(name: str) -> str:
    return name if "@" in name else f"{name}@{DOMAIN}"


def user(name: str, country: str, licences: list[str], dialout_policy: str = "any") -> dict:
    return {"upn": upn(name), "country": country, "licences": list(licences), "dialout_policy": dialout_policy}


def call(usage_id: str, who: str, start: str, duration: int, *, call_type: str = "user_out",
         dest: str | None = None, to: str | None = None, caller: str = "", number_type: str = "",
         conference: str = "") -> dict:
    """One report row. `to` is a country key of NUMBER (for the far end), `dest` a raw number."""
    if dest is None:
        dest = NUMBER[to] if to else ""
    return {
        "UsageId": usage_id, "Call ID": f"call-{usage_id}", "Conference ID": conference,
        "UPN": upn(who) if who else "", "Call Type": call_type,
        "Call Direction": "Inbound" if call_type.endswith("_in") else "Outbound",
        "Number Type": number_type, "Destination Number": dest, "Caller ID": caller,
        "Start Time": start, "Duration Seconds": str(duration),
    }


def toll_free_in(usage_id: str, start: str, duration: int, origin: str) -> dict:
    """A toll-free call into the tenant's call queue from a caller in `origin`."""
    return call(usage_id, "", start, duration, call_type="ucap_in", dest=TOLL_FREE, caller=NUMBER[origin],
                number_type="toll-free")


def write_report(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS_2025)
        for r in rows:
            unknown = set(r) - set(COLUMNS_2025)
            assert not unknown, f"not report columns: {unknown}"
            w.writerow([r.get(c, "") for c in COLUMNS_2025])


def write_case(tmp_path: Path, *, users: list[dict], calls: list[dict], policies: list[dict],
               rates: dict | None = None, switches: dict | None = None, start: str = "2026-01-01T00:00:00Z",
               days: int = 31, toll_free: bool = False, name: str = "case", tenant_extra: dict | None = None,
               report_name: str = "report.csv") -> Path:
    """Write scenario.yaml and its report into tmp_path; returns the scenario path."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_report(tmp_path / report_name, calls)
    tenant = {"domain": DOMAIN, "users": users}
    if toll_free:
        tenant["toll_free_numbers"] = [{"number": TOLL_FREE, "serves": "call_queue"}]
    tenant.update(tenant_extra or {})
    doc = {
        "name": name, "start": start, "days": days, "currency": "USD", "seed": 1,
        "tenant": tenant,
        "rates": rates if rates is not None else {"outbound": {"*": "0.1000"}, "toll_free_inbound": {"*": "0.1000"}},
        "traffic": {"replay": report_name},
        "policies": policies,
    }
    if switches:
        doc["switches"] = switches
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _num(text) -> Decimal | int:
    if isinstance(text, int):
        return text
    return Decimal(text)


@dataclass
class PolicyResult:
    ledger: list[dict]
    cdr: dict[str, dict]              # by UsageId
    cdr_rows: list[dict]
    notifications: list[dict]
    disruptions: list[dict]
    pools: list[dict]
    metrics: dict[str, Decimal | int]

    def ledger_tuples(self, *cols: str) -> list[tuple]:
        cols = cols or ("time", "kind", "amount", "balance_after", "lot_id", "usage_id", "note")
        return [tuple(r[c] for c in cols) for r in self.ledger]

    def debits(self, usage_id: str | None = None) -> list[dict]:
        return [r for r in self.ledger if r["kind"] == "debit" and (usage_id is None or r["usage_id"] == usage_id)]

    def notes(self, kind: str | None = None) -> list[tuple[str, str]]:
        return [(n["time"], n["kind"]) for n in self.notifications if kind is None or n["kind"] == kind]


@dataclass
class CaseResult:
    exit_code: int
    stdout: str
    stderr: str
    out: Path
    policies: dict[str, PolicyResult] = field(default_factory=dict)

    def __getitem__(self, name: str) -> PolicyResult:
        return self.policies[name]

    @property
    def summary(self) -> dict:
        return json.loads((self.out / "summary.json").read_text())


def run_cli(*argv: str, plots: bool = False) -> tuple[int, str, str]:
    """sim.cli.main in-process; (exit code, stdout, stderr). The PNG plots (matplotlib,
    ~80 % of a tiny run's time, not a billing concern) are skipped unless `plots`."""
    from sim.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        if not plots:
            try:
                import sim.outputs.plots as plots_module
            except ImportError:
                plots_module = None
            for name in ("balance_plot", "write_plots"):
                if hasattr(plots_module, name):
                    stack.enter_context(mock.patch.object(plots_module, name, lambda *a, **k: None))
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def run_case(path: Path, out: Path | None = None) -> CaseResult:
    """`run_sim.py run path --out ... -q --workers 1 -r 1 --journal increments`, then read every result
    file. The hand-worked cases are of one replication and check the journal increment by increment (R6, R7)."""
    out = out or path.parent / "out"
    code, so, se = run_cli("run", str(path), "--out", str(out), "-q", "--workers", "1", "-r", "1",
                           "--journal", "increments")
    res = CaseResult(code, so, se, out)
    if code != 0:
        return res
    summary = json.loads((out / "summary.json").read_text())
    for name, stats in summary["policies"].items():
        folder = out / name
        cdr_rows = _read_csv(folder / "cdr.csv")
        metrics = {m: _num(s["replications"][0]) for m, s in stats.items()}
        res.policies[name] = PolicyResult(
            ledger=_read_csv(folder / "ledger.csv"),
            cdr={r["UsageId"]: r for r in cdr_rows},
            cdr_rows=cdr_rows,
            notifications=_read_csv(folder / "notifications.csv"),
            disruptions=_read_csv(folder / "disruptions.csv"),
            pools=_read_csv(folder / "pools.csv"),
            metrics=metrics,
        )
    return res


def simulate_case(path: Path):
    """load + simulate every policy in-process: {policy name: RunOutput}, plus world and attempts."""
    from sim.commands.load import load
    from sim.engine.loop import simulate
    from sim.parallel.runner import payment_seed

    scenario, world, attempts = load(path, None)
    runs = {p.name: simulate(world, p, attempts, payment_seed(scenario.seed, 0)) for p in world.policies}
    return world, attempts, runs


def D(text: str) -> Decimal:
    return Decimal(text)
