"""Licences, their validity rules and what they give (R2)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .geography import NORTH_AMERICA_3000


class Licence(str, Enum):
    PHONE_SYSTEM = "PHONE_SYSTEM"
    E5 = "E5"
    DOMESTIC_CALLING_PLAN = "DOMESTIC_CALLING_PLAN"
    DOMESTIC_CALLING_PLAN_120 = "DOMESTIC_CALLING_PLAN_120"
    DOMESTIC_CALLING_PLAN_240 = "DOMESTIC_CALLING_PLAN_240"
    DOMESTIC_INTERNATIONAL_CALLING_PLAN = "DOMESTIC_INTERNATIONAL_CALLING_PLAN"
    PAY_AS_YOU_GO_CALLING_PLAN = "PAY_AS_YOU_GO_CALLING_PLAN"
    AUDIO_CONFERENCING = "AUDIO_CONFERENCING"
    COMMUNICATIONS_CREDITS = "COMMUNICATIONS_CREDITS"


CALLING_PLANS = (
    Licence.DOMESTIC_CALLING_PLAN,
    Licence.DOMESTIC_CALLING_PLAN_120,
    Licence.DOMESTIC_CALLING_PLAN_240,
    Licence.DOMESTIC_INTERNATIONAL_CALLING_PLAN,
    Licence.PAY_AS_YOU_GO_CALLING_PLAN,
)

# Report capability of each licence (R2, R12 `Capability` column).
CAPABILITY = {
    Licence.PHONE_SYSTEM: "MCOEV",
    Licence.DOMESTIC_CALLING_PLAN: "MCOPSTN1",
    Licence.DOMESTIC_INTERNATIONAL_CALLING_PLAN: "MCOPSTN2",
    Licence.DOMESTIC_CALLING_PLAN_120: "MCOPSTN5",
    Licence.DOMESTIC_CALLING_PLAN_240: "MCOPSTN6",
    Licence.PAY_AS_YOU_GO_CALLING_PLAN: "MCOPSTN_PAYG",
    Licence.AUDIO_CONFERENCING: "MCOMEETADD",
    Licence.COMMUNICATIONS_CREDITS: "MCOPSTNPP",
}

DIALOUT_POLICIES = ("any", "domestic", "none")


class LicenceError(ValueError):
    """An invalid licence mix (R2)."""


@dataclass(frozen=True)
class LicenceSet:
    """What one user's licences give them, resolved once (R2)."""

    phone_system: bool
    audio_conferencing: bool
    credits: bool
    calling_plan: Licence | None

    @classmethod
    def of(cls, licences) -> "LicenceSet":
        names = [Licence(x) for x in licences]
        if len(set(names)) != len(names):
            raise LicenceError("a licence is listed twice")
        has = set(names)
        e5 = Licence.E5 in has
        plans = [p for p in CALLING_PLANS if p in has]
        if len(plans) > 1:
            raise LicenceError(f"at most one Calling Plan per user, got {', '.join(p.value for p in plans)}")
        phone = e5 or Licence.PHONE_SYSTEM in has
        conf = e5 or Licence.AUDIO_CONFERENCING in has
        plan = plans[0] if plans else None
        if plan and not phone:
            raise LicenceError(f"{plan.value} needs PHONE_SYSTEM or E5")
        credits = Licence.COMMUNICATIONS_CREDITS in has
        if credits and not (conf or plan):
            raise LicenceError("COMMUNICATIONS_CREDITS is an add-on: it needs AUDIO_CONFERENCING, E5 or a Calling Plan")
        return cls(phone, conf, credits, plan)

    @property
    def can_place_pstn_calls(self) -> bool:
        return self.phone_system and self.calling_plan is not None

    @property
    def key(self) -> str:
        """A readable name of the mix, for `validate` and reports."""
        parts = []
        if self.calling_plan:
            parts.append(self.calling_plan.value)
        elif self.phone_system:
            parts.append("PHONE_SYSTEM")
        if self.audio_conferencing:
            parts.append("AUDIO_CONFERENCING")
        if self.credits:
            parts.append("COMMUNICATIONS_CREDITS")
        return "+".join(parts) or "(none)"


def monthly_allowance(plan: Licence, country: str, overrides: dict | None = None) -> tuple[int, int]:
    """(domestic, international) minutes a month one user's plan adds to the pools (R2, R4).

    `overrides` is the `allowances` switch: {PLAN: {COUNTRY or '*': minutes or
    {domestic: m, international: m}}}.
    """
    if plan == Licence.DOMESTIC_CALLING_PLAN or plan == Licence.DOMESTIC_INTERNATIONAL_CALLING_PLAN:
        dom = 3000 if country in NORTH_AMERICA_3000 else 1200
    elif plan == Licence.DOMESTIC_CALLING_PLAN_120:
        dom = 120
    elif plan == Licence.DOMESTIC_CALLING_PLAN_240:
        dom = 240
    else:
        dom = 0
    intl = 600 if plan == Licence.DOMESTIC_INTERNATIONAL_CALLING_PLAN else 0
    if overrides:
        per_country = overrides.get(plan.value, {})
        ov = per_country.get(country, per_country.get("*"))
        if isinstance(ov, int):
            dom = ov
        elif isinstance(ov, dict):
            dom, intl = ov.get("domestic", dom), ov.get("international", intl)
    return dom, intl


DIALOUT_POOL_MINUTES_PER_USER = 60    # R5
