"""Calling Plan minute pools (R4) and the Audio Conferencing dial-out pool (R5).

Pools count seconds so that any billing increment draws a whole increment:
a 60 s increment takes one pool minute (R6).
"""
from __future__ import annotations

from .geography import pool_country
from .licences import CAPABILITY, DIALOUT_POOL_MINUTES_PER_USER, Licence, monthly_allowance

DIALOUT_COUNTRY = "Global"     # the dial-out pool is tenant-wide, not per country


class Pool:
    __slots__ = ("country", "capability", "scope", "capacity", "full", "remaining", "partner",
                 "alerts", "alerted")

    def __init__(self, country: str, capability: str, scope: str, capacity_seconds: int,
                 alerts: tuple[int, ...] = ()):
        self.country = country
        self.capability = capability
        self.scope = scope                      # 'domestic', 'international' or 'dial-out'
        self.capacity = capacity_seconds        # this month's (a pro-rata first month may be smaller)
        self.full = capacity_seconds            # every other month's
        self.remaining = capacity_seconds
        self.partner: Pool | None = None        # the other MCOPSTN2 pool under dni_cap=whichever_first
        self.alerts = alerts                    # percentages used that notify (R5: 80, 100)
        self.alerted: set[int] = set()

    @property
    def used(self) -> int:
        return self.capacity - self.remaining

    def can_fund(self, seconds: int) -> bool:
        if self.remaining < seconds:
            return False
        # R4 whichever_first: once either MCOPSTN2 pool is empty both count as empty.
        return self.partner is None or self.partner.remaining >= seconds

    def draw(self, seconds: int) -> list[int]:
        """Take one increment; returns the alert percentages newly crossed."""
        self.remaining -= seconds
        if not self.alerts:
            return []
        # A pool that cannot fund another whole increment is used up (R5 100 %), even when
        # the increment does not divide the pool (e.g. 70 s increments of a 3600 s pool).
        used = self.capacity if self.remaining < seconds else self.used
        crossed = [p for p in self.alerts
                   if p not in self.alerted and used * 100 >= p * self.capacity]
        self.alerted.update(crossed)
        return crossed

    def quiet_after(self, seconds: int, inc: int) -> bool:
        """Whether drawing `seconds` more, `inc` at a time, would cross no alert not yet sent
        (R5: neither a percentage used nor the pool running out)."""
        left = self.remaining - seconds
        if left < inc:
            return not self.alerts
        used = self.capacity - left
        return all(p in self.alerted or used * 100 < p * self.capacity for p in self.alerts)

    def reset(self) -> None:
        self.capacity = self.full
        self.remaining = self.capacity
        self.alerted.clear()


class PoolSet:
    """All of a tenant's pools, and the pools report rows (R12) month by month."""

    def __init__(self, users, dni_cap: str = "whichever_first", allowances: dict | None = None):
        """`users`: iterable of (country, LicenceSet)."""
        sizes: dict[tuple[str, Licence], list[int]] = {}
        conferencing_users = 0
        for country, lic in users:
            if lic.audio_conferencing:
                conferencing_users += 1
            plan = lic.calling_plan
            if plan is None or plan == Licence.PAY_AS_YOU_GO_CALLING_PLAN:
                continue
            dom, intl = monthly_allowance(plan, country, allowances)
            acc = sizes.setdefault((pool_country(country), plan), [0, 0])
            acc[0] += dom
            acc[1] += intl
        self.domestic: dict[tuple[str, Licence], Pool] = {}
        self.international: dict[tuple[str, Licence], Pool] = {}
        for (country, plan), (dom, intl) in sorted(sizes.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
            cap = CAPABILITY[plan]
            d = self.domestic[(country, plan)] = Pool(country, cap, "domestic", dom * 60)
            if plan == Licence.DOMESTIC_INTERNATIONAL_CALLING_PLAN:
                i = self.international[(country, plan)] = Pool(country, cap, "international", intl * 60)
                if dni_cap == "whichever_first":
                    d.partner, i.partner = i, d
        self.dialout = Pool(DIALOUT_COUNTRY, CAPABILITY[Licence.AUDIO_CONFERENCING], "dial-out",
                            conferencing_users * DIALOUT_POOL_MINUTES_PER_USER * 60, alerts=(80, 100))
        self.report: list[tuple] = []

    def prorate(self, part: int, whole: int) -> None:
        """This (first) month's allowances scaled by part / whole of the month, rounded down to
        whole minutes (switch first_month_allowance: pro_rata); the next reset restores them."""
        for p in self.all():
            p.capacity = p.remaining = p.full // 60 * part // whole * 60

    def all(self) -> list[Pool]:
        return [*self.domestic.values(), *self.international.values(), self.dialout]

    def for_user_call(self, user_country: str, plan: Licence | None, domestic: bool) -> Pool | None:
        if plan is None:
            return None
        key = (pool_country(user_country), plan)
        return (self.domestic if domestic else self.international).get(key)

    def close_month(self, month: str) -> None:
        """Record the month's report rows and refill every pool (R4: no roll-over)."""
        for p in self.all():
            if p.capacity:
                self.report.append((month, p.country, p.capability, p.scope,
                                    p.capacity, p.used, p.remaining))
            p.reset()

    def used_seconds(self) -> int:
        return sum(p.used for p in self.all())
