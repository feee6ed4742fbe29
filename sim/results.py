"""The results folder (scenario-format.md): CSV files per policy, summary.json,
comparison.md. Written into a temporary folder and moved into place whole."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np
import phonenumbers
from phonenumbers import geocoder

from models.calls import CALL_TYPE, INBOUND, KIND_NAME, CallKind
from models.licences import CAPABILITY, Licence
from models.money import format_money, round_half_up_2

from .attempts import TENANT
from .metrics import METRICS, MONEY
from .stats import mean_ci

CDR_COLUMNS = ["UsageId", "Call ID", "Conference ID", "User Location", "Microsoft Entra ObjectId", "UPN",
               "User Display Name", "Caller ID", "Call Type", "Call Direction", "Number Type",
               "Domestic/International", "Destination Dialed", "Destination Number", "External Country",
               "Start Time", "End Time", "Duration Seconds", "Connection Fee", "Charge", "Currency",
               "Capability", "Operator", "Source of Call Duration", "Administrative Units"]
LEDGER_COLUMNS = ["time", "kind", "amount", "balance_after", "lot_id", "usage_id", "note"]
NOTIFICATION_COLUMNS = ["time", "kind", "detail"]
DISRUPTION_COLUMNS = ["time", "usage_id", "payer", "call_kind", "reason", "minutes_lost"]
POOL_COLUMNS = ["month", "Country or region", "Capability", "scope", "Total minutes", "Minutes used",
                "Minutes available"]

_E164 = re.compile(r"^\+\d{1,15}$")


def inert(text: str) -> str:
    """Guard a text cell against formula injection in Excel (OWASP): a leading
    = + - @ tab or CR gets a quote. E.164 numbers like +1888... are left alone."""
    if text and text[0] in "=+-@\t\r" and not _E164.match(text):
        return "'" + text
    return text


@contextmanager
def atomic_folder(final: Path):
    """Yield a temporary folder beside `final`; on success it replaces `final` whole.

    On any failure the temporary folder is removed and `final` is untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


@lru_cache(maxsize=None)
def country_name(country: str) -> str:
    ex = phonenumbers.example_number(country)
    return (geocoder.country_name_for_number(ex, "en") if ex else "") or country


@lru_cache(maxsize=None)
def _number_stem(country: str) -> str:
    ex = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.FIXED_LINE) \
        or phonenumbers.example_number(country)
    if ex is None:
        return f"+{phonenumbers.country_code_for_region(country) or 0}55501"
    return phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164)[:-4]


def synthetic_number(country: str, i: int) -> str:
    """A far-end number for a synthetic call: the country's example number, last 4 digits varied."""
    return f"{_number_stem(country)}{(i * 7919) % 10000:04d}"


_V4_CLEAR = ~((0xc000 << 48) | (0xf000 << 64))
_V4_SET = (0x8000 << 48) | (4 << 76)


def guid_v4(n: int) -> str:
    """str(uuid.UUID(int=n % 2**128, version=4)), without building a UUID object."""
    h = "%032x" % ((n % (1 << 128)) & _V4_CLEAR | _V4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class CallIds:
    """UsageId and Call ID of attempt i: the report's own when replaying, else GUIDs from the seed."""

    def __init__(self, attempts, seed: int):
        self.usage = attempts.usage_ids
        self.call = attempts.call_ids
        state = np.random.SeedSequence(entropy=seed, spawn_key=(0, 2)).generate_state(8, np.uint32)
        self._u = int.from_bytes(state[:4].tobytes(), "big")
        self._c = int.from_bytes(state[4:].tobytes(), "big")

    def usage_id(self, i: int) -> str:
        # a replayed report's ids are user text: guarded like every other text cell
        return inert(self.usage[i]) if self.usage else guid_v4(self._u + i)

    def call_id(self, i: int) -> str:
        return inert(self.call[i]) if self.call else guid_v4(self._c + i)


def _free_capability(kind: CallKind, user) -> str:
    if kind in (CallKind.CONF_IN_TOLL, CallKind.CONF_IN_TOLL_FREE, CallKind.CONF_OUT):
        return CAPABILITY[Licence.AUDIO_CONFERENCING]
    if user is not None and user.licence_set.calling_plan is not None:
        return CAPABILITY[user.licence_set.calling_plan]
    return ""


_KIND_OF = {int(k): k for k in CallKind}
_OWN_IS_SERVICE = frozenset({CallKind.CONF_IN_TOLL, CallKind.CONF_IN_TOLL_FREE, CallKind.UCAP_IN, CallKind.UCAP_IN_TOLL})


def _number_type(kind: CallKind) -> str:
    if kind in (CallKind.USER_OUT, CallKind.USER_IN, CallKind.EMERGENCY):
        return "user"
    if kind in (CallKind.UCAP_IN, CallKind.CONF_IN_TOLL_FREE):
        return "toll-free"
    return "service"


CDR_BLOCK = 1 << 15          # connected calls formatted per block of columns turned into lists


def cdr_rows(world, attempts, run, ids: CallIds):
    """R12 rows of every connected call, in attempt order."""
    out = run.outcomes
    users = world.users
    currency = world.scenario.currency
    clock = world.clock
    iso = clock.iso
    countries = attempts.countries
    services = attempts.service_numbers or [tf.number for tf in world.toll_free]
    n_services = len(services)
    toll_free = world.toll_free
    numbers = attempts.numbers
    account = run.account
    conf_names = attempts.conference_ids
    usage_id, call_id = ids.usage_id, ids.call_id
    credits_capability = CAPABILITY[Licence.COMMUNICATIONS_CREDITS]
    # per kind: (kind, inbound, own number is the service number, number type, call type, direction)
    per_kind = {k: (kind, kind in INBOUND, kind in _OWN_IS_SERVICE, _number_type(kind), CALL_TYPE[kind],
                    "Inbound" if kind in INBOUND else "Outbound") for k, kind in _KIND_OF.items()}
    user_cells: dict[int, tuple] = {}

    def conference_id(c: int) -> str:
        if c < 0:
            return ""
        return inert(conf_names[c]) if conf_names else str(c)

    connected = np.asarray(out.connected)
    fee_col, charge_col, paid_col = np.asarray(out.fee), np.asarray(out.charge), np.asarray(out.paid)
    rows = np.flatnonzero(connected >= 0)
    for b in range(0, len(rows), CDR_BLOCK):
        ix = rows[b:b + CDR_BLOCK]
        for i, start, k, payer, c, cf, tfi, secs, fee, charge, paid in zip(
                ix.tolist(), attempts.t[ix].tolist(), attempts.kind[ix].tolist(), attempts.payer[ix].tolist(),
                attempts.country[ix].tolist(), attempts.conf[ix].tolist(), attempts.tf[ix].tolist(),
                connected[ix].tolist(), fee_col[ix].tolist(), charge_col[ix].tolist(), paid_col[ix].tolist()):
            kind, inbound, own_is_service, number_type, call_type, direction = per_kind[k]
            user = users[payer] if payer != TENANT else None
            country = countries[c]
            far = numbers[i] if numbers else synthetic_number(country, i)
            service = services[tfi] if tfi >= 0 and tfi < n_services else ""
            own = user.number if user else service
            if own_is_service:
                own = service or own
            route = account.route(payer, k, country)
            if paid & 2:
                capability = credits_capability
            elif paid & 1:
                capability = route.pool.capability
            else:
                capability = _free_capability(kind, user)
            if user:
                cells = user_cells.get(payer)
                if cells is None:
                    cells = user_cells[payer] = (user.country, inert(user.object_id), inert(user.upn),
                                                 inert(user.display_name))
                home, object_id, upn, display_name = cells
            else:
                home = toll_free[tfi].country if 0 <= tfi < len(toll_free) else country
                object_id = upn = display_name = ""
            yield [
                usage_id(i), call_id(i), conference_id(cf),
                home, object_id, upn, display_name,
                inert(far if inbound else own), call_type, direction, number_type,
                "Domestic" if route.domestic else "International", country_name(country),
                inert(own if inbound else far), country,
                iso(start), iso(start + secs), secs,
                round_half_up_2(fee), round_half_up_2(charge), currency,
                capability, "Microsoft", "Microsoft", "",
            ]


def write_policy_files(folder: Path, world, attempts, run, rep_seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ids = CallIds(attempts, rep_seed)
    clock = world.clock
    account = run.account
    _csv(folder / "cdr.csv", CDR_COLUMNS, cdr_rows(world, attempts, run, ids))

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


# ---- summary and comparison -------------------------------------------------------------

def _fmt(name: str, value: Decimal) -> str | int:
    if name in MONEY:
        return f"{value:.4f}"
    if value == value.to_integral_value():
        return int(value)
    return f"{value:.4f}"


def aggregate(per_rep: list[dict], policy_names: list[str]) -> dict:
    out = {}
    for name in policy_names:
        out[name] = {}
        for m in METRICS:
            values = [rep[name][m] for rep in per_rep]
            mean, half = mean_ci(values)
            out[name][m] = {"mean": f"{mean:.4f}", "ci95_half_width": f"{half:.4f}",
                            "replications": [_fmt(m, v) for v in values]}
    return out


TABLE_METRICS = [("calls_blocked", "blocked"), ("calls_cut", "cut"), ("minutes_lost", "minutes lost"),
                 ("users_affected", "users affected"), ("hours_exhausted", "hours exhausted"),
                 ("credits_purchased", "purchased"), ("credits_spent", "spent"),
                 ("credits_expired", "expired"), ("final_balance", "final balance"),
                 ("overdraft", "overdraft"), ("recharges_failed", "recharges failed")]


def comparison_table(summary: dict, replications: int) -> str:
    from tabulate import tabulate

    def cell(stat, money):
        mean = Decimal(stat["mean"])
        text = f"{mean:.2f}" if money else (f"{mean:.1f}" if mean != mean.to_integral_value() else f"{mean:.0f}")
        half = Decimal(stat["ci95_half_width"])
        return text if replications < 2 else f"{text} ± {half:.2f}"

    rows = [[name] + [cell(stats[m], m in MONEY) for m, _ in TABLE_METRICS] for name, stats in summary.items()]
    return tabulate(rows, headers=["policy"] + [label for _, label in TABLE_METRICS], tablefmt="github",
                    disable_numparse=True)


def write_summary(folder: Path, doc: dict) -> None:
    (folder / "summary.json").write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n", encoding="utf-8")
