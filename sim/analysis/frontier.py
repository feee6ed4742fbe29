"""A sweep's candidates on three costs, each to be minimised: disruption (calls blocked or cut
for want of funds: the funding policy's doing, R11), money tied up on the balance, and money
forfeited at expiry. The Pareto front holds the candidates no other candidate beats on all three."""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from .metrics import METRICS

DISRUPTIONS = "disruptions"          # calls_blocked_funding + calls_cut_funding, per replication
# Money tied up: the time-weighted balance when the run measures it, else the final balance.
TIED_UP = "average_balance" if "average_balance" in METRICS else "final_balance"
FORFEITED = "credits_expired"
COSTS = (DISRUPTIONS, TIED_UP, FORFEITED)


def with_disruptions(per_rep: list[dict]) -> list[dict]:
    """Each replication's {candidate: metrics} with the derived `disruptions` count added."""
    return [{name: m | {DISRUPTIONS: m["calls_blocked_funding"] + m["calls_cut_funding"]}
             for name, m in rep.items()} for rep in per_rep]


def pareto_front(costs: dict[str, tuple[Decimal, ...]]) -> list[str]:
    """The names whose cost vectors no other one dominates (<= on every cost, < on one),
    ordered by their first cost, then the next; equal vectors all stay."""
    names = sorted(costs, key=lambda n: (costs[n], n))
    c = np.array([[float(x) for x in costs[n]] for n in names]).reshape(len(names), -1)
    front = []
    for i, n in enumerate(names):
        le, lt = (c <= c[i]).all(axis=1), (c < c[i]).any(axis=1)
        if not (le & lt).any():
            front.append(n)
    return front
