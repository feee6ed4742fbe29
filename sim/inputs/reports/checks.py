"""One record of any export -> a checked `CallRow` (issue 12's report-row checks).

Every fault is an InputError naming file, line and column: a country that is not ISO 3166-1
alpha-2, a number that is not one (or that a spreadsheet damaged), control characters in
text, times that are not ISO 8601 (a spreadsheet's local dates), End Time before Start Time,
a call longer than 24 h, amounts with decimal commas.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import phonenumbers

from models.money import MoneyError, parse_money
from sim.errors import InputError
from sim.inputs.countries import COUNTRY_NAMES, ISO_3166_ALPHA2, country_problem
from sim.inputs.spec_base import MAX_AMOUNT
from sim.inputs.yamlfile import clip

from . import calltypes
from .formats import RESAVE

MAX_CALL_SECONDS = 24 * 3600          # a longer "call" is an input error, not a month of billing
COUNTRY_CODES = ISO_3166_ALPHA2
NUMBER_TYPES = {"user": "user", "subscriber": "user", "service": "service", "toll-free": "toll-free",
                "tollfree": "toll-free", "toll_free": "toll-free", "toll free": "toll-free"}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.I)
_LOCAL_DATE = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_SCIENTIFIC = re.compile(r"^\d+([.,]\d+)?[eE]\+?\d+$")
_NUMBER = re.compile(r"^\+\d[\d*]*$")
TOLL_FREE_IN = (calltypes.SERVICE_IN, calltypes.CONF_IN)    # charged at the caller's origin when toll-free


@dataclass
class CallRow:
    """One call of a usage report, in one vocabulary whatever the export (see `read_calls`)."""
    where: str                 # "file:line" (JSON: "file: row N"), for messages
    usage_id: str
    call_id: str
    conference_id: str
    call_type: str             # as documented, lower case: user_out, ucap_in, dr_out, ...
    billing: str               # calltypes.*: user_out, resource_out, free_in, ..., direct_routing, operator_connect
    direction: str             # Inbound / Outbound
    upn: str
    object_id: str
    display_name: str
    user_location: str         # ISO 3166-1 alpha-2, or ""
    number_type: str           # user / service / toll-free, or "" when the export has none
    caller_number: str         # as reported (obfuscated digits kept: +17185550***; "" when withheld)
    destination_number: str
    far_number: str            # the external party: Destination Number out, Caller ID in
    far_country: str           # ISO code of the external party, "" when unknown (free calls only)
    country_rule: str          # which field gave far_country
    start: datetime            # UTC, whole seconds
    end: datetime | None
    duration: int              # connected seconds (Duration Seconds)
    charge: int | None         # reported, in ten-thousandths (models.money); None when not reported
    fee: int | None
    currency: str
    capability: str
    operator: str
    domestic: str              # reported Domestic/International
    columns: dict[str, str] = field(default_factory=dict)   # every input field, under its 2025 column name

    @property
    def billed_by_credits(self) -> bool:
        return self.billing not in calltypes.NOT_BILLED


def check_text(where: str, cols: dict[str, str]) -> None:
    if not _CONTROL.search("\n".join(cols.values())):      # one search per row; \n is not matched
        return
    for name, value in cols.items():
        m = _CONTROL.search(value)
        if m:
            raise InputError(f"{where}: {name}", f"a control character (U+{ord(m.group()):04X}) at position "
                                                 f"{m.start() + 1}; remove it or re-export the report")


def country(where: str, column: str, text: str) -> str:
    code = text.strip().upper()
    if not code:
        return ""
    problem = country_problem(code)
    if problem:
        raise InputError(f"{where}: {column}", problem)
    return code


def instant(where: str, column: str, text: str) -> datetime:
    m = _TIME.match(text.strip())
    if not m:
        if _LOCAL_DATE.match(text.strip()):
            raise InputError(f"{where}: {column}", f"{text!r} is a spreadsheet's local date format, not the export's "
                                                   f"ISO 8601 UTC time (2026-01-05T17:35:00Z); {RESAVE}")
        raise InputError(f"{where}: {column}", f"expected an ISO 8601 UTC time like 2026-01-05T14:03:00Z, got {text!r}")
    tz = (m.group(5) or "Z").upper()
    try:
        dt = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{m.group(3) or ':00'}{'+00:00' if tz == 'Z' else tz}")
        return dt.astimezone(timezone.utc)        # fractions of a second dropped: the clock ticks in seconds
    except (ValueError, OverflowError) as e:          # 2026-02-30, 25:00, +99:99, year 0 or 9999 shifted
        why = "its UTC offset is not within 24 hours" if "offset" in str(e) else e
        raise InputError(f"{where}: {column}", f"{text.strip()!r} is not a real instant ({why}); expected an ISO "
                                               "8601 UTC time like 2026-01-05T14:03:00Z") from None


def number(where: str, column: str, text: str, presented: bool = False) -> str:
    """E.164, possibly with obfuscated trailing digits (`+17185550***`, spaces dropped as in the
    documentation's `+123 456789***`), a short code, or "" (withheld). `presented`: the Caller ID
    of an inbound call, which "might be any non-E.164 number", even a name ("Internal Revenue
    Service", pstn-usage-report.md): kept as written, its country unknown."""
    t = text.strip()
    if t.startswith("+") and " " in t:
        t = t.replace(" ", "")
    if not t or _NUMBER.match(t) or (t.isdigit() and len(t) <= 6):
        return t                  # short codes: emergency (911, 112) and service numbers
    if _SCIENTIFIC.match(t):
        raise InputError(f"{where}: {column}", f"{t!r} is a phone number a spreadsheet turned into a number in "
                                               f"scientific notation: its digits are lost; {RESAVE}")
    if presented and not (t.isdigit() and t[0] != "0"):   # digits without a leading 0: a spreadsheet's
        return text.strip()                                # damage (below); 0207... is a national number
    if t.isdigit():
        raise InputError(f"{where}: {column}", f"{t!r} has lost its leading '+' (a spreadsheet read it as a number); "
                                               f"{RESAVE}, or write it as +{t}")
    raise InputError(f"{where}: {column}", f"{t!r} is not a phone number: expected E.164 like +12065550100")


_PLAIN_AMOUNT = re.compile(r"(\d{1,12})\.(\d{1,4})")      # 0.11, 12.3456: the export's own form


def money(where: str, column: str, text: str) -> int | None:
    t = text.strip()
    if not t:
        return None
    if m := _PLAIN_AMOUNT.fullmatch(t):            # most rows: no Decimal needed
        return int(m.group(1)) * 10_000 + int(m.group(2).ljust(4, "0"))
    if re.match(r"^-?\d+,\d+$", t):
        raise InputError(f"{where}: {column}", f"{t!r} has a decimal comma (a spreadsheet's locale); {RESAVE}")
    if len(t) > 40:
        raise InputError(f"{where}: {column}", f"expected an amount like 0.11, got {clip(t)!r}")
    try:
        units = parse_money(t)
    except MoneyError as e:
        raise InputError(f"{where}: {column}", str(e)) from None
    if abs(units) > MAX_AMOUNT:                   # 1e999: no call costs that, and the sums would overflow
        raise InputError(f"{where}: {column}", f"{t!r} is not an amount a call is charged")
    return units


def seconds(where: str, text: str) -> int:
    t = text.strip()
    if t.endswith(".0"):
        t = t[:-2]
    if not (t.isascii() and t.isdigit()) or len(t) > 12:       # not '³', '３００' or 5,000 digits
        raise InputError(f"{where}: Duration Seconds", f"expected a whole number of seconds, got {clip(text)!r}")
    n = int(t)
    if n > MAX_CALL_SECONDS:
        raise InputError(f"{where}: Duration Seconds", f"{n} s is longer than a day ({MAX_CALL_SECONDS} s): "
                                                      "not a call this simulator replays; check the row")
    return n


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    names = {}
    for region in sorted(COUNTRY_CODES):
        if COUNTRY_NAMES.get(region):
            names.setdefault(COUNTRY_NAMES[region].lower(), region)
    names.update({"united states of america": "US", "usa": "US", "uk": "GB", "great britain": "GB"})
    return names


def number_country(far: str) -> tuple[str, str]:
    """Country of an E.164 number (obfuscated digits read as 0) -> (code or "", rule)."""
    if not far:
        return "", ""
    try:
        parsed = phonenumbers.parse(far.replace("*", "0"), None)
    except phonenumbers.NumberParseException:
        return "", ""
    region = phonenumbers.region_code_for_number(parsed)
    if region in COUNTRY_CODES:
        return region, "number prefix"
    main = phonenumbers.region_code_for_country_code(parsed.country_code)
    if main in COUNTRY_CODES:
        # +1 and others shared by several countries: the digits left do not decide (e.g. obfuscated)
        return main, f"number prefix +{parsed.country_code} (shared code; taken as its main country {main})"
    return "", ""


def far_country(where: str, cols: dict[str, str], far: str, location: str, outbound: bool) -> tuple[str, str]:
    ext = country(where, "External Country", cols.get("External Country", ""))
    if ext:
        return ext, "External Country"
    dialed = cols.get("Destination Dialed", "").strip().lower()
    if outbound and dialed in _country_names():     # inbound, it names the tenant's number's country
        return _country_names()[dialed], "Destination Dialed"
    code, rule = number_country(far)
    if code:
        return code, rule
    if outbound and location and cols.get("Domestic/International", "").strip().lower() == "domestic":
        return location, "User Location (a domestic call)"
    return "", ""


def to_row(where: str, cols: dict[str, str], call_type: calltypes.CallType) -> CallRow:
    check_text(where, cols)
    usage = cols.get("UsageId", "")
    if not usage:
        raise InputError(f"{where}: UsageId", "is empty; every row needs its UsageId (Graph: id)")
    start = instant(where, "Start Time", cols["Start Time"])
    end = instant(where, "End Time", cols["End Time"]) if cols.get("End Time") else None
    if end is not None and end.year == 1:
        end = None                # Graph's empty value (0001-01-01T00:00:00Z): a call that did not connect
    duration = seconds(where, cols["Duration Seconds"])
    if end is not None and end < start:
        raise InputError(f"{where}: End Time", f"{cols['End Time']} is before the Start Time {cols['Start Time']}")
    if end is not None and end - start > timedelta(seconds=MAX_CALL_SECONDS + 1):
        raise InputError(f"{where}: End Time", "more than a day after the Start Time: not a call this simulator "
                                               "replays; check the row")
    location = country(where, "User Location", cols.get("User Location", ""))
    outbound = call_type.direction == "Outbound"
    caller = number(where, "Caller ID", cols.get("Caller ID", ""), presented=not outbound)
    dest = number(where, "Destination Number", cols.get("Destination Number", ""))
    far = dest if outbound else caller
    code, rule = far_country(where, cols, far, location, outbound)
    if not code and call_type.billing in TOLL_FREE_IN and (code := number_country(dest)[0]):
        # the caller's country unknown (withheld, a name, +0...): a toll-free number is rated at its
        # origin (R3); the number's own country is where most of its callers are
        rule = "the called number's country (the Caller ID tells none)"
    ntype_text = cols.get("Number Type", "").strip().lower()
    ntype = NUMBER_TYPES.get(ntype_text)
    if ntype is None and ntype_text:
        raise InputError(f"{where}: Number Type", f"expected user/service/toll-free (or Subscriber/Service/TollFree), "
                                                  f"got {cols['Number Type']!r}")
    billing = call_type.billing
    if billing not in calltypes.NOT_BILLED and calltypes.operator_connect(cols.get("Operator", ""),
                                                                           cols.get("Source of Call Duration", "")):
        billing = calltypes.OPERATOR_CONNECT
    return CallRow(
        where=where, usage_id=usage, call_id=cols.get("Call ID", ""), conference_id=cols.get("Conference ID", ""),
        call_type=cols["Call Type"].strip().lower(), billing=billing, direction=call_type.direction,
        upn=cols.get("UPN", ""), object_id=cols.get("Microsoft Entra ObjectId", ""),
        display_name=cols.get("User Display Name", ""), user_location=location, number_type=ntype or "",
        caller_number=caller, destination_number=dest, far_number=far, far_country=code, country_rule=rule,
        start=start, end=end, duration=duration,
        charge=money(where, "Charge", cols.get("Charge", "")), fee=money(where, "Connection Fee",
                                                                         cols.get("Connection Fee", "")),
        currency=cols.get("Currency", ""), capability=cols.get("Capability", ""), operator=cols.get("Operator", ""),
        domestic=cols.get("Domestic/International", ""), columns=cols)
