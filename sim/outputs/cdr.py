"""The R12 PSTN usage report (cdr.csv): one row per connected call, in the 2025 export's columns."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import phonenumbers
from phonenumbers import geocoder

from models.calls import CALL_TYPE, INBOUND, CallKind
from models.licences import CAPABILITY, Licence
from models.money import round_half_up_2

from sim.inputs.attempts import TENANT
from .folder import inert

CDR_COLUMNS = ["UsageId", "Call ID", "Conference ID", "User Location", "Microsoft Entra ObjectId", "UPN",
               "User Display Name", "Caller ID", "Call Type", "Call Direction", "Number Type",
               "Domestic/International", "Destination Dialed", "Destination Number", "External Country",
               "Start Time", "End Time", "Duration Seconds", "Connection Fee", "Charge", "Currency",
               "Capability", "Operator", "Source of Call Duration", "Administrative Units"]


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


_CDR_INDEX = {c: i for i, c in enumerate(CDR_COLUMNS)}


def keep_identity(row: list, kept: dict[str, str]) -> list:
    """Replay: the report's own value of every column the rebilling does not decide (Caller ID,
    Entra ObjectId, display name, Destination Number, Administrative Units ...) replaces the
    computed one; billing columns (times, fee, charge, capability, Domestic/International) stay."""
    for name, value in kept.items():
        i = _CDR_INDEX.get(name)
        if i is not None:
            row[i] = inert(value)
    return row


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
    kept = attempts.passthrough
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
            row = [
                usage_id(i), call_id(i), conference_id(cf),
                home, object_id, upn, display_name,
                inert(far if inbound else own), call_type, direction, number_type,
                "Domestic" if route.domestic else "International", country_name(country),
                inert(own if inbound else far), country,
                iso(start), iso(start + secs), secs,
                round_half_up_2(fee), round_half_up_2(charge), currency,
                capability, "Microsoft", "Microsoft", "",
            ]
            yield keep_identity(row, kept[i]) if kept else row
