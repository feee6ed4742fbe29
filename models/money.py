"""Exact money (R1): an amount is an int of ten-thousandths of the currency unit.

Rates carry up to 4 decimal places, so 4 places hold every rate, balance and
ledger entry exactly. No float ever holds an amount: parsing refuses floats
with more precision than 4 places and formatting goes through integers.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

SCALE = 10_000          # units per currency unit
PLACES = 4

Money = int


class MoneyError(ValueError):
    """An amount that cannot be represented exactly."""


def parse_money(value: object) -> Money:
    """'0.0185', Decimal, int or a float that is exactly a 4-place decimal -> units."""
    if isinstance(value, bool):
        raise MoneyError(f"expected an amount, got {value!r}")
    if isinstance(value, int):
        return value * SCALE
    if isinstance(value, float):
        value = repr(value)          # shortest round-trip text: 0.1 -> '0.1'
    try:
        dec = Decimal(str(value).strip())
    except InvalidOperation:
        raise MoneyError(f"expected an amount like 12.50, got {value!r}") from None
    if not dec.is_finite():
        raise MoneyError(f"expected a finite amount, got {value!r}")
    scaled = dec * SCALE
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"at most {PLACES} decimal places allowed, got {value!r}")
    return int(scaled)


def format_money(units: Money) -> str:
    """Full precision, always 4 places: 1234500 -> '123.4500'."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), SCALE)
    return f"{sign}{whole}.{frac:04d}"


def round_half_up_2(units: Money) -> str:
    """The CDR's numeric(16,2) display (R1): half-up to 2 places."""
    sign = -1 if units < 0 else 1
    cents = (abs(units) + 50) // 100
    whole, frac = divmod(cents, 100)
    return f"{'-' if sign < 0 and cents else ''}{whole}.{frac:02d}"


def increment_price(per_minute: Money, increment_seconds: int) -> Money:
    """Price of one billing increment, rounded half-up to 4 places (R6).

    Exact for 60 s increments; for shorter ones (e.g. 6 s of 0.0185/min =
    0.00185) the 5th place is rounded half-up, a documented choice.
    """
    return (per_minute * increment_seconds * 2 + 60) // 120


def to_decimal(units: Money) -> Decimal:
    return Decimal(units).scaleb(-PLACES)
