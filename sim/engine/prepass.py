"""What no funding policy can change, decided once per replication with numpy (issue 13).

Pools pay before credits (R6) and are drawn the same under every policy: whether a pool pays
an increment depends only on the requests before it in (instant, attempt number) order, and
in each month a pool group (one pool, or the two MCOPSTN2 pools under whichever_first, R4)
pays a prefix of its requests and nothing after (R4: no refill before the reset). So, for
every attempt, this decides without events:

- free calls (connected), blocks that need no money (licence, dial-out policy, no credits
  licence, no rate, R3/R6), zero-length calls, calls a pool pays whole, and calls a pool
  stops paying that may not use credits (pool_exhausted, no_rate): their outcomes, counters,
  disruptions and the pools' use month by month, and the dial-out pool's alerts (R5: the
  increment that reaches 80 % or uses the pool up is a position in that month's key order);
- the rest, the `loop` attempts, reach credits: only they go through each policy's event loop
  (sim/engine/planned.py), which asks `pool_pays` for their pool-funded increments.

A policy can change the pools only by cutting or blocking a loop call that a pool would pay
again after a monthly reset (`mixed`): the loop then bills that policy the exact way
(sim/engine/loop.py). tests/test_properties.py compares both ways on random tenants.
"""
from __future__ import annotations

import weakref
from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np

from models.account import Account, payer_classes, pool_alert
from models.calls import FUNDING_REASONS, Reason

from sim.inputs.attempts import TENANT

from .world import new_pools

INF = np.iinfo(np.int64).max
DENSE_KEYS = 1 << 26        # route keys ranked in a dense table up to this many, sorted beyond
REASONS = [Reason.NO_LICENCE, Reason.DIALOUT_POLICY, Reason.POOL_EXHAUSTED, Reason.NO_CREDITS_LICENCE,
           Reason.INSUFFICIENT_FUNDS, Reason.NO_RATE]
NONE, POOL_EX, NO_CRED, NO_RATE = -1, REASONS.index(Reason.POOL_EXHAUSTED), REASONS.index(Reason.NO_CREDITS_LICENCE), \
    REASONS.index(Reason.NO_RATE)


def narrow(a: np.ndarray) -> np.ndarray:
    """Integers (positions, attempt numbers, instants) as int32 when they fit: half the memory.
    Arithmetic on them must widen first (numpy keeps int32 for int32 op Python int)."""
    return a.astype(np.int32) if not len(a) or -1 << 31 <= int(a.min()) and int(a.max()) < 1 << 31 else a


def expanded(count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts as items: for each, its row and its number within the row (0, 1, ... count - 1)."""
    rep = np.repeat(np.arange(len(count)), count)
    return rep, np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)


def cdiv(a, b):
    return -(-a // b)


@dataclass
class Prepass:
    world: object
    n: int                              # attempts; keys of increments are instant * n + attempt number
    route_of: np.ndarray                # per attempt: index into `routes`
    routes: list                        # models.account.Route of each (payer, kind, country), a scratch account's
    loop: np.ndarray                    # attempt numbers the policy loop bills, ascending (int32)
    group: np.ndarray                   # per attempt: its pool group when planned here, else -1
    cuts: list[list[int]]               # per group, per month period: key of the last increment it pays
    mixed: np.ndarray                   # per attempt: a pool pays it again after credits did
    whole_credit: np.ndarray            # per attempt: a loop attempt only credits pay (no pool draws at all)
    resets: list[int]
    pool_index: list[int]               # PoolSet.all() positions of the planned pools
    used: list[list[int]]               # per planned pool, per period: seconds drawn
    used_at_measure: list[int]          # per planned pool: seconds drawn in its period before measure_from
    connected: np.ndarray               # outcome templates (int32, int8): loop attempts are filled by the loop
    paid: np.ndarray
    disruptions: list[tuple]            # (t, idx, payer, kind, reason, seconds_lost), in event order
    before: dict[int, dict]             # instant -> the counters of everything decided here before it
    total: dict                         # ... and of everything
    affected: set = field(default_factory=set)
    affected_funding: set = field(default_factory=set)
    alerts: list = field(default_factory=list)        # R5's: (t, idx, kind, detail), in event order
    shared: dict = field(default_factory=dict)        # what the policies' loops build once (planned.py)
    # route_of, group, mixed and whole_credit are read only by those loop tables, which drop them
    # (~100 MB at a tenant-year)

    def pool_pays(self, g: int, idx: int, t: int) -> bool:
        cuts = self.cuts[g]
        return t * self.n + idx <= cuts[bisect_left(self.resets, t + 1)]

    def used_before(self, j: int, t: int | None) -> int:
        """Seconds planned pool j has drawn at (t, any negative priority) in its period; t None: at the end."""
        if t is None:
            return self.used[j][-1]
        p = bisect_left(self.resets, t)
        if p < len(self.resets) and self.resets[p] == t:
            return self.used[j][p]
        if t == 0:
            return 0
        assert t == getattr(self.world, "measure_from", 0), t
        return self.used_at_measure[j]


_CACHE: list[tuple] = []       # (weakref to the attempts, world, Prepass): the last two replications'


def prepass_for(world, policy, attempts) -> Prepass | None:
    """The replication's pre-pass, built once and shared by every policy and sweep candidate."""
    for ref, w, pre in _CACHE:
        if ref() is attempts and w is world:
            return pre
    pre = build(world, policy, attempts)
    _CACHE[:] = [*(e for e in _CACHE[-1:] if e[0]() is not None), (weakref.ref(attempts), world, pre)]
    return pre


def forget(attempts=None) -> None:
    """Drop the cached pre-passes: all (with the runner's cached traffic, when a run ends) or those
    of `attempts` (when their replication's last policy has run)."""
    _CACHE[:] = [] if attempts is None else [e for e in _CACHE if e[0]() is not attempts]


def _route_table(world, policy, attempts):
    """The routes attempts take, and each attempt's index into them. A route depends on its payer
    only through country, licences and dial-out policy (R2, R3, R6): payers alike form a class
    (a tenant-year's 10,000 users are a handful), and each (class, kind, country) present is
    resolved once."""
    pools = new_pools(world)
    scratch = Account(world.payers, pools, world.rates, policy, world.switches, world.clock, world.horizon,
                      lambda *a: None, lambda: 0.0, False)
    class_of, payer_of_class = payer_class_table(world.payers)
    nc = max(len(attempts.countries), 1)
    # (class, kind, country) as one dense int; the ranks of those present, without sorting 10M keys
    key = (class_of[attempts.payer.astype(np.int64) + 1] * 16 + attempts.kind) * nc + attempts.country
    size = len(payer_of_class) * 16 * nc
    if size <= DENSE_KEYS:
        present = np.zeros(size, bool)
        present[key] = True
        ukeys = np.flatnonzero(present)
        inv = (np.cumsum(present, dtype=np.int32) - 1)[key]
    else:                            # thousands of kinds of payer: sorted instead
        ukeys, inv = np.unique(key, return_inverse=True)
        inv = inv.reshape(-1).astype(np.int32)
    routes = [scratch.route(payer_of_class[k // (16 * nc)], k // nc % 16, attempts.countries[k % nc])
              for k in ukeys.tolist()]
    return pools, routes, inv


def payer_class_table(payers) -> tuple[np.ndarray, list[int]]:
    """`models.account.payer_classes` with the tenant (toll-free's payer, TENANT) as class 0: each
    payer's class indexed by payer + 1, and one payer of each class."""
    of, first = payer_classes(payers)
    return np.array([0] + [c + 1 for c in of], np.int64), [TENANT] + first


def build(world, policy, attempts) -> Prepass | None:
    """The policy-independent part of billing `attempts`; None when keys would not fit in int64."""
    n = len(attempts)
    t = attempts.t
    d = attempts.duration            # int32: widened where a product could overflow
    inc = world.switches.billing_increment_seconds
    if n and (int(t.max()) + int(d.max()) + inc) * (n + 1) >= INF // 2:
        return None
    pools, routes, route_of = _route_table(world, policy, attempts)
    all_pools = pools.all()
    where = {id(p): j for j, p in enumerate(all_pools)}
    planned_pools = list(range(len(all_pools)))       # every pool (R5's alerts are found here too)
    groups: list[list[int]] = []
    group_of_pool = {}
    for j in planned_pools:
        partner = all_pools[j].partner
        if partner is not None and where[id(partner)] in group_of_pool:
            g = group_of_pool[where[id(partner)]]
            groups[g].append(j)
        else:
            g = len(groups)
            groups.append([j])
        group_of_pool[j] = g

    u = len(routes)
    r_block = np.array([REASONS.index(r.block) if r.block else NONE for r in routes] or [0], np.int8)[:u]
    r_free = np.array([r.free for r in routes] or [0], bool)[:u]
    r_pool = np.array([where[id(r.pool)] if r.pool is not None else -1 for r in routes] or [0], np.int32)[:u]
    r_credits = np.array([r.credits_ok for r in routes] or [0], bool)[:u]
    r_priced = np.array([r.price is not None for r in routes] or [0], bool)[:u]
    r_group = np.array([group_of_pool.get(j, -1) for j in range(len(all_pools))] + [-1], np.int32)

    block = r_block[route_of]
    free = r_free[route_of]
    pool = r_pool[route_of]
    paying = ~free & (block == NONE) & (d > 0)
    reason = block.copy()
    nopool = paying & (pool < 0)
    reason[nopool & ~r_credits[route_of]] = NO_CRED
    reason[nopool & r_credits[route_of] & ~r_priced[route_of]] = NO_RATE
    group = np.where(paying, r_group[pool], -1).astype(np.int32)
    in_loop = paying & (reason == NONE) & (group < 0)            # credits from the start
    del block, free, paying, nopool          # a tenant-year's pre-pass peaks with everything it holds at once
    cuts_here: list[tuple[np.ndarray, np.ndarray]] = []          # (attempts, instants) of cuts decided here
    pool_paid = np.zeros(n, bool)
    mixed = np.zeros(n, bool)

    resets = world.clock.month_starts(world.horizon)
    bounds = [np.iinfo(np.int64).min // 4, *resets, INF // 4]
    cutoff = not world.switches.mid_call_cutoff
    mf = getattr(world, "measure_from", 0)
    p_mf = bisect_left(resets, mf)
    cuts = [[INF] * (len(resets) + 1) for _ in groups]
    alerts: list[tuple[int, int, int]] = []          # (instant, attempt, percentage) of R5's alerts
    used = [[0] * (len(resets) + 1) for _ in planned_pools]
    used_mf = [0] * len(planned_pools)
    for g, members in enumerate(groups):
        ix = np.flatnonzero(group == g)
        st, ni = t[ix], cdiv(d[ix].astype(np.int64), inc)
        pj = pool[ix]
        credits_ok, priced = r_credits[route_of[ix]], r_priced[route_of[ix]]
        state = np.zeros(len(ix), np.int8)         # 0 pool so far, 1 credits reached, 2 ended here
        span = int((ni.max() - 1) * inc) if len(ix) else 0
        for m in range(len(resets) + 1):
            a, b = bounds[m], bounds[m + 1]
            # the calls with an increment in [a, b): st is sorted, so a window of them
            w0 = int(np.searchsorted(st, a - span, "left")) if m else 0
            w1 = int(np.searchsorted(st, b, "left"))
            lo = np.clip(cdiv(a - st[w0:w1], inc), 0, ni[w0:w1])
            hi = np.clip(cdiv(b - st[w0:w1], inc), 0, ni[w0:w1])
            keep = np.flatnonzero((hi > lo) & (state[w0:w1] < 2))
            if not len(keep):
                continue
            sel = w0 + keep
            cnt, lo = hi[keep] - lo[keep], lo[keep]
            caps = [all_pools[j].capacity if m == 0 else all_pools[j].full for j in members]
            room = [c // inc for c in caps]
            pool_of = pj[sel]
            tot = [int(cnt[pool_of == j].sum()) for j in members]
            alerting = any(all_pools[j].alerts for j in members)      # their instants need the key order
            if not alerting and (all(x < r for x, r in zip(tot, room)) or (len(members) == 1 and tot[0] <= room[0])):
                # the pools pay every request of the month: counted per call, not per increment
                if m == p_mf and mf:              # increments k in [lo, lo + cnt) at st + k * inc < mf
                    early = np.clip(cdiv(mf - st[sel], inc) - lo, 0, cnt)
                for j, x in zip(members, tot):
                    used[j][m] = x * inc
                    if m == p_mf and mf:
                        used_mf[j] = int(early[pool_of == j].sum()) * inc
                mixed[ix[sel[state[sel] == 1]]] = True
                pool_paid[ix[sel]] = True
                continue
            # a pool may run dry (or its alerts need their increments): every request, in key order
            rep, k = expanded(cnt)
            k += lo[rep]
            local = sel[rep]
            order = (st[local] + k * inc) * n + ix[local]          # unique keys (instant, attempt number)
            order.sort()
            ti = order // n
            local = np.searchsorted(ix, order - ti * n)
            k = (ti - st[local]) // inc
            f = len(rep)
            for j, r in zip(members, room):
                pos = np.flatnonzero(pj[local] == j)
                if len(pos) >= r:
                    f = min(f, pos[r - 1] + 1 if r else 0)
            cuts[g][m] = int(order[f - 1]) if f else -1
            ok = local[:f]
            if alerting:
                alerts += _alerts([all_pools[j] for j in members], caps, pj[ok], order[:f], members, n, inc)
            for j in members:
                used[j][m] = int((pj[ok] == j).sum()) * inc
                if m == p_mf and mf:
                    used_mf[j] = int((pj[ok[ti[:f] < mf]] == j).sum()) * inc
            mixed[ix[np.unique(ok[state[ok] == 1])]] = True
            pool_paid[ix[ok]] = True
            if f < len(rep):
                fail_local, first = np.unique(local[f:], return_index=True)
                kf = k[f:][first]
                fresh = state[fail_local] == 0
                fail_local, kf = fail_local[fresh], kf[fresh]
                must_complete = (kf > 0) & cutoff
                dies = (~credits_ok[fail_local] & ~must_complete) | ~priced[fail_local]
                why = np.where(~credits_ok[fail_local] & ~must_complete, POOL_EX, NO_RATE)
                state[fail_local] = np.where(dies, 2, 1)
                dead = fail_local[dies]
                reason[ix[dead]] = why[dies]
                later = kf[dies] > 0
                cuts_here.append((ix[dead[later]], st[dead[later]] + kf[dies][later] * inc))
                in_loop[ix[fail_local[~dies]]] = True
    del pool
    return _settle(world, attempts, routes, route_of, groups, cuts, mixed, resets, planned_pools, used, used_mf,
                   reason, in_loop, cuts_here, pool_paid, d, group, sorted(alerts))


def _alerts(pools: list, caps: list[int], paid_pool: np.ndarray, keys: np.ndarray, members: list[int], n: int,
            inc: int) -> list[tuple[int, int, int]]:
    """R5's alerts of one month's pools, as `Pool.draw` raises them: a percentage p fires at the
    pool's k-th paid increment (keys: the month's paid increments in key order, paid_pool: whose),
    the first k at which k increments reach p % of this month's capacity or leave less than one
    increment (the pool is used up): k = min(capacity // inc, ceil(p * capacity / (100 * inc)))."""
    out = []
    for pool, cap, j in zip(pools, caps, members):
        mine = keys[paid_pool == j]
        for p in pool.alerts:
            k = min(cap // inc, cdiv(p * cap, 100 * inc))
            if 0 < k <= len(mine):
                key = int(mine[k - 1])
                out.append((key // n, key % n, p))
    return out


def _settle(world, attempts, routes, route_of, groups, cuts, mixed, resets, planned_pools, used, used_mf,
            reason, in_loop, cuts_here, pool_paid, d, group, alerts) -> Prepass:
    """Outcomes, counters and disruptions of every attempt decided here."""
    n = len(attempts)
    t = attempts.t
    done = ~in_loop
    cut_idx = np.concatenate([c[0] for c in cuts_here] + [np.zeros(0, np.int64)])
    cut_t = np.concatenate([c[1] for c in cuts_here] + [np.zeros(0, np.int64)])
    cut = np.zeros(n, bool)
    cut[cut_idx] = True
    blocked = done & (reason != NONE) & ~cut
    connected = np.where(done & ~blocked, d, -1).astype(np.int32)
    connected[cut_idx] = cut_t - t[cut_idx]
    paid = (pool_paid & done).astype(np.int8)
    disrupted = np.flatnonzero(blocked | cut)
    dt = t[disrupted]
    is_cut = cut[disrupted]
    dt[is_cut] = cut_t[np.argsort(cut_idx)]          # disrupted is ascending, so are the sorted cut attempts
    lost = np.where(is_cut, t[disrupted] + d[disrupted] - dt, d[disrupted])
    order = np.lexsort((disrupted, dt))
    disrupted, dt, lost, is_cut = disrupted[order], dt[order], lost[order], is_cut[order]
    why = reason[disrupted]
    funding = np.isin(why, [REASONS.index(r) for r in FUNDING_REASONS])
    payer = attempts.payer[disrupted]
    kind = attempts.kind[disrupted]
    at_start = {"attempts": done, "connected": done & ~blocked, "blocked": blocked}   # counted at arrival (t sorted)
    steps = {"cut": np.sort(cut_t), "blocked_funding": dt[funding & ~is_cut], "cut_funding": dt[funding & is_cut]}
    lost_cum = np.concatenate([[0], np.cumsum(lost)])
    alert_t = np.array([a[0] for a in alerts], np.int64)
    instants = sorted({0, getattr(world, "measure_from", 0), *resets})

    def counters(x):
        before = len(t) if x is None else int(np.searchsorted(t, x, "left"))
        out = {k: int(np.count_nonzero(v[:before])) for k, v in at_start.items()}
        out.update({k: int(np.searchsorted(v, x, "left")) if x is not None else len(v) for k, v in steps.items()})
        out["seconds_lost"] = int(lost_cum[np.searchsorted(dt, x, "left") if x is not None else len(dt)])
        out["notifications"] = int(np.searchsorted(alert_t, x, "left")) if x is not None else len(alert_t)
        return out

    after = dt >= getattr(world, "measure_from", 0)
    whole_credit = in_loop & ~pool_paid          # every pool is planned: a loop call's pool paid none of it
    pre = Prepass(world, n, route_of, routes, narrow(np.flatnonzero(in_loop)), group, cuts, mixed, whole_credit, resets,
                  planned_pools,
                  used, used_mf, connected, paid,
                  list(zip(dt.tolist(), disrupted.tolist(), payer.tolist(), kind.tolist(),
                           [REASONS[w] for w in why.tolist()], lost.tolist())),
                  {x: counters(x) for x in instants}, counters(None))
    pre.affected = set(payer[after & (payer >= 0)].tolist())
    pre.affected_funding = set(payer[after & (payer >= 0) & funding].tolist())
    pre.alerts = [(a, i, pool_alert(p), world.clock.month_key(a)) for a, i, p in alerts]
    return pre
