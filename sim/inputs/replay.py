"""Replay a Teams PSTN usage report export (R12) as call attempts.

Accepts the 25-column 2025 export and the 20-column 2020-2021 one, matched by
header names. Each row is an attempt at its Start Time of its Duration Seconds,
rebilled under the scenario's licences, rates and policies. A repeated UsageId
is reported, not billed twice.
"""
from __future__ import annotations

import csv
import re
from datetime import datetime, timezone
from pathlib import Path

import phonenumbers

from models.calls import CallKind
from models.licences import LicenceSet

from .attempts import TENANT, Attempts
from sim.errors import InputError
from .tenant import TenantUser, country_timezone

COLUMNS_2025 = ["UsageId", "Call ID", "Conference ID", "User Location", "Microsoft Entra ObjectId", "UPN",
                "User Display Name", "Caller ID", "Call Type", "Call Direction", "Number Type",
                "Domestic/International", "Destination Dialed", "Destination Number", "External Country",
                "Start Time", "End Time", "Duration Seconds", "Connection Fee", "Charge", "Currency",
                "Capability", "Operator", "Source of Call Duration", "Administrative Units"]
COLUMNS_2020 = ["UsageId", "Call ID", "Conference ID", "User Location", "AAD ObjectId", "UPN",
                "User Display Name", "Caller ID", "Call Type", "Number Type", "Domestic/International",
                "Destination Dialed", "Destination Number", "Start Time", "End Time", "Duration Seconds",
                "Connection Fee", "Charge", "Currency", "Capability"]
REQUIRED = ["UsageId", "UPN", "Call Type", "Start Time", "Duration Seconds", "Destination Number", "Caller ID"]
OUTBOUND_TYPES = {"user_out": CallKind.USER_OUT, "emergency_out": CallKind.EMERGENCY, "conf_out": CallKind.CONF_OUT}
INBOUND_TYPES = {"user_in", "ucap_in", "conf_in"}

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_instant(text: str) -> datetime:
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"expected an ISO 8601 UTC time like 2026-01-05T14:03:00Z, got {text!r}")
    tz = m.group(4) or "Z"
    dt = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{'+00:00' if tz == 'Z' else tz}")
    return dt.astimezone(timezone.utc)       # fractions of a second are dropped: the clock ticks in seconds


def number_country(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number if number.startswith("+") else "+" + number, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)


def read_report(path: Path, world) -> Attempts:
    try:
        f = path.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InputError(str(path), f"cannot read the usage report ({e.strerror or e})") from None
    with f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(f"{path}:1", "the usage report is empty; expected a header row") from None
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputError(f"{path}:1", f"not a readable CSV file ({e})") from None
        missing = [c for c in REQUIRED if c not in header]
        if missing or header not in (COLUMNS_2025, COLUMNS_2020):
            if missing:
                raise InputError(f"{path}:1", f"not a PSTN usage report: missing column(s) {', '.join(missing)}; "
                                              "expected the 25-column (2025) or 20-column (2020-2021) export")
        col = {name: i for i, name in enumerate(header)}
        try:
            return _rows(path, reader, col, world)
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputError(f"{path}:{reader.line_num}", f"not a readable CSV row ({e})") from None


def _rows(path, reader, col, world) -> Attempts:
    tenant = world.scenario.tenant
    service = {tf.number: i for i, tf in enumerate(world.toll_free)}
    countries: list[str] = []
    cidx: dict[str, int] = {}
    conf_ids: dict[str, int] = {}
    seen: dict[str, int] = {}
    rows, numbers, usage_ids, call_ids, duplicates, lines = [], [], [], [], [], []
    service_numbers = [tf.number for tf in world.toll_free]

    def get(row, name):
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        where = f"{path}:{line}"
        if len(row) != len(col):
            raise InputError(where, f"expected {len(col)} columns like the header, got {len(row)}")
        usage = get(row, "UsageId")
        if not usage:
            raise InputError(where, "UsageId is empty")
        if usage in seen:
            duplicates.append((line, usage))
            continue
        seen[usage] = line
        ctype = get(row, "Call Type")
        ntype = get(row, "Number Type").lower()
        upn = get(row, "UPN")
        dest, caller = get(row, "Destination Number"), get(row, "Caller ID")
        ext = get(row, "External Country").upper()
        try:
            when = parse_instant(get(row, "Start Time"))
        except ValueError as e:
            raise InputError(f"{where}: Start Time", str(e)) from None
        t = world.clock.to_t(when)
        if not 0 <= t < world.horizon:
            raise InputError(f"{where}: Start Time", f"{get(row, 'Start Time')} is outside the scenario's "
                             f"horizon ({world.clock.iso(0)} + {world.scenario.days} days)")
        dur_text = get(row, "Duration Seconds")
        if not dur_text.isdigit():
            raise InputError(f"{where}: Duration Seconds", f"expected a whole number of seconds, got {dur_text!r}")
        tf = -1
        if ctype in OUTBOUND_TYPES:
            kind = OUTBOUND_TYPES[ctype]
            far = dest
        elif ctype in INBOUND_TYPES:
            far = caller
            tf = service.get(dest, -1)
            # Number Type says it; an older export without it: a configured toll-free number.
            toll_free = ntype == "toll-free" or (not ntype and tf >= 0)
            if ctype == "user_in":
                kind = CallKind.USER_IN
            elif ctype == "ucap_in":
                kind = CallKind.UCAP_IN if toll_free else CallKind.UCAP_IN_TOLL
            else:
                kind = CallKind.CONF_IN_TOLL_FREE if toll_free else CallKind.CONF_IN_TOLL
            if tf < 0 and dest:
                tf = len(service_numbers)
                service[dest] = tf
                service_numbers.append(dest)
        else:
            raise InputError(f"{where}: Call Type", f"expected one of user_out, user_in, emergency_out, "
                                                     f"ucap_in, conf_in, conf_out, got {ctype!r}")
        if kind in (CallKind.UCAP_IN, CallKind.UCAP_IN_TOLL):
            payer = TENANT
        else:
            payer = world.upn_index.get(upn.lower(), -2)
            if payer == -2:
                payer = _unknown_user(where, upn, row, get, tenant, world)
        country = ext if len(ext) == 2 and ext.isalpha() else (number_country(far) if far else None)
        if country is None:
            country = world.users[payer].country if kind == CallKind.EMERGENCY and payer >= 0 else None
        if country is None:
            field = "Destination Number" if ctype in OUTBOUND_TYPES else "Caller ID"
            raise InputError(f"{where}: {field}", f"cannot tell the country of {far!r}: expected an E.164 number "
                                                  "(or an External Country column)")
        conf = -1
        conf_text = get(row, "Conference ID")
        if kind in (CallKind.CONF_IN_TOLL_FREE, CallKind.CONF_IN_TOLL, CallKind.CONF_OUT):
            conf = conf_ids.setdefault(conf_text or f"row{line}", len(conf_ids))
        if country not in cidx:
            cidx[country] = len(countries)
            countries.append(country)
        rows.append((t, int(kind), payer, cidx[country], int(dur_text), conf, tf))
        numbers.append(far)
        usage_ids.append(usage)
        call_ids.append(get(row, "Call ID") or usage)
        lines.append(line)
    return Attempts.from_rows(rows, countries, numbers=numbers, usage_ids=usage_ids, call_ids=call_ids,
                              lines=lines, duplicates=duplicates, service_numbers=service_numbers,
                              conference_ids=list(conf_ids))


def _unknown_user(where, upn, row, get, tenant, world) -> int:
    if not upn:
        raise InputError(f"{where}: UPN", "is empty; a user or meeting call needs the user's UPN")
    if tenant.replay_users != "infer":
        raise InputError(f"{where}: UPN", f"{upn} is not a user of the scenario's tenant; add it under "
                                          "tenant.users or set tenant.replay_users: infer")
    loc = get(row, "User Location").upper()
    country = loc if len(loc) == 2 and loc.isalpha() else (tenant.replay_default_country or "US")
    user = TenantUser(upn, get(row, "User Display Name") or upn, country, "", country_timezone(country),
                      LicenceSet.of(tenant.replay_default_licences), "any", get(row, "Microsoft Entra ObjectId")
                      or get(row, "AAD ObjectId"))
    return world.add_user(user)
