"""A funding policy, resolved to instants on the simulation clock (R7, R8, R10).

The scenario loader turns user-facing dates into these plain values, so the
billing core never parses anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .money import Money

PREPAID, POSTPAY = "prepaid", "postpay"
CARD, ENTERPRISE_AGREEMENT = "card", "enterprise_agreement"


@dataclass(frozen=True)
class Payment:
    method: str = CARD
    card_valid_until: int | None = None   # first instant at which the card is expired
    decline_rate: float = 0.0             # a probability: not money
    delay_seconds: int = 0
    retry_seconds: int = 3600
    max_retries: int = 3
    purchase_order: str = ""


@dataclass(frozen=True)
class AutoRechargeRule:
    trigger: Money        # recharge when the balance falls below this
    amount: Money         # a fixed amount added, not "top up to"


@dataclass(frozen=True)
class Policy:
    name: str
    billing: str = PREPAID
    initial_funds: Money = 0
    auto_recharge: AutoRechargeRule | None = None
    payment: Payment = field(default_factory=Payment)
    top_ups: tuple[tuple[int, Money], ...] = ()     # (instant, amount), already expanded


@dataclass(frozen=True)
class Switches:
    """Rulebook switches (R4, R6, R7) shared by every policy of a scenario."""

    dni_cap: str = "whichever_first"
    mid_call_cutoff: bool = True
    billing_increment_seconds: int = 60
    minimum_purchase: Money = 200_000      # 20.00
    allowances: dict | None = None
    first_month_allowance: str = "full"    # or "pro_rata": a start after the 1st gets part of a month's pools
