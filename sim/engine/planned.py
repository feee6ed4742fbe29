"""One policy of one replication when the pre-pass (sim/engine/prepass.py) has decided everything
no funding policy can change: only the attempts that reach credits, or a pool with alerts, go
through the SimPy event loop; the increments the pre-pass says a pool pays need no event.

Same event order and priorities as sim/engine/loop.py (whose docstring explains them), so the
results are identical; tests/test_properties.py compares the two on random tenants.
"""
from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

import numpy as np
import simpy

from models.account import Call, Route

from .ahead import CreditHolds, HeldBlock, PoolReservations
from .funding import PlannedAccount
from .world import new_pools


class Batches:
    """Runs of consecutive loop attempts that only credits pay (no pool), for `CreditHolds.hold_block`."""

    SMALLEST = 8              # below this, the per-call path is as cheap

    def __init__(self, attempts, pre, loop, inc: int):
        r_pool = np.array([r.pool is not None for r in pre.routes] + [True])
        price = np.array([r.price or 0 for r in pre.routes] + [0], np.int64)
        fee = np.array([r.fee for r in pre.routes] + [0], np.int64)
        u = pre.route_of[loop]
        ok = (pre.group[loop] < 0) & ~r_pool[u]
        self.start = attempts.t[loop]
        self.total = -(-attempts.duration[loop].astype(np.int64) // inc)
        self.price, self.fee = price[u], fee[u]
        self.idx, self.kind = loop, attempts.kind[loop]
        self.cost = np.where(ok, self.total * self.price + self.fee, 0)
        self.cum = np.concatenate([[0], np.cumsum(self.cost)]).tolist()
        # run_end[j]: the first position at or after j that is not credits-only
        bad = np.flatnonzero(~ok)
        self.run_end = np.append(bad, len(ok))[np.searchsorted(bad, np.arange(len(ok)))].tolist()
        self.times = self.start.tolist()

    def end(self, j: int, next_event: float, account) -> int:
        """The end of the block from j (j when none): arrivals before `next_event`, within the
        money the guard leaves (balance less held credits less the guard)."""
        e = self.run_end[j]
        if e - j < self.SMALLEST:
            return j
        slack = account.ledger.balance - account.credit_held - account.credit_guard
        if slack < 0:
            return j
        e = min(e, bisect_left(self.times, next_event, j, e))
        e = min(e, bisect_right(self.cum, self.cum[j] + slack, j, e + 1) - 1)
        return e if e - j >= self.SMALLEST else j

    def block(self, j: int, e: int):
        s = slice(j, e)
        block = HeldBlock(np.arange(j, e), self.start[s], self.total[s], self.price[s], self.fee[s], self.idx[s],
                          self.kind[s], np.zeros(e - j, np.int64))
        return block, self.cost[s], self.cum[e] - self.cum[j]


class Replan(Exception):
    """This policy cut or blocked a call a pool would pay again after a reset: bill it the exact way."""


def simulate_planned(world, policy, attempts, pre, payment_seed, keep_records):
    from .loop import Outcomes, RunOutput, _Tick as tick
    env = simpy.Environment()
    schedule_raw = env.schedule
    account_callbacks = [lambda ev: ev.payload(env.now)]

    def schedule(t: int, priority: int, fn) -> None:
        schedule_raw(tick(env, account_callbacks, fn), priority, t - env.now)

    payments = np.random.default_rng(payment_seed)
    pools = new_pools(world)
    account = PlannedAccount(world.payers, pools, world.rates, policy, world.switches, world.clock, world.horizon,
                             schedule, payments.random, keep_records, getattr(world, "measure_from", 0), prepass=pre)
    account.open()

    loop = pre.loop
    LI = loop.tolist()
    T = attempts.t[loop].tolist()
    D = attempts.duration[loop].tolist()
    P = attempts.payer[loop].tolist()
    K = attempts.kind[loop].tolist()
    U = pre.route_of[loop].tolist()
    group = pre.group[loop]
    planned = dict(zip(loop[group >= 0].tolist(), group[group >= 0].tolist()))
    mixed = set(np.flatnonzero(pre.mixed).tolist())
    countries = attempts.countries
    n = len(LI)
    inc = world.switches.billing_increment_seconds
    start_call, fund, cut_call = account.start_call, account.fund, account.cut_call
    pool_pays = pre.pool_pays
    routes: dict[int, Route] = {}           # route index -> the account's route (its own pools)
    credit_routes: dict[int, Route] = {}    # ... with the pool left out: the pre-pass decided its draws

    def route_of(j: int, planned_call: bool) -> Route:
        u = U[j]
        r = routes.get(u)
        if r is None:
            r = routes[u] = account.route(P[j], K[j], countries[attempts.country[LI[j]]])
        if not planned_call:
            return r
        c = credit_routes.get(u)
        if c is None:
            c = credit_routes[u] = Route(None, None, r.credits_ok, r.price, r.fee, False, r.domestic)
        return c

    if keep_records:
        out = Outcomes(array("i", pre.connected.tobytes()), array("q", [0]) * len(attempts),
                            array("q", [0]) * len(attempts), array("b", pre.paid.tobytes()))
        connected, charge, fee, paid = out.connected, out.charge, out.fee, out.paid

        def finish(call: Call, seconds: int) -> None:
            i = call.idx
            connected[i] = seconds
            charge[i] = call.charge
            fee[i] = call.fee
            paid[i] = (1 if call.pool_increments else 0) | (2 if call.credit_increments else 0)
    else:
        out = finish = None

    def resume(call: Call, delay: int) -> None:
        schedule_raw(tick(env, increment_callbacks, call), call.idx, delay)

    pools_ahead = PoolReservations(inc, world.clock.month_starts(world.horizon), resume, True, account.reserved)
    credits_ahead = CreditHolds(account, inc, resume, not keep_records)
    batches = Batches(attempts, pre, loop, inc) if not keep_records else None

    def make_call(j: int, done: int) -> Call:
        """A call of a held block, as the per-call path would have it after `done` increments."""
        r = route_of(j, False)
        call = Call(LI[j], r, P[j], K[j], T[j], D[j])
        call.increments = call.credit_increments = done
        call.charge, call.fee = done * r.price, r.fee
        return call

    credits_ahead.make_call = make_call
    account.release = pools_ahead.release
    reservable, reserve = pools_ahead.applies, pools_ahead.reserve
    holdable, hold = credits_ahead.applies, credits_ahead.hold

    def advance(call: Call, g: int) -> None:
        """Count the increments ahead that the pre-pass says a pool pays (no event needed)."""
        k = call.increments
        total = -(-call.duration // inc)
        while k < total and pool_pays(g, call.idx, call.start + k * inc):
            k += 1
        call.pool_increments += k - call.increments
        call.increments = k

    def done_or_next(call: Call, t: int, g) -> bool:
        """After funding at t: True if nothing more needs an event (finished or paid ahead)."""
        if g is not None:
            advance(call, g)
        if call.increments * inc >= call.duration:
            return True
        if g is None:
            pool = call.route.pool
            if call.pool_increments == call.increments and reservable(pool) and reserve(call, pool, t):
                return True
        elif call.idx in mixed:
            return False
        return holdable(call) and hold(call, t)

    def on_increment(ev) -> None:
        call = ev.payload
        t = call.start + call.increments * inc
        g = planned.get(call.idx)
        reason = fund(call, t)
        if reason is not None:
            cut_call(call, t, reason)
            if g is not None and call.idx in mixed:
                raise Replan
            if finish:
                finish(call, t - call.start)
        elif done_or_next(call, t, g):
            if finish:
                finish(call, call.duration)
        else:
            ev.callbacks = increment_callbacks
            schedule_raw(ev, call.idx, call.start + call.increments * inc - t)

    def on_arrival(ev) -> None:
        j = ev.payload
        i, t, d = LI[j], T[j], D[j]
        if batches is not None and (e := batches.end(j, env.peek(), account)) > j:
            # calls from j up to e: credits only, arriving before anything else happens, all
            # paid whole from a balance that stays at or above the guard: held as one block
            block, cost, need = batches.block(j, e)
            credits_ahead.hold_block(t, block, cost, need)
            account.attempts += e - j
            account.connected += e - j
            if e < n:
                ev.payload = e
                ev.callbacks = arrival_callbacks
                schedule_raw(ev, LI[e], T[e] - t)
            return
        g = planned.get(i)
        call = Call(i, route_of(j, g is not None), P[j], K[j], t, d)
        if g is not None:
            advance(call, g)
        if call.increments:              # a pool pays its first increment: connected
            account.attempts += 1
            account.connected += 1
            started = True
        else:
            started = start_call(call, t)
            if not started and g is not None and i in mixed:
                raise Replan
        if started:
            if done_or_next(call, t, g):
                if finish:
                    finish(call, d)
            else:
                schedule_raw(tick(env, increment_callbacks, call), i, call.start + call.increments * inc - t)
        j += 1
        if j < n:
            ev.payload = j
            ev.callbacks = arrival_callbacks
            schedule_raw(ev, LI[j], T[j] - t)

    increment_callbacks = [on_increment]
    arrival_callbacks = [on_arrival]
    if n:
        schedule_raw(tick(env, arrival_callbacks, 0), LI[0], T[0])
    env.run()
    credits_ahead.flush_all()
    account.close(max(world.horizon, int(env.now)))
    return RunOutput(policy, account, pools, out)
