"""The scenario file (scenario-format.md): a validated, typed model of it.

Validation happens once here (like Ciw's create_network): unknown keys, wrong
types, negative amounts and invalid licence mixes are rejected with the key path.
Amounts become exact integers of ten-thousandths (models.money).
"""
from __future__ import annotations

import re

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import phonenumbers
from pydantic import (BeforeValidator, Discriminator, Field, PlainSerializer, Tag, ValidationError,
                      field_validator, model_validator)

from models.licences import DIALOUT_POLICIES, Licence, LicenceError, LicenceSet
from models.money import MoneyError, format_money, parse_money
from models.timeutil import monthly

from sim.errors import InputError

from .spec_base import (MAX_AMOUNT, MAX_FUNDS, MAX_RATE, MAX_RATE_AMOUNT, Country, Strict, Timezone, WeeklyProfile, _country,
                        not_boolean, shares)
from .traffic_spec import SYNTHETIC_KEYS, BusinessHours, CallMinutes, Growth, TrafficSpec  # noqa: F401 (re-exported)
from .yamlfile import clip, describe_validation_error, shown, model_keys, read_yaml
from .sweep import SweepSpec


def _money(value, most: int = MAX_AMOUNT, per: str = ""):
    try:
        units = parse_money(value)
    except MoneyError as e:
        raise ValueError(str(e)) from None
    if units < 0:
        raise ValueError(f"must not be negative, got {value}")
    if units > most:
        raise ValueError(f"expected at most {format_money(most)}{per}, got {clip(value)}")
    return units


def _rate_money(value):
    return _money(value, MAX_RATE_AMOUNT)


# Amounts are exact ints of ten-thousandths inside, decimal strings when echoed.
Money = Annotated[int, BeforeValidator(_money), PlainSerializer(format_money, return_type=str)]
RateMoney = Annotated[int, BeforeValidator(_rate_money), PlainSerializer(format_money, return_type=str)]


CountryOrStar = Annotated[str, BeforeValidator(lambda v: v if v == "*" else _country(v))]
Slug = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=80)]


def _licences(value):
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of licence names")
    names = []
    for x in value:
        try:
            names.append(Licence(x))
        except ValueError:
            raise ValueError(f"unknown licence {x!r}; expected one of {', '.join(l.value for l in Licence)}") from None
    try:
        LicenceSet.of(names)
    except LicenceError as e:
        raise ValueError(f"invalid licence mix: {e}") from None
    return names


Licences = Annotated[list[Licence], BeforeValidator(_licences)]
DialoutPolicy = Literal["any", "domestic", "none"]
assert set(DIALOUT_POLICIES) == {"any", "domestic", "none"}


MAX_USERS = 1_000_000      # users of a tenant, listed and generated together
MAX_ALLOWANCE = 10**9       # minutes a licence brings a user a month: a pool's seconds stay in 64 bits
MAX_DELAY_MINUTES = 10**7   # ~19 years: a later payment or retry is as good as never


class AllowanceOverride(Strict):
    domestic: int | None = Field(None, ge=0, le=MAX_ALLOWANCE)
    international: int | None = Field(None, ge=0, le=MAX_ALLOWANCE)


# minutes, or {domestic, international}: the tag picks the branch from the value's type, so an
# error is reported at its own key (allowances.PLAN.*.international), not as "constrained-int"
Allowance = Annotated[Annotated[int, Field(ge=0, le=MAX_ALLOWANCE), BeforeValidator(not_boolean), Tag("minutes")]
                      | Annotated[AllowanceOverride, Tag("override")],
                      Discriminator(lambda v: "override" if isinstance(v, (dict, AllowanceOverride)) else "minutes")]


class SwitchesSpec(Strict):
    dni_cap: Literal["whichever_first", "independent"] = "whichever_first"
    mid_call_cutoff: bool = True
    billing_increment_seconds: int = Field(60, ge=1, le=3600)
    minimum_purchase: Money = 200_000
    allowances: dict[Licence, dict[CountryOrStar, Allowance]] | None = None
    first_month_allowance: Literal["full", "pro_rata"] = "full"


def e164(v) -> str:
    """A phone number as E.164 text (`+1 425 555 0100` -> `+14255550100`); ValueError if it is none."""
    v = str(v)
    if not re.fullmatch(r"\+?[0-9][0-9 ()./-]*", v):      # phonenumbers would drop an 'x', U+200B, ３
        raise ValueError(f"expected an E.164 number like +18885550100 (digits, spaces, dashes, dots and "
                         f"brackets), got {v!r}")
    try:
        parsed = phonenumbers.parse(v, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"expected an E.164 number like +18885550100, got {v!r}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"not a possible phone number: {v!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class UserSpec(Strict):
    upn: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    country: Country
    licences: Licences
    dialout_policy: DialoutPolicy = "any"
    display_name: str | None = None
    number: str | None = None
    timezone: Timezone | None = None                    # default: from the number's area code, else the country's
    outbound_calls_per_day: float | None = Field(None, ge=0, le=MAX_RATE)   # default: traffic.user_outbound_calls_per_day

    _number_e164 = field_validator("number", mode="before")(lambda cls, v: v if v is None else e164(v))


class GenerateSpec(Strict):
    count: int = Field(ge=1, le=MAX_USERS)
    country: Country
    licences: Licences
    dialout_policy: DialoutPolicy = "any"
    timezone: Timezone | None = None
    outbound_calls_per_day: float | None = Field(None, ge=0, le=MAX_RATE)


class TollFreeSpec(Strict):
    number: str
    serves: Literal["call_queue", "auto_attendant", "conference_bridge"] = "call_queue"
    # Defaults: traffic.toll_free_calls_per_day, the contact-centre week, traffic.toll_free_origins,
    # the number's area (or country) time zone.
    calls_per_day: float | None = Field(None, ge=0, le=MAX_RATE)
    weekly_profile: WeeklyProfile | None = None
    origins: dict[Country, float] | None = None
    timezone: Timezone | None = None

    @field_validator("origins")
    @classmethod
    def _orig(cls, v):
        return v if v is None else shares(v, "origins")

    _number_e164 = field_validator("number", mode="before")(lambda cls, v: e164(v))


class TenantSpec(Strict):
    domain: str = "contoso.com"             # what follows the @ of generated UPNs
    users: list[UserSpec] = []
    generate: list[GenerateSpec] = []
    toll_free_numbers: list[TollFreeSpec] = []
    replay_users: Literal["error", "infer"] = "error"
    replay_default_licences: Licences | None = None
    replay_default_country: Country | None = None
    replay_unknown_call_types: Literal["error", "skip"] = "error"
    replay_allow_empty: bool = False
    replay_ucap_out: Literal["row_user", "credits"] = "row_user"

    @field_validator("domain")
    @classmethod
    def _domain(cls, v):
        if not v or any(c.isspace() or c == "@" for c in v):
            raise ValueError(f"expected a domain like contoso.com (no spaces, no @), got {v!r}")
        return v

    @model_validator(mode="after")
    def _unique(self):
        total = len(self.users) + sum(g.count for g in self.generate)
        if total > MAX_USERS:          # checked before any user is generated (30 groups of 1M took 20 GB)
            raise ValueError(f"generate: {total:,} users in all; a tenant has at most {MAX_USERS:,}")
        seen = set()
        for i, u in enumerate(self.users):
            if u.upn.lower() in seen:
                raise ValueError(f"users.{i}.upn: {u.upn} is listed twice")
            seen.add(u.upn.lower())
        numbers: dict[str, str] = {}        # a number rings one user or one service
        for where, number in [(f"users.{i}.number", u.number) for i, u in enumerate(self.users)] + [
                (f"toll_free_numbers.{i}.number", x.number) for i, x in enumerate(self.toll_free_numbers)]:
            if number is not None and numbers.setdefault(number, where) != where:
                raise ValueError(f"{where}: {number} is also {numbers[number]}")
        if self.replay_users == "infer" and not self.replay_default_licences:
            raise ValueError("replay_users: infer needs tenant.replay_default_licences")
        return self


class RateSpec(Strict):
    per_minute: RateMoney
    connection_fee: RateMoney = 0


def _rate(value):
    return value if isinstance(value, (dict, RateSpec)) else {"per_minute": value}


RateValue = Annotated[RateSpec, BeforeValidator(_rate)]


class InlineRates(Strict):
    outbound: dict[CountryOrStar, RateValue] = {}
    toll_free_inbound: dict[CountryOrStar, RateValue] = {}


# A path or an inline card; the tag picks the branch from the value's type so that a mistake in an
# inline card is reported at its own key (rates.outbound.GB.per_minute), not as "rates.str".
RatesField = Annotated[Annotated[str, Tag("path")] | Annotated[InlineRates, Tag("inline")],
                       Discriminator(lambda v: "path" if isinstance(v, str) else "inline")]
DEFAULT_RATES = "rates/illustrative-usd.csv"      # the project's card, wherever the scenario is
UNION_TAGS = {"path", "inline", "minutes", "override"}


class PaymentSpec(Strict):
    method: Literal["card", "enterprise_agreement"] = "card"
    card_expires: date | None = None
    decline_rate: float = Field(0.0, ge=0, le=1)
    delay_minutes: float = Field(0, ge=0, le=MAX_DELAY_MINUTES)
    retry_minutes: float = Field(60, gt=0, le=MAX_DELAY_MINUTES)
    max_retries: int = Field(3, ge=0, le=100)
    purchase_order: str | None = None


class AutoRechargeSpec(Strict):
    trigger: Money
    amount: Money


class TopUpSpec(Strict):
    at: datetime | None = None
    monthly: int | None = Field(None, ge=1, le=28, description="day of month, 00:00 UTC")
    amount: Money

    @model_validator(mode="after")
    def _one(self):
        if (self.at is None) == (self.monthly is None):
            raise ValueError("a top-up needs exactly one of `at` (an instant) or `monthly` (a day of month)")
        return self


# Files the results folder holds beside the policy folders (sim.outputs writes them).
RESULT_FILES = ("summary.json", "comparison.md", "comparison.png", "monthly.png", "report.xlsx", "manifest.json")
# Windows' device names cannot be folder names either.
RESULT_NAMES = {n.lower() for n in RESULT_FILES} | {
    "con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


class PolicySpec(Strict):
    name: Slug
    billing: Literal["prepaid", "postpay"] = "prepaid"
    initial_funds: Money = 0
    auto_recharge: AutoRechargeSpec | None = None
    payment: PaymentSpec = PaymentSpec()
    top_ups: list[TopUpSpec] = []

    @model_validator(mode="after")
    def _postpay(self):
        if self.billing == "postpay" and (self.auto_recharge or self.top_ups):
            raise ValueError("postpay billing has no credit balance to recharge: drop auto_recharge and top_ups")
        return self

    def purchases(self) -> list[tuple[str, int]]:
        """(key, amount) of every purchase the policy makes: each must reach minimum_purchase (R7)."""
        out = [("initial_funds", self.initial_funds)] if self.initial_funds else []
        if self.auto_recharge:
            out.append(("auto_recharge.amount", self.auto_recharge.amount))
        return out + [(f"top_ups.{j}.amount", t.amount) for j, t in enumerate(self.top_ups)]

    def below_minimum(self, minimum: int) -> tuple[str, str] | None:
        """(key, why) of the first purchase below `minimum` (switches.minimum_purchase, R7), or None."""
        for key, amount in self.purchases():
            if amount < minimum:
                return key, (f"a purchase must be at least the minimum_purchase {minimum / 10000:.2f}, "
                             f"got {amount / 10000:.2f}")
        return None

    def funds_problem(self, start: datetime, days: int) -> str | None:
        """Why the balance could pass what the ledger's 64-bit columns hold over the run, or None:
        initial funds, every top-up (a monthly one in each month it falls in) and, with
        auto-recharge, a balance just under the trigger recharged once more."""
        end = start + timedelta(days=days)
        most = self.initial_funds + sum(t.amount * (1 if t.at else len(monthly(start, end, t.monthly)))
                                        for t in self.top_ups)
        if self.auto_recharge:
            most += self.auto_recharge.trigger + self.auto_recharge.amount
        if most > MAX_FUNDS:
            return (f"initial funds, top-ups and auto-recharge could hold {format_money(most)} over {days} "
                    f"days; the ledger holds at most {format_money(MAX_FUNDS)}")
        return None


MIN_YEAR, MAX_YEAR = 1970, 9000


def _utc(v):
    if isinstance(v, datetime):
        return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)
    return v


class Scenario(Strict):
    name: Slug
    start: datetime
    days: int = Field(gt=0, le=3660)
    warmup_days: int = Field(0, ge=0)      # simulated from `start`, not counted in the metrics
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    seed: int = Field(42, ge=0)
    switches: SwitchesSpec = SwitchesSpec()
    tenant: TenantSpec = TenantSpec()
    rates: RatesField = DEFAULT_RATES
    traffic: TrafficSpec = TrafficSpec()
    policies: list[PolicySpec] = Field(min_length=1)
    sweep: SweepSpec | None = None          # candidates for `sweep` and `optimise` (sim/inputs/sweep.py)

    _start_utc = field_validator("start", mode="after")(lambda cls, v: _utc(v))

    @field_validator("start", mode="before")
    @classmethod
    def _start_text(cls, v):
        if isinstance(v, (int, float, Decimal)):    # pydantic would read 12345 as seconds after 1970
            raise ValueError(f"expected an ISO 8601 UTC instant like 2026-01-01T00:00:00Z, got {shown(v)}")
        return v

    @field_validator("start", mode="after")
    @classmethod
    def _start_range(cls, v):
        if not MIN_YEAR <= v.year <= MAX_YEAR:      # the calendar ends at 9999: lots expire a year on
            raise ValueError(f"expected a year from {MIN_YEAR} to {MAX_YEAR}, got {v.isoformat()}")
        return v

    @model_validator(mode="after")
    def _checks(self):
        if self.warmup_days >= self.days:
            raise ValueError(f"warmup_days: must be fewer than days ({self.days}): the warm-up is the "
                             f"start of the horizon and the metrics count what follows it, got {self.warmup_days}")
        seen: dict[str, int] = {}
        for i, p in enumerate(self.policies):
            # Each policy gets a folder and a sheet: names must differ on case-insensitive file
            # systems and must not be the name of a file the results folder holds.
            if p.name.lower() in RESULT_NAMES:
                raise ValueError(f"policies.{i}.name: {p.name!r} is the name of a results file; choose another")
            if p.name.lower() in seen:
                first = self.policies[seen[p.name.lower()]].name
                raise ValueError(f"policies.{i}.name: policy names must be unique ignoring case (each names a "
                                 f"folder): {p.name!r} repeats {first!r} of policies.{seen[p.name.lower()]}")
            seen[p.name.lower()] = i
        for i, p in enumerate(self.policies):
            if low := p.below_minimum(self.switches.minimum_purchase):
                raise ValueError(f"policies.{i}.{low[0]}: {low[1]}")
            if problem := p.funds_problem(self.start, self.days):
                raise ValueError(f"policies.{i}: {problem}")
        return self

    @property
    def is_replay(self) -> bool:
        return self.traffic.replay is not None


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    data = read_yaml(path, "scenario file")
    if not isinstance(data, dict):
        raise InputError(str(path), "expected a YAML mapping of scenario keys (name, start, days, ...)")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        key, msg = describe_validation_error(e, UNION_TAGS, model_keys(Scenario))
        raise InputError(f"{path}: {key}", msg) from None
