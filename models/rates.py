"""The rate card (R6): per-minute price and connection fee by country.

`outbound` is keyed by destination country, `toll_free_inbound` by the
caller's origin country. Country `*` is the fallback for any other country.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .money import Money, increment_price

OUTBOUND = "outbound"
TOLL_FREE_INBOUND = "toll_free_inbound"
KINDS = (OUTBOUND, TOLL_FREE_INBOUND)


@dataclass(frozen=True)
class Rate:
    per_minute: Money
    connection_fee: Money = 0


@dataclass
class RateCard:
    outbound: dict[str, Rate] = field(default_factory=dict)
    toll_free_inbound: dict[str, Rate] = field(default_factory=dict)

    def lookup(self, kind: str, country: str) -> Rate | None:
        table = self.outbound if kind == OUTBOUND else self.toll_free_inbound
        return table.get(country) or table.get("*")

    def increment(self, kind: str, country: str, increment_seconds: int) -> tuple[Money, Money] | None:
        """(price of one increment, connection fee), or None when the card has no rate."""
        rate = self.lookup(kind, country)
        if rate is None:
            return None
        return increment_price(rate.per_minute, increment_seconds), rate.connection_fee
