"""Everything a run needs that the scenario fixes: the tenant, rates, switches,
clock and policies, resolved once from a validated `Scenario`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import phonenumbers

from models.account import Payer
from models.licences import LicenceSet
from models.policy import AutoRechargeRule, Payment, Policy, Switches
from models.pools import PoolSet
from models.rates import RateCard
from models.timeutil import Clock, add_months, month_start, monthly

from sim.inputs.ratecard import DEFAULT_CARD, load_rate_csv, rate_card_from_inline
from sim.inputs.scenario import Scenario
from sim.inputs.tenant import TenantUser, build_users, country_timezone, number_timezone

from .profiles import CONTACT_CENTRE_WEEK


@dataclass
class TollFreeNumber:
    number: str
    serves: str
    country: str
    tz: str = "UTC"
    calls_per_day: float = 0.0
    weekly_profile: tuple[float, ...] = CONTACT_CENTRE_WEEK
    origins: dict[str, float] = field(default_factory=lambda: {"US": 1.0})


def _toll_free(spec, traffic) -> TollFreeNumber:
    """A number's own traffic keys, else the traffic block's; its zone: the key, its area code, its country."""
    country = phonenumbers.region_code_for_number(phonenumbers.parse(spec.number)) or "US"
    tz = spec.timezone or number_timezone(spec.number) or country_timezone(country)
    return TollFreeNumber(spec.number, spec.serves, country, tz,
                          traffic.toll_free_calls_per_day if spec.calls_per_day is None else spec.calls_per_day,
                          spec.weekly_profile or CONTACT_CENTRE_WEEK, spec.origins or traffic.toll_free_origins)


@dataclass
class World:
    scenario: Scenario
    base_dir: Path
    clock: Clock
    horizon: int
    users: list[TenantUser]
    payers: list[Payer]
    toll_free: list[TollFreeNumber]
    rates: RateCard
    switches: Switches
    policies: list[Policy]
    upn_index: dict[str, int] = field(default_factory=dict)
    cost: object = None            # sim.engine.bounds.Cost, set once the inputs are checked
    measure_from: int = 0          # end of the warm-up (seconds): metrics count from here

    def add_user(self, user: TenantUser) -> int:
        """Replay with `replay_users: infer` adds users met in the report."""
        self.users.append(user)
        self.payers.append(Payer(user.upn, user.country, user.licence_set, user.dialout_policy))
        self.upn_index[user.upn.lower()] = len(self.users) - 1
        return len(self.users) - 1


def new_pools(world) -> PoolSet:
    """The tenant's minute pools as at the start of a run (R4, R5): full, or with
    `first_month_allowance: pro_rata` the part of the first month the run covers."""
    pools = PoolSet(((p.country, p.licences) for p in world.payers), world.switches.dni_cap,
                    world.switches.allowances)
    part, whole = first_month_share(world.clock)
    if part < whole and world.switches.first_month_allowance == "pro_rata":
        pools.prorate(part, whole)
    return pools


def first_month_share(clock: Clock) -> tuple[int, int]:
    """(seconds from the start to the next month, seconds in the start's month)."""
    first = month_start(clock.start)
    nxt = add_months(first, 1)
    return int((nxt - clock.start).total_seconds()), int((nxt - first).total_seconds())


def resolve_policy(spec, clock: Clock, horizon: int) -> Policy:
    """A policy of the scenario (or a sweep candidate) on the simulation clock."""
    pay = spec.payment
    card_until = None
    if pay.card_expires is not None:
        # A card is good through its expiry date; it fails from the next midnight on.
        card_until = clock.to_t(datetime.combine(pay.card_expires + timedelta(days=1), time(), timezone.utc))
    payment = Payment(pay.method, card_until, pay.decline_rate, round(pay.delay_minutes * 60),
                      round(pay.retry_minutes * 60), pay.max_retries, pay.purchase_order or "")
    top_ups = []
    for tu in spec.top_ups:
        if tu.at is not None:
            t = clock.to_t(tu.at)
            if 0 <= t < horizon:
                top_ups.append((t, tu.amount))
        else:
            end = clock.start + timedelta(seconds=horizon)
            top_ups += [(clock.to_t(when), tu.amount) for when in monthly(clock.start, end, tu.monthly)]
    rule = AutoRechargeRule(spec.auto_recharge.trigger, spec.auto_recharge.amount) if spec.auto_recharge else None
    return Policy(spec.name, spec.billing, spec.initial_funds, rule, payment, tuple(sorted(top_ups)))


def rate_card_path(scenario: Scenario, base: Path) -> Path:
    """The scenario's CSV card, relative to the scenario file; without `rates:` the project's card."""
    return base / scenario.rates if "rates" in scenario.model_fields_set else DEFAULT_CARD


def build_world(scenario: Scenario, scenario_path: Path, seed: int | None = None) -> World:
    base = scenario_path.parent
    clock = Clock(scenario.start)
    horizon = scenario.days * 86400
    if isinstance(scenario.rates, str):
        rates = load_rate_csv(rate_card_path(scenario, base), scenario.currency)
    else:
        rates = rate_card_from_inline(scenario.rates)
    sw = scenario.switches
    allowances = None
    if sw.allowances:
        allowances = {plan.value: {c: (v if isinstance(v, int) else v.model_dump(exclude_none=True))
                                   for c, v in per.items()} for plan, per in sw.allowances.items()}
    switches = Switches(sw.dni_cap, sw.mid_call_cutoff, sw.billing_increment_seconds,
                        sw.minimum_purchase, allowances, sw.first_month_allowance)
    users = build_users(scenario, seed if seed is not None else scenario.seed)
    payers = [Payer(u.upn, u.country, u.licence_set, u.dialout_policy) for u in users]
    toll_free = [_toll_free(t, scenario.traffic) for t in scenario.tenant.toll_free_numbers]
    policies = [resolve_policy(p, clock, horizon) for p in scenario.policies]
    world = World(scenario, base, clock, horizon, users, payers, toll_free, rates, switches, policies)
    world.upn_index = {u.upn.lower(): i for i, u in enumerate(users)}
    world.measure_from = scenario.warmup_days * 86400
    return world


def user_mix(world: World) -> dict[str, int]:
    mix: dict[str, int] = {}
    for u in world.users:
        mix[u.licence_set.key] = mix.get(u.licence_set.key, 0) + 1
    return mix


__all__ = ["World", "build_world", "TollFreeNumber", "LicenceSet", "user_mix"]
