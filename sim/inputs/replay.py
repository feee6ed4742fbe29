"""Replay a Teams PSTN usage report (R12): rows of any export -> call attempts under the
scenario's tenant. Reading and checking the files is `sim.inputs.reports` (no scenario
needed); this module decides who pays each row (calltypes table), finds or infers its user,
and keeps what the rebilling does not decide (identity columns, the reported charges).
"""
from __future__ import annotations

from pathlib import Path

from models.calls import FREE, CallKind
from models.licences import Licence, LicenceSet

from sim.errors import InputError

from .attempts import TENANT, Attempts
from .reports import calltypes, read_calls
from .reports.checks import MAX_CALL_SECONDS
from .tenant import TenantUser, country_timezone

# Columns of the 2025 export the rebilling decides; every other input column is kept as read.
REBILLED_COLUMNS = frozenset({"Domestic/International", "Start Time", "End Time", "Duration Seconds",
                              "Connection Fee", "Charge", "Currency", "Capability"})
# Where the report leaves these empty, the CDR shows what the rebilling used (countries, kinds);
# identity (numbers, users, names, ids) stays as read, empty included (withheld, not named).
FILLED_WHEN_EMPTY = frozenset({"External Country", "Destination Dialed", "User Location", "Number Type",
                               "Call Direction"})
# A resource account paying from credits (tenant.replay_ucap_out: credits, or a ucap_out row naming none)
RESOURCE_LICENCES = [Licence.PHONE_SYSTEM, Licence.PAY_AS_YOU_GO_CALLING_PLAN, Licence.COMMUNICATIONS_CREDITS]


def replay_paths(base: Path, replay) -> list[Path]:
    """traffic.replay (a file, a folder, or a list of them), relative to the scenario's folder."""
    return [base / p for p in ([replay] if isinstance(replay, str) else replay)]


def read_report(paths, world) -> Attempts:
    """Report file(s) -> the attempts to rebill, with `attempts.import_report` filled."""
    tenant = world.scenario.tenant
    rows, report = read_calls(paths, unknown_call_types=tenant.replay_unknown_call_types,
                              allow_empty=tenant.replay_allow_empty)
    build = _Builder(world)
    currency = world.scenario.currency
    for row in rows:
        if row.billed_by_credits:
            if row.currency and row.currency.upper() != currency and (row.charge or row.fee):
                raise InputError(f"{row.where}: Currency", f"the report charges in {row.currency} but the scenario "
                                                           f"bills in {currency}: set `currency: {row.currency}` "
                                                           "(with a rate card in it) to reconcile")
            build.add(row)
    report.rows_billed = len(build.rows)
    report.users_found = len(build.found)
    report.users_inferred = len(build.inferred)
    report.number_type_disagreements = build.disagreements
    report.direction_disagreements = build.direction_disagreements
    a = Attempts.from_rows(build.rows, build.countries, numbers=build.numbers, usage_ids=build.usage_ids,
                           call_ids=build.call_ids, lines=build.lines, duplicates=report.duplicates,
                           service_numbers=build.service_numbers, conference_ids=list(build.conf_ids),
                           passthrough=build.passthrough, reported=build.reported)
    a.import_report = report
    return a


class _Builder:
    def __init__(self, world):
        self.world = world
        self.tenant = world.scenario.tenant
        self.toll_free = {tf.number for tf in world.toll_free}
        self.service = {tf.number: i for i, tf in enumerate(world.toll_free)}
        self.service_numbers = [tf.number for tf in world.toll_free]
        self.countries: list[str] = []
        self.cidx: dict[str, int] = {}
        self.conf_ids: dict[str, int] = {}
        self.rows, self.numbers, self.usage_ids, self.call_ids, self.lines, self.reported = [], [], [], [], [], []
        self.passthrough: list[dict[str, str]] = []
        self.found: set[int] = set()
        self.inferred: set[int] = set()
        self.disagreements: list[tuple[str, str]] = []
        self.direction_disagreements: list[tuple[str, str]] = []

    def add(self, row) -> None:
        world, where = self.world, row.where
        t = world.clock.to_t(row.start)
        if not 0 <= t < world.horizon:
            raise InputError(f"{where}: Start Time", f"{row.columns['Start Time']} is outside the scenario's "
                             f"horizon ({world.clock.iso(0)} + {world.scenario.days} days)")
        if t + row.duration > world.horizon + MAX_CALL_SECONDS:
            raise InputError(f"{where}: Duration Seconds", f"the call would end more than a day after the horizon "
                                                          f"({world.clock.iso(world.horizon)}); check the row")
        said = row.columns.get("Call Direction", "").strip()
        if said and said.lower() != row.direction.lower():
            self.direction_disagreements.append((where, f"Call Direction {said!r} but Call Type {row.call_type} is "
                                                        f"{row.direction} (Call Type used)"))
        kind, payer, tf = self._kind_payer(row)
        country = row.far_country
        if not country:
            if kind in FREE or kind == CallKind.EMERGENCY:
                # a free call needs no far end: the user's (or the row's) country stands in
                country = world.users[payer].country if payer >= 0 else (row.user_location or "US")
            else:
                field = "Destination Number" if row.direction == "Outbound" else "Caller ID"
                raise InputError(f"{where}: {field}", f"cannot tell the far end's country of this charged call "
                                                      f"({row.far_number or 'no number'!r}): expected an E.164 number, "
                                                      "an External Country or a Destination Dialed country name")
        if country not in self.cidx:
            self.cidx[country] = len(self.countries)
            self.countries.append(country)
        conf = -1
        if kind in (CallKind.CONF_IN_TOLL_FREE, CallKind.CONF_IN_TOLL, CallKind.CONF_OUT):
            conf = self.conf_ids.setdefault(row.conference_id or f"row {where}", len(self.conf_ids))
        self.rows.append((t, int(kind), payer, self.cidx[country], row.duration, conf, tf))
        self.numbers.append(row.far_number)
        self.usage_ids.append(row.usage_id)
        self.call_ids.append(row.call_id or row.usage_id)
        self.lines.append(where)
        self.reported.append((row.fee, row.charge, row.capability))
        self.passthrough.append({k: v for k, v in row.columns.items()
                                 if k not in REBILLED_COLUMNS and (v or k not in FILLED_WHEN_EMPTY)})

    def _kind_payer(self, row) -> tuple[CallKind, int, int]:
        b = row.billing
        tf = -1
        if b in (calltypes.USER_OUT, calltypes.EMERGENCY, calltypes.CONF_OUT):
            kind = {calltypes.USER_OUT: CallKind.USER_OUT, calltypes.EMERGENCY: CallKind.EMERGENCY,
                    calltypes.CONF_OUT: CallKind.CONF_OUT}[b]
            return kind, self._user(row), tf
        if b == calltypes.RESOURCE_OUT:
            if self.tenant.replay_ucap_out == "row_user" and row.upn:
                return CallKind.USER_OUT, self._user(row), tf
            return CallKind.USER_OUT, self._resource_account(row), tf
        # inbound: the tenant's number is the Destination Number
        dest = row.destination_number
        if dest:
            tf = self.service.get(dest, -1)
            if tf < 0:
                tf = self.service[dest] = len(self.service_numbers)
                self.service_numbers.append(dest)
        if b == calltypes.FREE_IN:
            if row.upn:
                return CallKind.USER_IN, self._user(row), tf
            return CallKind.UCAP_IN_TOLL, TENANT, tf          # an unassigned / service number: free
        toll_free = self._toll_free(row, dest)
        if b == calltypes.SERVICE_IN:
            return (CallKind.UCAP_IN if toll_free else CallKind.UCAP_IN_TOLL), TENANT, tf
        return (CallKind.CONF_IN_TOLL_FREE if toll_free else CallKind.CONF_IN_TOLL), self._user(row), tf

    def _toll_free(self, row, dest: str) -> bool:
        """Number Type decides; without one, the scenario's toll_free_numbers (the tie-breaker)."""
        listed = dest in self.toll_free
        if not row.number_type:
            return listed
        said = row.number_type == "toll-free"
        if said != listed and (self.toll_free or said is False):
            self.disagreements.append((row.where, f"Number Type {row.columns.get('Number Type')!r} but {dest or 'the number'} "
                                       f"is {'' if listed else 'not '}in tenant.toll_free_numbers (Number Type used)"))
        return said

    def _user(self, row) -> int:
        world = self.world
        idx = world.upn_index.get(row.upn.lower(), -2) if row.upn else -2
        if idx >= 0:
            if idx not in self.inferred:
                self.found.add(idx)
            return idx
        if not row.upn:
            raise InputError(f"{row.where}: UPN", "is empty; a user or meeting call needs the user's UPN")
        if self.tenant.replay_users != "infer":
            raise InputError(f"{row.where}: UPN", f"{row.upn} is not a user of the scenario's tenant; add it under "
                                                  "tenant.users or set tenant.replay_users: infer")
        country = row.user_location or self.tenant.replay_default_country or "US"
        idx = world.add_user(TenantUser(row.upn, row.display_name or row.upn, country, "", country_timezone(country),
                                        LicenceSet.of(self.tenant.replay_default_licences), "any", row.object_id))
        self.inferred.add(idx)
        return idx

    def _resource_account(self, row) -> int:
        country = row.user_location or self.tenant.replay_default_country or "US"
        upn = f"resource-account-{country.lower()}@{self.tenant.domain}"
        idx = self.world.upn_index.get(upn)
        if idx is None:
            idx = self.world.add_user(TenantUser(upn, f"Resource accounts ({country})", country, "",
                                                 country_timezone(country), LicenceSet.of(RESOURCE_LICENCES),
                                                 "any", ""))
            self.inferred.add(idx)
        return idx
