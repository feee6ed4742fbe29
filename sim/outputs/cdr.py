"""The R12 PSTN usage report (cdr.csv): one row per connected call, in the 2025 export's columns,
built column by column (one numpy / pyarrow operation per column, not a Python loop per row)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from models.calls import CALL_TYPE, INBOUND, CallKind
from models.licences import CAPABILITY, Licence

from sim.engine.prepass import payer_class_table
from sim.inputs.attempts import TENANT
from sim.inputs.countries import COUNTRY_NAMES
from sim.inputs.reports.columns import COLUMNS_2025
from .columns import digits, fixed_text, guids, inert_texts, lookup, money2, timestamps
from .folder import inert

CDR_COLUMNS = COLUMNS_2025          # written in the columns replay reads back (R12)


def country_name(country: str) -> str:
    return COUNTRY_NAMES.get(country) or country


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


def _texts(values) -> pa.Array:
    return pa.array(values, pa.string())


def _take(texts: pa.Array, idx: np.ndarray) -> pa.Array:
    return texts.take(pa.array(np.asarray(idx, dtype=np.int64)))


class CdrCells:
    """What every block of a run's CDR looks up, built once per run: the users' cells, the
    numbers, the per-kind and per-country texts, and the route cells (Domestic/International,
    the capability of a pool-paid or a free call) per payer class, kind and country. A route
    depends on its payer only through country, licences and dial-out policy
    (sim.engine.prepass.payer_class_table), so 10,000 users resolve as a handful of classes."""

    def __init__(self, world, attempts, run):
        self.world, self.attempts, self.account = world, attempts, run.account
        users = world.users
        self.n_users = len(users)
        self.user = {name: _texts([get(u) for u in users] + [""]) for name, get in (
            ("object_id", lambda u: inert(u.object_id)),
            ("upn", lambda u: inert(u.upn)), ("display_name", lambda u: inert(u.display_name)))}
        services = [inert(s) for s in (attempts.service_numbers or [tf.number for tf in world.toll_free])]
        self.n_services = len(services)
        # own numbers: a user's (or "" for the tenant), then the service numbers (or "")
        self.own = _texts([inert(u.number) for u in users] + [""] + services + [""])
        countries = attempts.countries
        # home country: the user's, else the toll-free number's, else the called country
        self.n_tf = len(world.toll_free)
        self.home = _texts([u.country for u in users] + [tf.country for tf in world.toll_free] + list(countries))
        self.country = _texts(countries)
        self.country_name = _texts([country_name(c) for c in countries])
        self.stem = _texts([_number_stem(c) for c in countries])
        kinds = [_KIND_OF.get(k) for k in range(max(_KIND_OF) + 1)]
        self.kinds = kinds
        self.inbound = np.array([k in INBOUND for k in kinds])
        self.own_is_service = np.array([k in _OWN_IS_SERVICE for k in kinds])
        self.call_type = _texts([CALL_TYPE.get(k, "") for k in kinds])
        self.direction = _texts(["Inbound" if k in INBOUND else "Outbound" for k in kinds])
        self.number_type = _texts([_number_type(k) if k is not None else "" for k in kinds])
        self.class_of, self.class_rep = payer_class_table(world.payers)
        self._routes: dict[int, tuple[bool, str, str]] = {}

    def routes(self, payer, kind, country):
        """(row -> distinct key, domestic of each key, pool capability of each, free capability of each)."""
        nc = max(len(self.attempts.countries), 1)
        key = (self.class_of[payer + 1] * 16 + kind) * nc + country
        uniq, inv = np.unique(key, return_inverse=True)
        cells = []
        for kv in uniq.tolist():
            if kv not in self._routes:
                ck, c = divmod(kv, nc)
                cls, k = divmod(ck, 16)
                p = self.class_rep[cls]
                route = self.account.route(p, k, self.attempts.countries[c])
                self._routes[kv] = (route.domestic, route.pool.capability if route.pool is not None else "",
                                    _free_capability(_KIND_OF[k], self.world.users[p] if p != TENANT else None))
            cells.append(self._routes[kv])
        domestic, pool_cap, free_cap = zip(*cells) if cells else ((), (), ())
        return inv.reshape(-1), np.array(domestic, bool), list(pool_cap), list(free_cap)


CDR_BLOCK = 1 << 16          # attempts whose CDR rows are built and written per block (bounded memory)


def cdr_tables(world, attempts, run, ids: CallIds, block: int = CDR_BLOCK):
    """R12 rows of every connected call, in attempt order: a table for each `block` attempts
    (those of them that connected), so that no column spans the run."""
    connected = np.asarray(run.outcomes.connected)
    cells = CdrCells(world, attempts, run)
    for b in range(0, max(len(connected), 1), block):
        yield cdr_table(world, attempts, run, ids, b + np.flatnonzero(connected[b:b + block] >= 0), cells)


def cdr_table(world, attempts, run, ids: CallIds, ix: np.ndarray | None = None,
              cells: CdrCells | None = None) -> pa.Table:
    """R12 rows of the connected calls `ix` (default: all), in attempt order, as typed columns
    (see tablefile)."""
    out = run.outcomes
    cells = cells or CdrCells(world, attempts, run)
    connected = np.asarray(out.connected)
    ix = np.flatnonzero(connected >= 0) if ix is None else ix
    secs = connected[ix].astype(np.int64)
    start = attempts.t[ix]
    kind = attempts.kind[ix].astype(np.int64)
    payer = attempts.payer[ix].astype(np.int64)
    country = attempts.country[ix].astype(np.int64)
    paid = np.asarray(out.paid)[ix]
    is_user = payer != TENANT
    user_ix = np.where(is_user, payer, cells.n_users)
    inbound = pa.array(cells.inbound[kind])

    tfi = attempts.tf[ix].astype(np.int64)
    known_service = (tfi >= 0) & (tfi < cells.n_services)
    # own number: the user's, else the service number; a service call shows the service number
    own = _take(cells.own, np.where(cells.own_is_service[kind] & known_service | ~is_user,
                                    cells.n_users + 1 + np.where(known_service, tfi, cells.n_services), user_ix))
    if attempts.numbers:
        far = inert_texts([attempts.numbers[i] for i in ix.tolist()])
    else:
        last4 = np.empty((len(ix), 4), np.uint8)
        digits(last4, 0, (ix.astype(np.int64) * 7919) % 10000, 4)
        far = pc.binary_join_element_wise(_take(cells.stem, country), fixed_text(last4), "")
    u_n = cells.n_users
    home = _take(cells.home, np.where(is_user, payer, np.where((tfi >= 0) & (tfi < cells.n_tf), u_n + tfi,
                                                                u_n + cells.n_tf + country)))
    inv, domestic, pool_cap, free_cap = cells.routes(payer, kind, country)
    u = len(free_cap)
    # capability: Communications Credits when credits paid, else the pool's, else the free call's
    capability = _take(_texts(free_cap + pool_cap + [CAPABILITY[Licence.COMMUNICATIONS_CREDITS]]),
                       np.where(paid & 2 > 0, 2 * u, np.where(paid & 1 > 0, u + inv, inv)))
    conf = attempts.conf[ix]
    if attempts.conference_ids:
        names = [inert(c) for c in attempts.conference_ids] + [""]
        conference = lookup(names, np.where(conf >= 0, conf, len(names) - 1))
    else:
        conference = pc.if_else(pa.array(conf >= 0), pa.array(conf).cast(pa.string()), "")
    n = len(ix)
    columns = [
        ids.usage_column(ix), ids.call_column(ix), conference,
        home, _take(cells.user["object_id"], user_ix), _take(cells.user["upn"], user_ix),
        _take(cells.user["display_name"], user_ix),
        pc.if_else(inbound, far, own), _take(cells.call_type, kind), _take(cells.direction, kind),
        _take(cells.number_type, kind),
        _take(_texts(["International", "Domestic"]), domestic[inv]), _take(cells.country_name, country),
        pc.if_else(inbound, own, far), _take(cells.country, country),
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
