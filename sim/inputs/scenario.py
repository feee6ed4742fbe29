"""The scenario file (scenario-format.md): a validated, typed model of it.

Validation happens once here (like Ciw's create_network): unknown keys, wrong
types, negative amounts and invalid licence mixes are rejected with the key path.
Amounts become exact integers of ten-thousandths (models.money).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal

import phonenumbers
import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError,
                      field_validator, model_validator)

from models.licences import DIALOUT_POLICIES, Licence, LicenceError, LicenceSet
from models.money import MoneyError, format_money, parse_money

from sim.errors import InputError


def _money(value):
    try:
        units = parse_money(value)
    except MoneyError as e:
        raise ValueError(str(e)) from None
    if units < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    return units


# Amounts are exact ints of ten-thousandths inside, decimal strings when echoed.
Money = Annotated[int, BeforeValidator(_money), PlainSerializer(format_money, return_type=str)]
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def _country(value):
    if not isinstance(value, str) or not _COUNTRY_RE.match(value):
        raise ValueError(f"expected an ISO 3166 two-letter country code like US, got {value!r}")
    return value


Country = Annotated[str, BeforeValidator(_country)]
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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllowanceOverride(Strict):
    domestic: int | None = Field(None, ge=0)
    international: int | None = Field(None, ge=0)


class SwitchesSpec(Strict):
    dni_cap: Literal["whichever_first", "independent"] = "whichever_first"
    mid_call_cutoff: bool = True
    billing_increment_seconds: int = Field(60, ge=1, le=3600)
    minimum_purchase: Money = 200_000
    allowances: dict[Licence, dict[str, Annotated[int, Field(ge=0)] | AllowanceOverride]] | None = None


class UserSpec(Strict):
    upn: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    country: Country
    licences: Licences
    dialout_policy: DialoutPolicy = "any"
    display_name: str | None = None
    number: str | None = None


class GenerateSpec(Strict):
    count: int = Field(ge=1, le=1_000_000)
    country: Country
    licences: Licences
    dialout_policy: DialoutPolicy = "any"


class TollFreeSpec(Strict):
    number: str
    serves: Literal["call_queue", "auto_attendant", "conference_bridge"] = "call_queue"

    @field_validator("number", mode="before")
    @classmethod
    def _e164(cls, v):
        v = str(v)
        try:
            parsed = phonenumbers.parse(v, None)
        except phonenumbers.NumberParseException:
            raise ValueError(f"expected an E.164 number like +18885550100, got {v!r}") from None
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError(f"not a possible phone number: {v!r}")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class TenantSpec(Strict):
    domain: str = "contoso.com"
    users: list[UserSpec] = []
    generate: list[GenerateSpec] = []
    toll_free_numbers: list[TollFreeSpec] = []
    replay_users: Literal["error", "infer"] = "error"
    replay_default_licences: Licences | None = None
    replay_default_country: Country | None = None
    replay_unknown_call_types: Literal["error", "skip"] = "error"
    replay_allow_empty: bool = False
    replay_ucap_out: Literal["row_user", "credits"] = "row_user"

    @model_validator(mode="after")
    def _unique(self):
        seen = set()
        for i, u in enumerate(self.users):
            if u.upn.lower() in seen:
                raise ValueError(f"users.{i}.upn: {u.upn} is listed twice")
            seen.add(u.upn.lower())
        if self.replay_users == "infer" and not self.replay_default_licences:
            raise ValueError("replay_users: infer needs tenant.replay_default_licences")
        return self


class RateSpec(Strict):
    per_minute: Money
    connection_fee: Money = 0


def _rate(value):
    return value if isinstance(value, (dict, RateSpec)) else {"per_minute": value}


RateValue = Annotated[RateSpec, BeforeValidator(_rate)]


def _rate_key(value):
    return value if value == "*" else _country(value)


RateKey = Annotated[str, BeforeValidator(_rate_key)]


class InlineRates(Strict):
    outbound: dict[RateKey, RateValue] = {}
    toll_free_inbound: dict[RateKey, RateValue] = {}


class BusinessHours(Strict):
    start: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field("18:00", pattern=r"^([01]\d|2[0-4]):[0-5]\d$")
    weekdays_only: bool = True

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class CallMinutes(Strict):
    distribution: Literal["lognormal", "exponential", "fixed"] = "lognormal"
    mean: float = Field(4.0, gt=0, le=600)
    sigma: float = Field(1.0, ge=0, le=5)


def _shares(value: dict, what: str) -> dict:
    if not value:
        raise ValueError(f"{what} must name at least one country")
    if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
        raise ValueError(f"{what} weights must be >= 0 with a positive sum")
    return value


SYNTHETIC_KEYS = ("business_hours", "user_outbound_calls_per_day", "international_share",
                  "international_destinations", "call_minutes", "toll_free_calls_per_day",
                  "toll_free_origins", "meetings_per_organiser_per_day", "dial_outs_per_meeting",
                  "toll_free_dial_ins_per_meeting", "toll_dial_ins_per_meeting",
                  "user_inbound_calls_per_day", "emergency_calls_per_user_per_year")


class TrafficSpec(Strict):
    replay: str | list[str] | None = None
    business_hours: BusinessHours = BusinessHours()
    user_outbound_calls_per_day: float = Field(3.0, ge=0)
    international_share: float = Field(0.05, ge=0, le=1)
    international_destinations: dict[Country, float] = {"GB": 0.5, "DE": 0.3, "IN": 0.2}
    call_minutes: CallMinutes = CallMinutes()
    toll_free_calls_per_day: float = Field(40.0, ge=0)
    toll_free_origins: dict[Country, float] = {"US": 1.0}
    meetings_per_organiser_per_day: float = Field(0.5, ge=0)
    dial_outs_per_meeting: float = Field(0.3, ge=0)
    toll_free_dial_ins_per_meeting: float = Field(0.5, ge=0)
    toll_dial_ins_per_meeting: float = Field(0.0, ge=0)
    user_inbound_calls_per_day: float = Field(0.0, ge=0)
    emergency_calls_per_user_per_year: float = Field(0.05, ge=0)

    @field_validator("international_destinations")
    @classmethod
    def _dest(cls, v):
        return _shares(v, "international_destinations")

    @field_validator("toll_free_origins")
    @classmethod
    def _orig(cls, v):
        return _shares(v, "toll_free_origins")

    @model_validator(mode="after")
    def _replay_alone(self):
        if isinstance(self.replay, list) and not self.replay:
            raise ValueError("replay: expected a file, a folder or a non-empty list of files")
        if self.replay is not None:
            mixed = [k for k in SYNTHETIC_KEYS if k in self.model_fields_set]
            if mixed:
                raise ValueError(f"replay cannot be combined with synthetic traffic keys ({', '.join(mixed)})")
        return self


class PaymentSpec(Strict):
    method: Literal["card", "enterprise_agreement"] = "card"
    card_expires: date | None = None
    decline_rate: float = Field(0.0, ge=0, le=1)
    delay_minutes: float = Field(0, ge=0)
    retry_minutes: float = Field(60, gt=0)
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


def _utc(v):
    if isinstance(v, datetime):
        return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)
    return v


class Scenario(Strict):
    name: Slug
    start: datetime
    days: int = Field(gt=0, le=3660)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    seed: int = Field(42, ge=0)
    switches: SwitchesSpec = SwitchesSpec()
    tenant: TenantSpec = TenantSpec()
    rates: str | InlineRates = "rates/illustrative-usd.csv"
    traffic: TrafficSpec = TrafficSpec()
    policies: list[PolicySpec] = Field(min_length=1)

    _start_utc = field_validator("start", mode="after")(lambda cls, v: _utc(v))

    @model_validator(mode="after")
    def _checks(self):
        names = [p.name for p in self.policies]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"policies: names must be unique, {sorted(dup)[0]!r} is repeated")
        minimum = self.switches.minimum_purchase
        for i, p in enumerate(self.policies):
            purchases = [("initial_funds", p.initial_funds)] if p.initial_funds else []
            if p.auto_recharge:
                purchases.append(("auto_recharge.amount", p.auto_recharge.amount))
            purchases += [(f"top_ups.{j}.amount", t.amount) for j, t in enumerate(p.top_ups)]
            for key, amount in purchases:
                if amount < minimum:
                    raise ValueError(f"policies.{i}.{key}: a purchase must be at least the minimum_purchase "
                                     f"{minimum / 10000:.2f}, got {amount / 10000:.2f}")
        return self

    @property
    def is_replay(self) -> bool:
        return self.traffic.replay is not None


def _format_loc(loc) -> str:
    return ".".join(str(x) for x in loc if x not in ("function-after[_checks()]",)) or "(top level)"


def describe_validation_error(e: ValidationError) -> tuple[str, str]:
    """The first error as (key path, what is expected), pydantic's jargon trimmed."""
    err = e.errors(include_url=False)[0]
    loc = [x for x in err["loc"] if not (isinstance(x, str) and ("[" in x or x.startswith("function")))]
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif "input" in err and err["type"] not in ("value_error",) and not isinstance(err["input"], (dict, list)):
        msg = f"{msg}, got {err['input']!r}"
    if not loc and (m := re.match(r"^([\w.]+): (.*)$", msg, re.S)):
        loc, msg = m.group(1).split("."), m.group(2)      # a model-level check naming its key
    more = len(e.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return _format_loc(loc), msg


class _DecimalLoader(yaml.SafeLoader):
    """YAML with decimals read from their text into Decimal, never via a float (R1):
    `0.0185` stays exactly 0.0185. Non-money numbers (rates of calls, shares) are
    turned into floats by the schema."""


def _decimal(loader, node):
    text = loader.construct_scalar(node)
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        return yaml.SafeLoader.construct_yaml_float(loader, node)    # .inf, .nan: left to the schema
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(str(path), f"cannot read the scenario file ({e.__class__.__name__}: {getattr(e, 'strerror', None) or e})") from None
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise InputError(where, f"not valid YAML ({getattr(e, 'problem', None) or e})") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "expected a YAML mapping of scenario keys (name, start, days, ...)")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        key, msg = describe_validation_error(e)
        raise InputError(f"{path}: {key}", msg) from None
