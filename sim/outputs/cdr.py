"""The R12 PSTN usage report (cdr.csv): one row per connected call, in the 2025 export's columns,
built column by column (one numpy / pyarrow operation per column, not a Python loop per row)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import geocoder

from models.calls import CALL_TYPE, INBOUND, CallKind
from models.licences import CAPABILITY, Licence

from sim.inputs.attempts import TENANT
from sim.inputs.reports.columns import COLUMNS_2025
from .columns import digits, fixed_text, guids, inert_texts, lookup, money2, timestamps
from .folder import inert

CDR_COLUMNS = COLUMNS_2025          # written in the columns replay reads back (R12)


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

    def usage_column(self, ix: np.ndarray) -> pa.Array:
        """usage_id(i) for every attempt number i in ix, as one column."""
        return inert_texts([self.usage[i] for i in ix.tolist()]) if self.usage else guids(self._u, ix)

    def call_column(self, ix: np.ndarray) -> pa.Array:
        return inert_texts([self.call[i] for i in ix.tolist()]) if self.call else guids(self._c, ix)


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


def _user_cells(world) -> dict[str, list]:
    """Per payer index (the last entry: the tenant, payer -1): the CDR's user cells."""
    users = world.users
    cells = {"home": [u.country for u in users], "object_id": [inert(u.object_id) for u in users],
             "upn": [inert(u.upn) for u in users], "display_name": [inert(u.display_name) for u in users],
             "number": [inert(u.number) for u in users]}
    for values in cells.values():
        values.append("")
    return cells


def _route_cells(world, attempts, account, payer, kind, country):
    """Per row: Domestic/International, and the capability of a pool-paid and of a free call,
    resolved once per distinct (payer, kind, country)."""
    n_countries = max(len(attempts.countries), 1)
    key = ((payer.astype(np.int64) + 1) * 16 + kind) * n_countries + country
    uniq, inv = np.unique(key, return_inverse=True)
    domestic, pool_cap, free_cap = [], [], []
    for kv in uniq.tolist():
        pk, c = divmod(kv, n_countries)
        p, k = divmod(pk, 16)
        p -= 1
        route = account.route(p, k, attempts.countries[c])
        domestic.append("Domestic" if route.domestic else "International")
        pool_cap.append(route.pool.capability if route.pool is not None else "")
        free_cap.append(_free_capability(_KIND_OF[k], world.users[p] if p != TENANT else None))
    return inv, domestic, pool_cap, free_cap


CDR_BLOCK = 1 << 18          # connected calls built and written per block (bounded memory)


def cdr_tables(world, attempts, run, ids: CallIds, block: int = CDR_BLOCK):
    """R12 rows of every connected call, in attempt order: tables of at most `block` rows."""
    rows = np.flatnonzero(np.asarray(run.outcomes.connected) >= 0)
    for b in range(0, max(len(rows), 1), block):
        yield cdr_table(world, attempts, run, ids, rows[b:b + block])


def cdr_table(world, attempts, run, ids: CallIds, ix: np.ndarray | None = None) -> pa.Table:
    """R12 rows of the connected calls `ix` (default: all), in attempt order, as typed columns
    (see tablefile)."""
    out = run.outcomes
    connected = np.asarray(out.connected)
    ix = np.flatnonzero(connected >= 0) if ix is None else ix
    secs = connected[ix].astype(np.int64)
    start = attempts.t[ix]
    kind = attempts.kind[ix].astype(np.int64)
    payer = attempts.payer[ix].astype(np.int64)
    country = attempts.country[ix].astype(np.int64)
    paid = np.asarray(out.paid)[ix]
    countries = attempts.countries
    users = _user_cells(world)
    user_ix = np.where(payer == TENANT, len(world.users), payer)
    is_user = payer != TENANT

    kinds = [_KIND_OF.get(k) for k in range(max(_KIND_OF) + 1)]
    inbound = np.array([k in INBOUND for k in kinds])[kind]
    own_is_service = np.array([k in _OWN_IS_SERVICE for k in kinds])[kind]

    services = [inert(s) for s in (attempts.service_numbers or [tf.number for tf in world.toll_free])] + [""]
    tfi = attempts.tf[ix].astype(np.int64)
    service_ix = np.where((tfi >= 0) & (tfi < len(services) - 1), tfi, len(services) - 1)
    has_service = service_ix < len(services) - 1
    # own number: the user's, else the service number; a service call shows the service number
    own = pc.if_else(pa.array(own_is_service & has_service | ~is_user),
                     lookup(services, service_ix), lookup(users["number"], user_ix))
    if attempts.numbers:
        far = inert_texts([attempts.numbers[i] for i in ix.tolist()])
    else:
        last4 = np.empty((len(ix), 4), np.uint8)
        digits(last4, 0, (ix.astype(np.int64) * 7919) % 10000, 4)
        far = pc.binary_join_element_wise(lookup([_number_stem(c) for c in countries], country),
                                          fixed_text(last4), "")
    inbound_a = pa.array(inbound)
    toll_free_country = [tf.country for tf in world.toll_free]
    known = (tfi >= 0) & (tfi < len(toll_free_country))
    home = pc.if_else(pa.array(is_user), lookup(users["home"], user_ix),
                      pc.if_else(pa.array(known), lookup(toll_free_country + [""],
                                                         np.where(known, tfi, len(toll_free_country))),
                                 lookup(countries, country)))
    inv, domestic, pool_cap, free_cap = _route_cells(world, attempts, run.account, payer, kind, country)
    credits = CAPABILITY[Licence.COMMUNICATIONS_CREDITS]
    capability = pc.if_else(pa.array(paid & 2 > 0), credits,
                            pc.if_else(pa.array(paid & 1 > 0), lookup(pool_cap, inv), lookup(free_cap, inv)))
    conf = attempts.conf[ix]
    if attempts.conference_ids:
        names = [inert(c) for c in attempts.conference_ids] + [""]
        conference = lookup(names, np.where(conf >= 0, conf, len(names) - 1))
    else:
        conference = pc.if_else(pa.array(conf >= 0), pa.array(conf).cast(pa.string()), "")
    n = len(ix)
    columns = [
        ids.usage_column(ix), ids.call_column(ix), conference,
        home, lookup(users["object_id"], user_ix), lookup(users["upn"], user_ix),
        lookup(users["display_name"], user_ix),
        pc.if_else(inbound_a, far, own), lookup([CALL_TYPE.get(k, "") for k in kinds], kind),
        lookup(["Inbound" if k in INBOUND else "Outbound" for k in kinds], kind),
        lookup([_number_type(k) if k is not None else "" for k in kinds], kind),
        lookup(domestic, inv), lookup([country_name(c) for c in countries], country),
        pc.if_else(inbound_a, own, far), lookup(countries, country),
        timestamps(world.clock, start), timestamps(world.clock, start + secs), pa.array(secs),
        money2(np.asarray(out.fee)[ix]), money2(np.asarray(out.charge)[ix]),
        pa.repeat(world.scenario.currency, n), capability, pa.repeat("Microsoft", n), pa.repeat("Microsoft", n),
        pa.repeat("", n),
    ]
    table = pa.table([c.cast(pa.string()) if pa.types.is_null(c.type) else c for c in columns], names=CDR_COLUMNS)
    return keep_identity(table, ix, attempts.passthrough) if attempts.passthrough else table


def keep_identity(table: pa.Table, ix: np.ndarray, kept: list[dict[str, str]]) -> pa.Table:
    """Replay: the report's own value of every column the rebilling does not decide (Caller ID,
    Entra ObjectId, display name, Destination Number, Administrative Units ...) replaces the
    computed one; billing columns (times, fee, charge, capability, Domestic/International) stay."""
    rows = [kept[i] for i in ix.tolist()]
    for name in sorted({n for r in rows for n in r} & set(CDR_COLUMNS)):
        col = table.column(name)
        if not pa.types.is_string(col.type):
            continue                      # typed columns are billing columns: never overlaid
        values = [inert(r[name]) if name in r else v for r, v in zip(rows, col.to_pylist())]
        table = table.set_column(CDR_COLUMNS.index(name), name, pa.array(values, pa.string()))
    return table
