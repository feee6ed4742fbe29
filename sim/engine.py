"""One replication of one policy: the call lifecycle on a SimPy clock.

Design (see anchors.md, measured variants): one superposed arrival stream and
plain callbacks rather than a process per user or per call. Each attempt is an
event; each further billing increment of a connected, paying call is an event;
free calls and single-increment calls need no event after setup.

Pool reservations (exact, not an approximation): when a pool pays a call's
increment and can certainly pay all the call's later ones (it holds them all,
they end before the next monthly reset, and the pool has no alerts and no DNI
partner whose emptiness could refuse them), those increments are drawn at once
and need no events. If a pool later looks short while it holds reservations,
`release` gives back every reserved increment that has not yet started at that
instant (R6 order: at the same instant, lower call numbers first) and re-creates
their events, so every funding decision is the one per-increment events make. Events at the
same instant run in `priority` order: month resets, lot expiries, payments and
top-ups (negative priorities), then calls by attempt number, so that R6 ties go
to the earlier call and nothing is drawn from a lot that expires at that instant.
"""
from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.events import Event

from models.account import Account, Call
from models.calls import Reason
from models.pools import PoolSet
from models.policy import Policy

from .attempts import Attempts


class _Tick(Event):
    """A pre-triggered event carrying its callbacks and a payload (cheaper than Timeout)."""

    def __init__(self, env, callbacks, payload):
        self.env = env
        self.callbacks = callbacks
        self._ok = True
        self._value = None
        self.payload = payload


@dataclass
class Outcomes:
    """Per-attempt results, kept for the replication whose files are written."""

    connected: array        # seconds connected, -1 when blocked
    charge: array           # credits spent on minutes (ten-thousandths)
    fee: array              # connection fee
    paid: array             # bit 1: a pool paid an increment; bit 2: credits did


@dataclass
class RunOutput:
    policy: Policy
    account: Account
    pools: PoolSet
    outcomes: Outcomes | None
    extra: dict = field(default_factory=dict)


def simulate(world, policy: Policy, attempts: Attempts, payment_seed: np.random.SeedSequence,
             keep_records: bool = True, reserve_pools: bool = True) -> RunOutput:
    """Bill every attempt under `policy`. `reserve_pools=False` turns the pool
    reservations off (one event per increment): same results, slower; tests compare."""
    env = simpy.Environment()
    schedule_raw = env.schedule

    def schedule(t: int, priority: int, fn) -> None:
        schedule_raw(_Tick(env, [lambda ev: fn(env.now)], None), priority, t - env.now)

    payments = np.random.default_rng(payment_seed)
    pools = PoolSet(((p.country, p.licences) for p in world.payers), world.switches.dni_cap,
                    world.switches.allowances)
    account = Account(world.payers, pools, world.rates, policy, world.switches, world.clock, world.horizon,
                      schedule, payments.random, keep_records)
    account.open()

    n = len(attempts)
    T = attempts.t.tolist()
    K = attempts.kind.tolist()
    P = attempts.payer.tolist()
    countries = attempts.countries
    n_countries = max(len(countries), 1)
    Ci = attempts.country.tolist()
    D = attempts.duration.tolist()
    # (payer, kind, country) as one int per attempt, computed in numpy: the route cache key
    KEY = ((attempts.payer.astype(np.int64) * 16 + attempts.kind) * n_countries + attempts.country).tolist()
    inc = world.switches.billing_increment_seconds
    route = account.route
    start_call, fund, cut_call, free_call = account.start_call, account.fund, account.cut_call, account.free_call

    if keep_records:
        out = Outcomes(array("i", [-1]) * n, array("q", [0]) * n, array("q", [0]) * n, array("b", [0]) * n)
        connected, charge, fee, paid = out.connected, out.charge, out.fee, out.paid

        def finish(call: Call, seconds: int) -> None:
            i = call.idx
            connected[i] = seconds
            charge[i] = call.charge
            fee[i] = call.fee
            paid[i] = (1 if call.pool_increments else 0) | (2 if call.credit_increments else 0)
    else:
        out = None
        finish = None

    resets = world.clock.month_starts(world.horizon)
    never = float("inf")

    def reserve(call: Call, pool, t: int) -> bool:
        """Draw all of the call's later increments from `pool` now, if it surely pays them."""
        total = -(-call.duration // inc)
        last = call.start + (total - 1) * inc          # start of the call's last increment
        k = bisect_right(resets, t)
        if last >= (resets[k] if k < len(resets) else never):
            return False
        need = (total - call.increments) * inc
        if pool.remaining < need:
            return False
        pool.remaining -= need
        future = total - call.increments
        call.pool_increments += future
        call.increments = total
        held = pool.reservations
        held.append(call)
        if len(held) & 1023 == 0:                       # forget calls that have ended
            held[:] = [c for c in held if c.start + (c.increments - 1) * inc >= t]
        return True

    def release(pool, t: int, priority: int) -> None:
        """Give back the reserved increments not started by (t, priority); re-create their events."""
        for call in pool.reservations:
            q, r = divmod(t - call.start, inc)
            started = q + 1 if (r or call.idx < priority) else q   # increments 0..started-1 have run
            future = call.increments - started
            if future > 0:
                pool.remaining += future * inc
                call.pool_increments -= future
                call.increments = started
                schedule_raw(_Tick(env, increment_callbacks, call), call.idx, call.start + started * inc - t)
        pool.reservations.clear()

    account.release = release

    def reservable(pool) -> bool:
        return reserve_pools and pool is not None and pool.partner is None and not pool.alerts

    # Credit holds: the same idea for calls paid from credits, only when the run keeps no
    # journal (the journal's order of rows and lots is per increment) and only on routes
    # without a pool (a refilled pool would pay again). Held increments are debited in
    # bulk by flush_credits; soonest-expiring-first spending is cumulative, so lot
    # remainders at every expiry are what one debit per increment leaves.
    holds: list[list] = []                  # [call, increments already debited]
    hold_credits = reserve_pools and not keep_records
    ledger = account.ledger

    def hold(call: Call, t: int) -> bool:
        total = -(-call.duration // inc)
        need = (total - call.increments) * call.route.price
        if ledger.balance - account.credit_held - need < account.credit_guard:
            return False
        future = total - call.increments
        holds.append([call, call.increments])
        account.credit_held += need
        call.charge += need
        call.credit_increments += future
        call.increments = total
        return True

    def flush_credits(t, priority) -> None:
        """Debit every held increment started by (t, priority)."""
        amount = 0
        keep = []
        for h in holds:
            call, done = h
            q, r = divmod(t - call.start, inc)
            started = min(call.increments, q + 1 if (r or call.idx < priority) else q)
            if started > done:
                amount += (started - done) * call.route.price
                h[1] = started
            if started < call.increments:
                keep.append(h)
        holds[:] = keep
        if amount:
            account.credit_held -= amount
            paid = ledger.debit(t, amount)
            assert paid, "a held increment could not be paid"       # the guard makes this impossible

    def release_credits(t, priority) -> None:
        """Flush, then give back every held increment not started by (t, priority)."""
        flush_credits(t, priority)
        for call, started in holds:
            future = call.increments - started
            back = future * call.route.price
            account.credit_held -= back
            call.charge -= back
            call.credit_increments -= future
            call.increments = started
            schedule_raw(_Tick(env, increment_callbacks, call), call.idx, call.start + started * inc - t)
        holds.clear()

    account.flush_credits, account.release_credits = flush_credits, release_credits

    def holdable(call: Call) -> bool:
        r = call.route
        return hold_credits and r.pool is None and call.credit_increments == call.increments

    # Hot path. Each event object is reused for the next event of its chain (the
    # next increment of its call, the next arrival), so no per-event allocation;
    # SimPy sets `callbacks` to None when it processes an event, and nothing else
    # holds these events, so giving them their (shared, never mutated) callback
    # list back and scheduling them again is all a fresh event would do. The
    # heap keys (time, priority, event id) are the same as with fresh events.
    routes: dict[int, object] = {}       # (payer, kind, country index) -> Route, as account.route

    def on_increment(ev) -> None:
        call = ev.payload
        # increments start at the call's start and every `inc` seconds after: this is env.now
        t = call.start + call.increments * inc
        reason = fund(call, t)
        if reason is not None:
            cut_call(call, t, reason)
            if finish:
                finish(call, t - call.start)
        elif call.increments * inc >= call.duration or (
                call.pool_increments == call.increments and reservable(call.route.pool)
                and reserve(call, call.route.pool, t)) or (holdable(call) and hold(call, t)):
            if finish:
                finish(call, call.duration)
        else:
            ev.callbacks = increment_callbacks
            schedule_raw(ev, call.idx, inc)

    def on_arrival(ev) -> None:
        i = ev.payload
        t = T[i]
        d = D[i]
        p = P[i]
        k = K[i]
        c = Ci[i]
        r = routes.get(KEY[i])
        if r is None:
            r = routes[KEY[i]] = route(p, k, countries[c])
        if r.free and r.block is None:              # nothing to fund, nothing can stop it
            free_call()
            if out:
                out.connected[i] = d
        elif start_call(call := Call(i, r, p, k, t, d), t):
            if r.free or call.increments * inc >= d or (
                    call.pool_increments and reservable(r.pool) and reserve(call, r.pool, t)) or (
                    holdable(call) and hold(call, t)):
                if finish:
                    finish(call, d)
            else:
                schedule_raw(_Tick(env, increment_callbacks, call), i, inc)
        j = i + 1
        if j < n:
            ev.payload = j
            ev.callbacks = arrival_callbacks
            schedule_raw(ev, j, T[j] - t)

    increment_callbacks = [on_increment]
    arrival_callbacks = [on_arrival]
    if n:
        schedule_raw(_Tick(env, arrival_callbacks, 0), 0, T[0])
    env.run()
    if holds:           # held increments need no events: some may start after the last event
        flush_credits(max(c.start + c.increments * inc for c, _ in holds), n)
    account.close(max(world.horizon, int(env.now)))
    return RunOutput(policy, account, pools, out)


__all__ = ["simulate", "RunOutput", "Outcomes", "Reason"]
