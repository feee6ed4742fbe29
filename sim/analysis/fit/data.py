"""A usage report's rows (sim.inputs.reports.read_calls) as the columns a fit needs.

Each row becomes one call of a kind the traffic model draws (models.calls.KIND_NAME):
user_out, user_in, emergency, toll_free_in, conf_out, conf_in_toll_free, conf_in_toll.
Rows the model does not draw are counted, not fitted: Direct Routing / Operator Connect
(`not_billed`), resource accounts' outbound calls and calls to non-toll-free service
numbers (`not_modelled`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import phonenumbers

from sim.inputs.reports import calltypes
from sim.inputs.tenant import country_timezone, number_timezone

KINDS = ("user_out", "user_in", "emergency", "toll_free_in", "conf_out", "conf_in_toll_free", "conf_in_toll")
USER_KINDS = frozenset({"user_out", "user_in", "emergency", "conf_out", "conf_in_toll_free", "conf_in_toll"})


@dataclass
class ReportUser:
    upn: str
    display_name: str = ""
    country: str = ""
    number: str = ""
    capabilities: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)

    @property
    def tz(self) -> str:
        return (self.number and number_timezone(self.number)) or country_timezone(self.country or "US")


@dataclass
class Calls:
    """One entry per modelled call; times in seconds since `start` (00:00 UTC of the first call's day)."""
    start: datetime
    days: int
    kind: np.ndarray                 # str, KINDS
    t: np.ndarray                    # int64 seconds since start
    minutes: np.ndarray              # connected minutes (> 0)
    user: np.ndarray                 # int index into users, -1 for toll-free queue calls
    far_country: np.ndarray          # str: destination (outbound) or origin (inbound)
    number: np.ndarray               # str: the tenant's number called (inbound), "" otherwise
    conference: np.ndarray           # str Conference ID, "" otherwise
    money: np.ndarray                # int64 reported Charge + Connection Fee, ten-thousandths
    users: list[ReportUser]
    currency: str
    not_billed: int = 0
    not_modelled: Counter = field(default_factory=Counter)
    months: list[tuple[str, float]] = field(default_factory=list)   # (YYYY-MM, share of the month covered)

    def of(self, kind: str) -> np.ndarray:
        return self.kind == kind


def _toll_free(row) -> bool:
    if row.number_type:
        return row.number_type == "toll-free"
    try:
        n = phonenumbers.parse(row.destination_number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.TOLL_FREE


def _kind(row) -> str | None:
    b = row.billing
    if b == calltypes.USER_OUT:
        return "user_out"
    if b == calltypes.EMERGENCY:
        return "emergency"
    if b == calltypes.CONF_OUT:
        return "conf_out"
    if b == calltypes.FREE_IN:
        return "user_in" if row.upn else None
    if b == calltypes.SERVICE_IN:
        return "toll_free_in" if _toll_free(row) else None
    if b == calltypes.CONF_IN:
        return "conf_in_toll_free" if _toll_free(row) else "conf_in_toll"
    return None                      # resource_out


def _months(start: datetime, days: int) -> list[tuple[str, float]]:
    out: dict[str, list[int]] = {}
    for d in range(days):
        day = start + timedelta(days=d)
        out.setdefault(f"{day:%Y-%m}", []).append(day.day)
    result = []
    for month, present in out.items():
        y, m = map(int, month.split("-"))
        nxt = datetime(y + (m == 12), m % 12 + 1, 1)
        length = (nxt - datetime(y, m, 1)).days
        result.append((month, len(present) / length))
    return result


def calls_of(rows) -> Calls:
    """Rows (start-time order) -> Calls. The period runs from 00:00 UTC of the first call's day to
    the end of the last call's day."""
    users: list[ReportUser] = []
    index: dict[str, int] = {}
    cols = {k: [] for k in ("kind", "t", "minutes", "user", "far", "number", "conf", "money")}
    not_billed, not_modelled, currency = 0, Counter(), Counter()
    first = rows[0].start
    start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
    last = rows[-1].start
    days = (datetime(last.year, last.month, last.day, tzinfo=timezone.utc) - start).days + 1
    for row in rows:
        if not row.billed_by_credits:
            not_billed += 1
            continue
        kind = _kind(row)
        if kind is None or row.duration <= 0:
            not_modelled[row.call_type if kind is None else "zero-length"] += 1
            continue
        if kind in USER_KINDS and not row.upn:      # no user to give the call to (a replay refuses it)
            not_modelled[f"{row.call_type} without a UPN"] += 1
            continue
        ui = -1
        if kind in USER_KINDS:
            key = row.upn.lower()
            if key not in index:
                index[key] = len(users)
                users.append(ReportUser(row.upn, row.display_name, row.user_location))
            ui = index[key]
            u = users[ui]
            u.display_name = u.display_name or row.display_name
            u.country = u.country or row.user_location
            if kind == "user_out" and row.caller_number and "*" not in row.caller_number:
                u.number = u.number or row.caller_number
            if row.capability:
                u.capabilities[row.capability.upper()] += 1
            u.kinds[kind] += 1
        if row.currency:
            currency[row.currency] += 1
        cols["kind"].append(kind)
        cols["t"].append(int((row.start - start).total_seconds()))
        cols["minutes"].append(row.duration / 60)
        cols["user"].append(ui)
        cols["far"].append(row.far_country)
        cols["number"].append(row.destination_number if kind in ("toll_free_in", "conf_in_toll_free") else "")
        cols["conf"].append(row.conference_id if kind.startswith("conf") else "")
        cols["money"].append((row.charge or 0) + (row.fee or 0))
    return Calls(start, days, np.array(cols["kind"], dtype="<U20"), np.array(cols["t"], np.int64),
                 np.array(cols["minutes"], float), np.array(cols["user"], np.int64),
                 np.array(cols["far"], dtype="<U2"), np.array(cols["number"], dtype=object),
                 np.array(cols["conf"], dtype=object), np.array(cols["money"], np.int64), users,
                 currency.most_common(1)[0][0] if currency else "USD", not_billed, not_modelled,
                 _months(start, days))

