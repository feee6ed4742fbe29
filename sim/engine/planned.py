"""One policy of one replication when the pre-pass (sim/engine/prepass.py) has decided everything
no funding policy can change: only the attempts that reach credits go through the SimPy event
loop; the increments the pre-pass says a pool pays need no event.

Two arrival chains: calls only credits pay (`whole_credit`) and the rest. A run of the former
whose whole cost fits above the guard (sim/engine/ahead.py) is held as one block in one event;
the guard and `CreditHolds.release` (which gives back and re-creates whatever has not started,
arrivals included) keep every funding decision the one a call-by-call loop makes. A run of them
whose first increment the balance cannot fund (prepaid, nothing held, no recharge a debit could
start, no account event, which may buy, before the last) is blocked for funds in one event: a
policy that runs dry costs no more than one that does not.

Same event order and priorities as sim/engine/loop.py (whose docstring explains them), so the
results are identical; tests/test_properties.py compares the two on random tenants.
"""
from __future__ import annotations

from array import array
from bisect import bisect_right
from heapq import heappop, heappush
from itertools import count

import numpy as np
import simpy

from models.account import Call, Route

from .ahead import CreditHolds, HeldBlock
from .funding import PlannedAccount
from .ledger_log import LoggedLedger
from .prepass import narrow
from .world import new_pools


class LoopTables:
    """What every policy's loop reads of a replication, built by the first and kept in the
    pre-pass (`Prepass.shared`): none of it depends on the policy."""

    def __init__(self, attempts, pre, inc: int, measure_from: int):
        loop = pre.loop
        # Per loop position (i, t, d, payer, kind, route), as one numpy row: a tenant-year has millions
        # of loop attempts, and Python lists of them would cost ~180 bytes each; rows are read on use.
        self.rows = np.rec.fromarrays([loop, narrow(attempts.t[loop]), attempts.duration[loop], attempts.payer[loop],
                                       attempts.kind[loop], pre.route_of[loop]])
        group = pre.group[loop]
        self.planned = dict(zip(loop[group >= 0].tolist(), group[group >= 0].tolist()))
        self.mixed = set(np.flatnonzero(pre.mixed).tolist())
        self.whole = pre.whole_credit[loop]
        settles = sorted({*pre.resets, *([measure_from] if measure_from else [])})
        self.batches = Batches(self.rows, pre.routes, np.flatnonzero(self.whole), inc, settles)


class Replan(Exception):
    """This policy cut or blocked a call a pool would pay again after a reset: bill it the exact way."""


class Batches:
    """The `whole_credit` loop attempts as columns, for holding runs of them as one block."""

    # Measured (benchmarks/README.md): blocks of 2 already pay on small tenants; 1,024 calls or a
    # day of arrivals at most keep what a release gives back (and re-creates) small.
    SMALLEST = 2
    LARGEST = 1024
    WINDOW = 86400

    def __init__(self, rows: np.recarray, routes: list, positions: np.ndarray, inc: int, settles: list[int]):
        """rows: the loop tables' rows; positions: those of the `whole_credit` attempts, ascending."""
        # Kept narrow (a tenant-year has ~4M of them): positions and instants (what every arrival
        # reads) as int32 and costs summed; a block gathers the rest from the rows' fields (views).
        self.idx_of, self.time_of, self.duration_of, self.kind_of, self.route_of = rows.f0, rows.f1, rows.f2, rows.f4, rows.f5
        self.prices = np.array([r.price or 0 for r in routes] + [0], np.int64)
        self.fees = np.array([r.fee for r in routes] + [0], np.int64)
        # routes whose calls only the balance can refuse (credits allowed, a rate), and the dearest
        # first increment among them: a balance at or above it refuses none
        self.refusable = np.array([r.credits_ok and r.price is not None for r in routes] + [False])
        self.dearest = int((self.prices + self.fees)[self.refusable].max(initial=0))
        self.inc = inc
        self.pos = narrow(positions)
        self.start = self.time_of[positions]
        route = self.route_of[positions]
        cost = self._increments(positions)
        cost *= self.prices[route]
        cost += self.fees[route]
        del route
        self.cum = np.zeros(len(cost) + 1, np.int64)
        np.cumsum(cost, out=self.cum[1:])
        self.settles = settles        # instants that read the running totals (month starts, warm-up end)

    def _increments(self, positions: np.ndarray) -> np.ndarray:
        """Whole increments of these loop positions' calls, int64."""
        total = self.duration_of[positions].astype(np.int64)
        total += self.inc - 1
        total //= self.inc
        return total

    def end(self, b: int, account) -> int:
        """The end of the block from b (b when none): within a day, before the next instant that
        reads the totals, and within the money the guard leaves (balance less held, less guard)."""
        slack = account.ledger.balance - account.credit_held - account.credit_guard
        if slack < 0:
            return b
        t = int(self.start[b])
        k = bisect_right(self.settles, t)
        limit = min(t + self.WINDOW, self.settles[k] if k < len(self.settles) else t + self.WINDOW)
        e = b + int(np.searchsorted(self.start[b:b + self.LARGEST], limit, "left"))
        e = min(e, b + int(np.searchsorted(self.cum[b:e + 1], self.cum[b] + slack, "right")) - 1)
        return e if e - b >= self.SMALLEST else b

    def refused(self, b: int, balance: int, limit: int | None) -> int:
        """The end of the run from b of calls whose first increment the balance cannot fund
        (R6: price and fee above it, or above 0 when overdrawn), arriving before `limit` (the next
        account event, which may buy): b when none. Nothing is held, so nothing else can change
        the balance before then; at most LARGEST calls a step."""
        n = min(len(self.pos), b + self.LARGEST)
        if limit is not None:
            n = b + int(np.searchsorted(self.start[b:n], limit, "left"))
        pos = self.pos[b:n]
        u = self.route_of[pos]
        ok = self.refusable[u] & (self.prices[u] + self.fees[u] > max(balance, 0)) & (self.duration_of[pos] > 0)
        return b + (len(ok) if ok.all() else int(np.argmin(ok)))

    def block(self, b: int, e: int) -> tuple[HeldBlock, np.ndarray, int]:
        pos = self.pos[b:e].astype(np.int64)
        u = self.route_of[pos]
        block = HeldBlock(pos, self.start[b:e].astype(np.int64), self._increments(pos), self.prices[u], self.fees[u],
                          self.idx_of[pos].astype(np.int64), self.kind_of[pos], np.zeros(e - b, np.int64))
        return block, np.diff(self.cum[b:e + 1]), int(self.cum[e] - self.cum[b])


def simulate_planned(world, policy, attempts, pre, payment_seed, keep_records, journal="increments"):
    from .loop import Outcomes, RunOutput, _Tick as tick
    env = simpy.Environment()
    schedule_raw = env.schedule
    inc = world.switches.billing_increment_seconds
    log: LoggedLedger | None = None         # with records: the account's ledger (below)

    pending: list[tuple[int, int, int]] = []     # account events not run yet, as SimPy orders them
    numbers = count()

    def run_account_event(ev) -> None:
        fn, priority = ev.payload
        heappop(pending)
        if log:
            log.at(env.now, priority)
        fn(env.now)

    account_callbacks = [run_account_event]

    def schedule(t: int, priority: int, fn) -> None:
        heappush(pending, (t, priority, next(numbers)))
        schedule_raw(tick(env, account_callbacks, (fn, priority)), priority, t - env.now)

    payments = np.random.default_rng(payment_seed)
    pools = new_pools(world)
    measure_from = getattr(world, "measure_from", 0)
    account = PlannedAccount(world.payers, pools, world.rates, policy, world.switches, world.clock, world.horizon,
                             schedule, payments.random, keep_records, measure_from, prepass=pre)
    if keep_records:             # the journal is rebuilt from the log as the run goes
        log = LoggedLedger.kept_for(account, attempts, journal, inc)
    account.open()

    tables = pre.shared.get("loop")
    if tables is None:
        tables = pre.shared["loop"] = LoopTables(attempts, pre, inc, measure_from)
        pre.route_of = pre.group = pre.mixed = pre.whole_credit = None     # the tables hold what is read
    rows, planned, mixed, whole, batches = tables.rows, tables.planned, tables.mixed, tables.whole, tables.batches
    start_call, fund, cut_call = account.start_call, account.fund, account.cut_call
    pool_pays = pre.pool_pays
    routes: dict[int, Route] = {}           # route index -> the route this run bills it by

    def route_of(i: int, u: int) -> Route:
        r = routes.get(u)
        if r is None:
            r = pre.routes[u]
            if i in planned:                  # the pre-pass decided its pool draws: credits only here
                r = Route(None, None, r.credits_ok, r.price, r.fee, False, r.domestic)
            assert r.pool is None, "the pre-pass plans every pool"
            routes[u] = r
        return r

    if keep_records:
        out = Outcomes.new(world, attempts, _copied("i", pre.connected), _copied("b", pre.paid))
        connected, charge, fee, paid = out.connected, out.charge, out.fee, out.paid
        finish = out.finisher()
    else:
        out = finish = None

    def resume(call: Call, delay: int) -> None:
        schedule_raw(tick(env, increment_callbacks, call), call.idx, delay)

    credits_ahead = CreditHolds(account, inc, resume)
    holdable, hold = credits_ahead.applies, credits_ahead.hold

    def make_call(j: int, done: int) -> Call | None:
        """A call of a held block as the call-by-call path has it after `done` increments; one not
        yet arrived (done 0) is un-counted and arrives again by its own event."""
        i, t, d, p, k, u = rows[j].item()
        r = route_of(i, u)
        if not done:
            account.attempts -= 1
            account.connected -= 1
            if out:                      # its outcome is decided again when it arrives
                connected[i], charge[i], fee[i], paid[i] = -1, 0, 0, 0
            schedule_raw(tick(env, late_callbacks, j), i, t - env.now)
            return None
        call = Call(i, r, p, k, t, d)
        call.increments = call.credit_increments = done
        call.charge, call.fee = done * r.price, r.fee
        return call

    credits_ahead.make_call = make_call

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
        if g is not None and call.idx in mixed:
            return False
        return holdable(call) and hold(call, t)

    def on_increment(ev) -> None:
        call = ev.payload
        t = call.start + call.increments * inc
        g = planned.get(call.idx)
        if log:
            log.at(t, call.idx)
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

    def arrive(j: int) -> None:
        """Loop position j arrives, call by call."""
        i, t, d, p, k, u = rows[j].item()
        if log:
            log.at(t, i)
        g = planned.get(i)
        call = Call(i, route_of(i, u), p, k, t, d)
        if g is not None:
            advance(call, g)
        if call.increments:              # a pool pays its first increment: connected
            account.attempts += 1
            account.connected += 1
        elif not start_call(call, t):
            if g is not None and i in mixed:
                raise Replan
            return
        if done_or_next(call, t, g):
            if finish:
                finish(call, d)
        else:
            schedule_raw(tick(env, increment_callbacks, call), i, call.start + call.increments * inc - t)

    idx_of, time_of = rows.f0, rows.f1             # per loop position (views of the rows)

    def refused_from(b: int) -> int:
        """The end of the run of the credit chain's calls from b to block for funds at once (b when
        none, or too few to be worth it): prepaid, nothing held, the balance below some first
        increment, no debit able to start a recharge and no account event (which may buy) before
        them."""
        balance = account.ledger.balance
        if balance >= batches.dearest or account.credit_held or account.postpay or not account.only_events_buy():
            return b
        e = batches.refused(b, balance, pending[0][0] if pending else None)
        return e if e - b >= batches.SMALLEST else b

    def refuse(positions: np.ndarray) -> None:
        """Loop positions the balance cannot fund (`Batches.refused`): blocked at once."""
        pos = positions.astype(np.int64)
        i = idx_of[pos]
        if log:                          # the running event is the first one's arrival
            log.at(int(time_of[pos[0]]), int(i[0]))
        account.refuse_for_funds(time_of[pos], i, rows.f3[pos], rows.f4[pos], rows.f2[pos])

    def chain(callbacks: list, order: np.ndarray):
        """An arrival chain over loop positions `order`: one event object, re-used (see loop.py)."""

        def on_arrival(ev) -> None:
            b = ev.payload
            t = int(time_of[order[b]])
            e = batches.end(b, account) if callbacks is credit_callbacks else b
            if e > b:
                block, cost, need = batches.block(b, e)
                credits_ahead.hold_block(t, block, cost, need)
                if out:                  # as they will end unless given back (then the call-by-call path writes)
                    views[0][block.idx] = attempts.duration[block.idx]
                    views[1][block.idx] = block.total * block.price
                    views[2][block.idx] = block.fee
                    views[3][block.idx] = 2
                account.attempts += e - b
                account.connected += e - b
            elif callbacks is credit_callbacks and (r := refused_from(b)) > b:
                refuse(order[b:r])
                e = r
            else:
                arrive(int(order[b]))
                e = b + 1
            if e < len(order):
                ev.payload = e
                ev.callbacks = callbacks
                j = order[e]
                schedule_raw(ev, int(idx_of[j]), int(time_of[j]) - t)
        callbacks.append(on_arrival)
        if len(order):
            schedule_raw(tick(env, callbacks, 0), int(idx_of[order[0]]), int(time_of[order[0]]))

    increment_callbacks = [on_increment]
    late_callbacks = [lambda ev: arrive(ev.payload)]
    credit_callbacks: list = []
    if out:
        views = [np.frombuffer(x, x.typecode) for x in (out.connected, out.charge, out.fee, out.paid)]
    chain(credit_callbacks, batches.pos)
    chain([], narrow(np.flatnonzero(~whole)))
    env.run()
    credits_ahead.flush_all()
    if log:
        log.journal = log.replayed().journal
    account.close(max(world.horizon, int(env.now)))
    account.detach()
    return RunOutput(policy, account, pools, out)


def _copied(typecode: str, column: np.ndarray) -> array:
    """A typed array holding a copy of the pre-pass's column (one copy, not via bytes)."""
    out = array(typecode)
    assert out.itemsize == column.itemsize, (typecode, column.dtype)
    out.frombytes(memoryview(np.ascontiguousarray(column)).cast("B"))
    return out
