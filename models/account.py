"""A tenant's billing account under one funding policy: funds every increment (R6).

Composes the pools (R4, R5), rate card, credit ledger (R7), auto-recharge (R8),
notifications (R9), postpay (R10) and disruption records (R11). It is pure: the
clock is passed in as `t` (integer seconds since the scenario start) and anything
that must happen later is handed to `schedule(t, priority, fn)`, which the engine
implements on SimPy (tests can use a heap).

Priorities order events at the same instant: month resets, then expiries, then
purchases and payments, then calls by attempt number (R6 ties: the earlier call).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from .calls import FREE, FUNDING_REASONS, TOLL_FREE_INBOUND, CallKind, Reason
from .geography import ZONE_A, is_domestic
from .ledger import Ledger
from .measure import PRIO_MEASURE, Measured
from .licences import LicenceSet
from .policy import POSTPAY, Policy, Switches
from .pools import Pool, PoolSet
from .rates import OUTBOUND, TOLL_FREE_INBOUND as TF_RATES, RateCard
from .recharge import AutoRecharge
from .timeutil import Clock

PRIO_MONTH, PRIO_EXPIRY, PRIO_PAYMENT = -3, -2, -1

# R9 notification kinds
RECHARGE_SUCCEEDED = "recharge_succeeded"
RECHARGE_FAILED = "recharge_failed"
BALANCE_EXHAUSTED = "balance_exhausted"


def pool_alert(pct: int) -> str:
    """The notification of the dial-out pool reaching pct % used (R5)."""
    return f"dialout_pool_{pct}"


@dataclass(frozen=True, slots=True)
class Payer:
    upn: str
    country: str
    licences: LicenceSet
    dialout_policy: str = "any"


def payer_classes(payers) -> tuple[list[int], list[int]]:
    """Payers alike for billing: a route depends on its payer only through country, licences and
    dial-out policy (R2, R3, R6). Each payer's class, and the first payer of each class."""
    classes: dict[tuple, int] = {}
    of: list[int] = []
    first: list[int] = []
    for i, p in enumerate(payers):
        c = classes.setdefault((p.country, p.licences, p.dialout_policy), len(first))
        if c == len(first):
            first.append(i)
        of.append(c)
    return of, first


@dataclass(slots=True)
class Route:
    """Everything about a (payer, kind, country) that doesn't change during a run."""

    block: str | None          # a reason that blocks before any source is tried
    pool: Pool | None
    credits_ok: bool           # may spend credits (licence, or toll-free inbound)
    price: int | None          # one increment from credits; None: no rate on the card
    fee: int                   # connection fee with the first credit-funded increment
    free: bool
    domestic: bool


class Call:
    """One call in progress: what it was funded with so far."""

    __slots__ = ("idx", "route", "payer", "kind", "start", "duration", "increments",
                 "pool_increments", "credit_increments", "charge", "fee", "reason")

    def __init__(self, idx, route, payer, kind, start, duration):
        self.idx = idx
        self.route = route
        self.payer = payer
        self.kind = kind
        self.start = start
        self.duration = duration
        self.increments = 0
        self.pool_increments = 0
        self.credit_increments = 0
        self.charge = 0
        self.fee = 0
        self.reason = None


class Account(Measured):
    def __init__(self, payers: list[Payer], pools: PoolSet, rates: RateCard, policy: Policy,
                 switches: Switches, clock: Clock, horizon: int,
                 schedule: Callable[[int, int, Callable[[int], None]], None],
                 decline_draw: Callable[[], float], keep_records: bool = True, measure_from: int = 0):
        self.payers = payers
        self.pools = pools
        self.rates = rates
        self.policy = policy
        self.sw = switches
        self.inc = switches.billing_increment_seconds
        self.clock = clock
        self.horizon = horizon
        self._schedule = schedule
        self.decline_draw = decline_draw
        self.postpay = policy.billing == POSTPAY
        self.ledger = Ledger(keep_journal=keep_records, horizon=horizon)
        self.recharge = AutoRecharge(policy.auto_recharge, policy.payment) if policy.auto_recharge else None
        self.keep_records = keep_records
        self.notifications: list[tuple[int, str, str]] = []
        self.notification_count = 0
        self.disruptions: list[tuple] = []    # (t, idx, payer, kind, reason, seconds_lost)
        self.blocked = self.cut = self.connected = self.attempts = 0
        self.seconds_lost = 0
        self.affected: set = set()
        # The part of blocked / cut / affected a funding policy causes (FUNDING_REASONS).
        self.blocked_funding = self.cut_funding = 0
        self.affected_funding: set = set()
        self.exhausted_since: int | None = None
        self.exhausted_seconds = 0
        self._routes: dict[tuple, Route] = {}
        self._prices: dict[tuple, tuple] = {}
        # What the credits were spent on: money (fees included) by CallKind.
        self.spent_by_kind = [0] * 8
        self._cutoff = switches.mid_call_cutoff
        self._trigger = self.recharge.rule.trigger if self.recharge else None   # R8, see fund()
        # Metrics count from `measure_from` (after a warm-up): `base` is the running totals
        # then, `marks` the totals at each month start after it and at the close
        # (sim/analysis/metrics.py turns them into the run's and each month's figures).
        self.measure_from = measure_from
        self.base: tuple[int, dict] | None = None
        self.marks: list[tuple[int, dict]] = []

    # The driver's hooks: re-attached when a saved account is resumed (sim/engine/loop.py).
    _HOOKS = ("_schedule", "decline_draw")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for hook in self._HOOKS:
            state[hook] = None
        return state

    # ---- set-up and scheduled events -------------------------------------------------
    def open(self) -> None:
        """Initial funds, scheduled top-ups, month resets; call once at t=0."""
        if self.measure_from:
            self._at(self.measure_from, PRIO_MEASURE, self._begin_measuring)
        else:
            self.base = (0, self.totals(0))
        if self.policy.initial_funds:
            self._purchase(0, self.policy.initial_funds, "initial funds")
        for t, amount in self.policy.top_ups:
            self._at(t, PRIO_PAYMENT, partial(self._manual_top_up, amount=amount))
        for t in self.clock.month_starts(self.horizon):
            self._at(t, PRIO_MONTH, self._month_reset)
        self._maybe_recharge(0)

    def close(self, t: int) -> None:
        """End of horizon: the last month's pools report, open exhaustion episode."""
        # The last pool period is the horizon's month: calls still running past the
        # horizon (t > horizon) do not move the report into the next month (R12).
        self.pools.close_month(self.clock.month_key(max(min(t, self.horizon) - 1, 0)))
        if self.exhausted_since is not None:
            self.exhausted_seconds += max(0, min(t, self.horizon) - self.exhausted_since)
            self.exhausted_since = None
        self.marks.append((t, self.totals(t)))

    def _at(self, t: int, priority: int, fn) -> None:
        """Schedule a billing event. Payments, retries, top-ups and expiries happen
        only inside the horizon; calls already connected still run to their end. A
        payment that would settle after the horizon stays pending."""
        if t < self.horizon:
            self._schedule(t, priority, fn)

    def _month_reset(self, t: int) -> None:
        if t > self.measure_from:
            self._settle_ahead(t, PRIO_MONTH)
            self.marks.append((t, self.totals(t)))
        self.pools.close_month(self.clock.month_key(t - 1))

    def _notify(self, t: int, kind: str, detail: str = "") -> None:
        self.notification_count += 1
        if self.keep_records:
            self.notifications.append((t, kind, detail))

    # ---- purchases, expiry, auto-recharge (R7, R8) -----------------------------------
    def _purchase(self, t: int, amount: int, note: str) -> None:
        expires = self.clock.plus_months(t, 12)
        self.ledger.purchase(t, amount, expires, note)
        self._at(expires, PRIO_EXPIRY, self._expire)
        if self.exhausted_since is not None:        # R9: the next purchase re-arms
            self.exhausted_seconds += t - self.exhausted_since
            self.exhausted_since = None

    def _manual_top_up(self, t: int, amount: int) -> None:
        self._purchase(t, amount, "top-up")
        if self.recharge:
            self.recharge.manual_top_up()
            self._maybe_recharge(t)

    def _expire(self, t: int) -> None:
        old = self.ledger.balance
        if self.ledger.expire(t):
            self._balance_fell(t, old)

    def _balance_fell(self, t: int, old: int) -> None:
        new = self.ledger.balance
        if new <= 0 < old:
            self._exhausted(t)
        if self.recharge and self.recharge.crossed(old, new):
            self._maybe_recharge(t)

    def _exhausted(self, t: int) -> None:
        if self.exhausted_since is None and not self.postpay:
            self.exhausted_since = t
            self._notify(t, BALANCE_EXHAUSTED, f"balance {self.ledger.balance}")

    def _maybe_recharge(self, t: int) -> None:
        rc = self.recharge
        if rc and rc.may_start(self.ledger.balance):
            self._at(t + rc.start(), PRIO_PAYMENT, self._settle)

    def _settle(self, t: int) -> None:
        rc = self.recharge
        declined = rc.payment.decline_rate > 0 and self.decline_draw() < rc.payment.decline_rate
        outcome = rc.outcome(t, declined)
        if outcome == "ok":
            po = rc.payment.purchase_order
            self._purchase(t, rc.rule.amount, f"auto-recharge PO {po}" if po else "auto-recharge")
            rc.settled_ok()
            self._notify(t, RECHARGE_SUCCEEDED, str(rc.rule.amount))
            self._maybe_recharge(t)       # once more if still below the trigger
            return
        backoff = rc.settled_failed()
        self._notify(t, RECHARGE_FAILED, outcome)
        if backoff is not None:
            self._at(t + backoff + rc.payment.delay_seconds, PRIO_PAYMENT, self._settle)

    # ---- calls (R3, R6) -------------------------------------------------------------
    def route(self, payer: int, kind: int, country: str) -> Route:
        key = (payer, kind, country)
        r = self._routes.get(key)
        if r is None:
            r = self._routes[key] = self._resolve(payer, kind, country)
        return r

    def _resolve(self, payer_idx: int, kind: int, country: str) -> Route:
        """R3 who pays and from which sources; R6 static block reasons."""
        kind = CallKind(kind)
        if kind in FREE:
            # Free, but not licence-free (R2, R6 no_licence): a user's own number needs Phone
            # System with a Calling Plan, a meeting dial-in an organiser with conferencing.
            # Emergency calls are never blocked (R3).
            block = None
            if kind == CallKind.USER_IN and not self.payers[payer_idx].licences.can_place_pstn_calls:
                block = Reason.NO_LICENCE
            elif kind == CallKind.CONF_IN_TOLL and not self.payers[payer_idx].licences.audio_conferencing:
                block = Reason.NO_LICENCE
            # R12 Domestic/International: from the user's country (a tenant's service number
            # has no user: left domestic)
            domestic = payer_idx < 0 or is_domestic(self.payers[payer_idx].country, country)
            return Route(block, None, False, 0, 0, True, domestic)
        if kind == CallKind.UCAP_IN:          # tenant pays, no licence needed (R3)
            price, fee = self._price(TF_RATES, country)
            return Route(None, None, True, price, fee, False, True)
        p = self.payers[payer_idx]
        lic = p.licences
        if kind == CallKind.CONF_IN_TOLL_FREE:
            price, fee = self._price(TF_RATES, country)
            block = None if lic.audio_conferencing else Reason.NO_LICENCE
            return Route(block, None, True, price, fee, False, is_domestic(p.country, country))
        domestic = is_domestic(p.country, country)
        price, fee = self._price(OUTBOUND, country)
        if kind == CallKind.USER_OUT:
            block = None if lic.can_place_pstn_calls else Reason.NO_LICENCE
            pool = self.pools.for_user_call(p.country, lic.calling_plan, domestic)
        else:  # CONF_OUT
            block = None if lic.audio_conferencing else Reason.NO_LICENCE
            # `full`, not this month's `capacity`: a route serves the whole run, and a pro-rata
            # first month may hold no dial-out minute while every later month does (R5)
            pool = self.pools.dialout if country in ZONE_A and self.pools.dialout.full else None
        if block is None and (p.dialout_policy == "none" or (p.dialout_policy == "domestic" and not domestic)):
            block = Reason.DIALOUT_POLICY
        return Route(block, pool, lic.credits, price, fee, False, domestic)

    def _price(self, kind: str, country: str) -> tuple[int | None, int]:
        key = (kind, country)
        found = self._prices.get(key)
        if found is None:                  # one rate-card lookup per (kind, country), not per route
            found = self._prices[key] = self.rates.increment(kind, country, self.inc) or (None, 0)
        return found

    def free_call(self) -> None:
        """A free call that its licences allow (R3): it connects and draws on nothing."""
        self.attempts += 1
        self.connected += 1

    def start_call(self, call: Call, t: int) -> bool:
        """Authorise and fund the first increment; False if the call is blocked."""
        self.attempts += 1
        r = call.route
        reason = r.block or (None if r.free or call.duration == 0 else self.fund(call, t))
        if reason:
            call.reason = reason
            self.blocked += 1
            self.blocked_funding += reason in FUNDING_REASONS
            self._disrupt(t, call, call.duration)
            return False
        self.connected += 1
        return True

    def fund(self, call: Call, t: int) -> str | None:
        """Fund one increment starting at t from the first source that can pay it (R6)."""
        # The hot path: Pool.can_fund / Pool.draw and the _balance_fell checks are
        # inlined here (same conditions, same order); keep them in step.
        r = call.route
        inc = self.inc
        pool = r.pool
        if pool is not None and pool.remaining >= inc and (pool.partner is None or pool.partner.remaining >= inc):
            if pool.alerts:
                for pct in pool.draw(inc):
                    self._notify(t, pool_alert(pct), self.clock.month_key(t))
            else:
                pool.remaining -= inc
            call.pool_increments += 1
            call.increments += 1
            return None
        # R6 mid_call_cutoff=false: a connected call always completes; what no
        # source can fund is charged to the balance as overdraft.
        must_complete = call.increments > 0 and not self._cutoff
        if not r.credits_ok and not must_complete:
            return Reason.POOL_EXHAUSTED if pool is not None else Reason.NO_CREDITS_LICENCE
        price = r.price
        if price is None:
            return Reason.NO_RATE
        fee = r.fee if call.credit_increments == 0 else 0
        amount = price + fee
        ledger = self.ledger
        old = ledger.balance
        if not ledger.debit(t, amount, call.idx, self.postpay or must_complete):
            self._exhausted(t)
            return Reason.INSUFFICIENT_FUNDS
        call.charge += price
        self.spent_by_kind[call.kind] += amount
        call.fee += fee
        call.credit_increments += 1
        call.increments += 1
        if amount:
            # _balance_fell does something only on these two conditions
            new = ledger.balance
            trigger = self._trigger
            if new <= 0 < old or (trigger is not None and old >= trigger > new):
                self._balance_fell(t, old)
        return None

    def cut_call(self, call: Call, t: int, reason: str) -> None:
        call.reason = reason
        self.cut += 1
        self.cut_funding += reason in FUNDING_REASONS
        self._disrupt(t, call, call.start + call.duration - t)

    def _disrupt(self, t: int, call: Call, seconds_lost: int) -> None:
        self.seconds_lost += seconds_lost
        if call.payer >= 0:          # toll-free callers are not the tenant's users
            self.affected.add(call.payer)
        if call.reason in FUNDING_REASONS and call.payer >= 0:
            self.affected_funding.add(call.payer)
        if self.keep_records:
            self.disruptions.append((t, call.idx, call.payer, int(call.kind), call.reason, seconds_lost))
