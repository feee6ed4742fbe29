"""One replication of one policy: the call lifecycle on a SimPy clock.

`simulate` first tries the fast path: the replication's pre-pass (prepass.py) and an event loop
over the calls that reach credits (planned.py). This module's loop, one event per attempt and per
unpaid-ahead increment, bills a policy when the fast path cannot be exact for it (it would cut a
call a pool pays again after a reset), with `fund_ahead=False`, and for checkpoints.

Design (see anchors.md, measured variants): one superposed arrival stream and
plain callbacks rather than a process per user or per call. Each attempt is an
event; each further billing increment of a connected, paying call is an event;
free calls and single-increment calls need no event after setup.

Increments certain to be paid are paid ahead of time without events (sim/ahead.py:
pool reservations and credit holds), and given back the moment that could change
anything, so results are exactly those of one event per increment. Events at the
same instant run in `priority` order: month resets, lot expiries, payments and
top-ups (negative priorities), then calls by attempt number, so that R6 ties go
to the earlier call and nothing is drawn from a lot that expires at that instant.
"""
from __future__ import annotations

import hashlib
import pickle
from array import array
from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.events import Event

from models.account import Call
from models.calls import Reason
from models.money import increment_price
from models.pools import PoolSet
from models.policy import Policy

from .ahead import CreditHolds, PoolReservations
from .call_journal import CallJournal
from .funding import EngineAccount
from .ledger_log import LoggedLedger
from sim.inputs.attempts import Attempts
from .world import new_pools


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
    charge: array           # credits spent on minutes (ten-thousandths), int32 or int64 (`new`)
    fee: array              # connection fee, the same type
    paid: array             # bit 1: a pool paid an increment; bit 2: credits did

    @classmethod
    def new(cls, world, attempts, connected: array | None = None, paid: array | None = None) -> "Outcomes":
        """Outcomes of `attempts`, blocked and unpaid unless `connected` and `paid` are given.
        Charge and fee are int32 when no call of these attempts at this rate card can reach 2^31
        ten-thousandths (R6: its longest call at the dearest rate): 80 MB less at a tenant-year."""
        n = len(attempts)
        inc = world.switches.billing_increment_seconds
        rates = [*world.rates.outbound.values(), *world.rates.toll_free_inbound.values()]
        price = max((increment_price(r.per_minute, inc) for r in rates), default=0)
        fee = max((r.connection_fee for r in rates), default=0)
        longest = int(attempts.duration.max()) if n else 0
        code = "i" if max(price * -(-longest // inc), fee) < 1 << 31 else "q"
        return cls(connected if connected is not None else array("i", [-1]) * n, array(code, [0]) * n,
                   array(code, [0]) * n, paid if paid is not None else array("b", [0]) * n)

    def finisher(self):
        """finish(call, seconds connected): write a call's outcome (a closure: the hot path's)."""
        connected, charge, fee, paid = self.connected, self.charge, self.fee, self.paid

        def finish(call: Call, seconds: int) -> None:
            i = call.idx
            connected[i] = seconds
            charge[i] = call.charge
            fee[i] = call.fee
            paid[i] = (1 if call.pool_increments else 0) | (2 if call.credit_increments else 0)
        return finish


@dataclass
class Checkpoint:
    """A replication stopped at instant `now` (every event before it done, none at or
    after it), to resume later, in this process or another: `dumps` / `loads`.
    Pending events are kept as data: ("arrival", attempt number), ("increment", call)
    or ("account", the account's method to call), each with its instant and priority,
    in heap order."""

    now: int
    account: EngineAccount
    payments: np.random.Generator
    outcomes: Outcomes | None
    held: list
    queue: list[tuple[int, int, str, object]]
    attempts_digest: str
    keep_records: bool
    fund_ahead: bool

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(data: bytes) -> "Checkpoint":
        return pickle.loads(data)


def attempts_digest(attempts: Attempts) -> str:
    """Identifies the call attempts a checkpoint belongs to."""
    h = hashlib.sha256()
    for col in (attempts.t, attempts.kind, attempts.payer, attempts.country, attempts.duration):
        h.update(np.ascontiguousarray(col).tobytes())
    return h.hexdigest()


@dataclass
class RunOutput:
    policy: Policy
    account: EngineAccount
    pools: PoolSet
    outcomes: Outcomes | None
    extra: dict = field(default_factory=dict)
    checkpoint: Checkpoint | None = None      # set when stopped early (`until`)


def simulate(world, policy: Policy, attempts: Attempts, payment_seed: np.random.SeedSequence,
             keep_records: bool = True, fund_ahead: bool = True, until: int | None = None,
             checkpoint: Checkpoint | None = None, journal: str = "increments") -> RunOutput:
    """Bill every attempt under `policy`.

    With records kept, `journal` sets the ledger journal's granularity: "increments" (a row per
    funded increment) or "calls" (a row per call per lot: sim/engine/call_journal.py).

    `fund_ahead=False` turns funding ahead off (one event per increment): same
    results, slower; tests compare. `until=T` stops before the first event at or after
    instant T and returns a `checkpoint`; `checkpoint=` resumes one (same world and
    attempts; its own seed, records and funding-ahead settings apply)."""
    if journal not in ("increments", "calls"):
        raise ValueError(f"journal must be 'increments' or 'calls', not {journal!r}")
    if checkpoint is None and until is None and fund_ahead:
        from .planned import Replan, simulate_planned
        from .prepass import prepass_for
        pre = prepass_for(world, policy, attempts)
        if pre is not None:
            try:
                return simulate_planned(world, policy, attempts, pre, payment_seed, keep_records, journal)
            except Replan:
                pass
    if checkpoint is not None:
        if checkpoint.attempts_digest != attempts_digest(attempts):
            raise ValueError("this checkpoint belongs to other call attempts (another seed or report?)")
        keep_records, fund_ahead = checkpoint.keep_records, checkpoint.fund_ahead
    env = simpy.Environment(initial_time=checkpoint.now if checkpoint else 0)
    schedule_raw = env.schedule
    account_callbacks = [lambda ev: ev.payload(env.now)]
    inc = world.switches.billing_increment_seconds
    log: LoggedLedger | None = None         # records with credits held (below)

    def schedule(t: int, priority: int, fn) -> None:
        if log:
            fn = _logged(log, priority, fn)
        schedule_raw(_Tick(env, account_callbacks, fn), priority, t - env.now)

    if checkpoint is None:
        payments = np.random.default_rng(payment_seed)
        pools = new_pools(world)
        account = EngineAccount(world.payers, pools, world.rates, policy, world.switches, world.clock, world.horizon,
                          schedule, payments.random, keep_records, getattr(world, "measure_from", 0))
        if keep_records and fund_ahead and until is None:
            # as the planned path keeps them: the ledger logs its operations with the key of the
            # event that ran them, the journal is replayed at the end (ledger_log.py). Not across
            # a checkpoint: there the journal is kept row by row, credit holds off.
            log = LoggedLedger.kept_for(account, attempts, journal, inc)
        elif keep_records and journal == "calls":
            account.ledger.journal = CallJournal(attempts.t, attempts.duration)
        account.open()
    else:
        payments, account = checkpoint.payments, checkpoint.account
        pools = account.pools
        account._schedule, account.decline_draw = schedule, payments.random

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
    route = account.route
    start_call, fund, cut_call, free_call = account.start_call, account.fund, account.cut_call, account.free_call

    if keep_records:
        out = checkpoint.outcomes if checkpoint else Outcomes.new(world, attempts)
        finish = out.finisher()
    else:
        out = None
        finish = None

    def resume(call: Call, delay: int) -> None:
        schedule_raw(_Tick(env, increment_callbacks, call), call.idx, delay)

    pools_ahead = PoolReservations(inc, world.clock.month_starts(world.horizon), resume, fund_ahead,
                                   account.reserved)
    credits_ahead = CreditHolds(account, inc, resume, fund_ahead and (log is not None or not keep_records))
    if checkpoint:
        credits_ahead.held = checkpoint.held
    account.release = pools_ahead.release
    reservable, reserve = pools_ahead.applies, pools_ahead.reserve
    holdable, hold = credits_ahead.applies, credits_ahead.hold

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
        if log:
            log.at(t, call.idx)
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
        if log:
            log.at(t, i)
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
    if checkpoint:
        callbacks = {"arrival": arrival_callbacks, "increment": increment_callbacks, "account": account_callbacks}
        for t, priority, kind, payload in checkpoint.queue:      # in heap order: same order of ties
            schedule_raw(_Tick(env, callbacks[kind], payload), priority, t - env.now)
    elif n:
        schedule_raw(_Tick(env, arrival_callbacks, 0), 0, T[0])
    if until is None:
        env.run()
    else:
        while env.peek() < until:
            env.step()
        if env.peek() != float("inf"):
            kinds = {id(arrival_callbacks): "arrival", id(increment_callbacks): "increment",
                     id(account_callbacks): "account"}
            queue = [(t, priority, kinds[id(ev.callbacks)], ev.payload)
                     for t, priority, _, ev in sorted(env._queue, key=lambda e: e[:3])]
            cp = Checkpoint(int(until), account, payments, out, credits_ahead.held, queue,
                            attempts_digest(attempts), keep_records, fund_ahead)
            return RunOutput(policy, account, pools, out, checkpoint=cp)
    credits_ahead.flush_all()
    if log:
        log.journal = log.replayed().journal
    account.close(max(world.horizon, int(env.now)))
    account.detach()
    return RunOutput(policy, account, pools, out)


def _logged(log: LoggedLedger, priority: int, fn):
    """An account event's callback that first tells the log which event runs."""
    def run(now: int) -> None:
        log.at(now, priority)
        fn(now)
    return run


__all__ = ["simulate", "RunOutput", "Outcomes", "Checkpoint", "Reason"]
