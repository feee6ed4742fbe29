"""Building blocks shared by the scenario schema's parts: strict models, country codes, time zones."""
from __future__ import annotations

from functools import lru_cache
from types import UnionType
from typing import Annotated, Union, get_args, get_origin
from zoneinfo import available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from .countries import country_problem

# Amounts in ten-thousandths (models.money). Past these the engine's 64-bit sums overflow (one
# amount of 1e15 does): a purchase or minimum of 200,000,000,000,000, a rate or fee of 1,000.0000.
MAX_AMOUNT = 2 * 10**14 * 10_000
MAX_RATE_AMOUNT = 1000 * 10_000
MAX_FUNDS = 900 * 10**12 * 10_000     # all a policy's purchases together: balances stay in 64 bits


class Strict(BaseModel):
    # .nan / .inf are not numbers a scenario means: refused at their key (they passed `ge=0` checks).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data):
        """YAML's true / false are not numbers: pydantic would read `days: true` as 1 (and
        `international_destinations: {GB: true}` as a weight of 1)."""
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                if (where := _boolean_number(data.get(name), field.annotation, name)) is not None:
                    raise ValueError(f"{where}: expected a number, got a boolean")
        return data


def _boolean_number(value, annotation, where: str) -> str | None:
    """Where in `value` a boolean stands for a number of `annotation` (a number, or a list or
    mapping of numbers, optional or not), or None."""
    args = [a for a in get_args(annotation) if a is not type(None)] if get_origin(annotation) in (Union, UnionType) \
        else [annotation]
    args = [get_args(a)[0] if get_origin(a) is Annotated else a for a in args]
    if bool in args:
        return None
    if isinstance(value, bool):
        return where if any(a in (int, float) for a in args) else None
    for a in args:
        inner = get_args(a)
        if get_origin(a) is dict and isinstance(value, dict) and len(inner) == 2:
            items, of = value.items(), inner[1]
        elif get_origin(a) in (list, tuple) and isinstance(value, (list, tuple)) and inner:
            items, of = enumerate(value), inner[0]
        else:
            continue
        for key, v in items:
            if isinstance(v, bool) and of in (int, float):
                return f"{where}.{key}"
    return None


def not_boolean(value):
    """For a number nested where `Strict`'s check does not look (inside a tagged union)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return value


def _country(value):
    if problem := country_problem(value):
        raise ValueError(problem)
    return value


Country = Annotated[str, BeforeValidator(_country)]


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone(value):
    if not isinstance(value, str) or value not in _zones():
        raise ValueError(f"expected an IANA time zone like America/Chicago, got {value!r}")
    return value


Timezone = Annotated[str, BeforeValidator(_timezone)]


def _weekly(value):
    """168 hourly weights, Monday 00:00 local first."""
    if not isinstance(value, (list, tuple)) or len(value) != 168:
        raise ValueError(f"expected 168 hourly weights (Monday 00:00 to Sunday 23:00 local time), "
                         f"got {len(value) if isinstance(value, (list, tuple)) else type(value).__name__}")
    try:
        weights = tuple(float(w) for w in value)
    except (TypeError, ValueError):
        raise ValueError("expected 168 numbers (hourly weights)") from None
    if any(not (0 <= w <= MAX_WEIGHT) for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weekly_profile weights must be finite numbers from 0 to {MAX_WEIGHT:g} with a "
                         "positive sum")
    return weights


# Past this a rate (calls per day, per meeting, per year) only overflows the expected-volume sums;
# sim.engine.bounds refuses a run far below it, naming the key.
MAX_RATE = 1e12
MAX_WEIGHT = 1e12          # weights are relative: a larger one only overflows the profile's sums


WeeklyProfile = Annotated[tuple[float, ...], BeforeValidator(_weekly)]


def shares(value: dict, what: str) -> dict:
    if not value:
        raise ValueError(f"{what} must name at least one country")
    if any(not 0 <= w <= MAX_WEIGHT for w in value.values()) or sum(value.values()) <= 0:
        raise ValueError(f"{what} weights must be finite numbers from 0 to {MAX_WEIGHT:g} with a positive sum")
    return value
