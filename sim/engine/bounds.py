"""What a run will cost, estimated from the scenario (or the replayed report) before anything is
simulated, and the limits past which `validate` and `run` refuse it (exit 2, naming the key).

Without them a typo like `user_outbound_calls_per_day: 1e9` ends in a MemoryError after minutes,
and a 60-second call billed in 1-second increments for ten hours fills the disk with ledger rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import InputError

MAX_ATTEMPTS = 20_000_000        # call attempts per replication (the attempt table and the CDR)
MAX_EVENTS = 200_000_000         # funded increments + calls per replication and policy
MAX_MEMORY = 8 * 2**30           # bytes a worker would hold for one replication
BYTES_PER_ATTEMPT = 150
BYTES_PER_INCREMENT = 45

# The key that sets each kind's volume (scenario-format.md names).
DRIVERS = {"user_out": "traffic.user_outbound_calls_per_day", "user_in": "traffic.user_inbound_calls_per_day",
           "emergency": "traffic.emergency_calls_per_user_per_year",
           "toll_free_in": "traffic.toll_free_calls_per_day", "conf_out": "traffic.dial_outs_per_meeting",
           "conf_in_toll_free": "traffic.toll_free_dial_ins_per_meeting",
           "conf_in_toll": "traffic.toll_dial_ins_per_meeting", "meetings": "traffic.meetings_per_organiser_per_day"}


@dataclass
class Cost:
    attempts: float              # call attempts per replication
    events: float                # calls + funded increments per replication and policy
    memory: float                # bytes per replication
    driver: str                  # the key behind most of it
    detail: str                  # how much of it that key makes
    advice: str = "lower it, the number of users or `days`"

    def describe(self) -> str:
        return (f"about {self.attempts:,.0f} call attempts and {self.events:,.0f} billing events per "
                f"replication and policy, {self.memory / 2**20:,.0f} MB of memory per worker")


def _cost(attempts: float, increments: float, driver: str, detail: str, **advice) -> Cost:
    return Cost(attempts, attempts + increments, attempts * BYTES_PER_ATTEMPT + increments * BYTES_PER_INCREMENT,
                driver, detail, **advice)


def synthetic_cost(world, volumes: dict[str, float]) -> Cost:
    calls = {k: v for k, v in volumes.items() if k != "meetings"}
    kind = max(calls, key=calls.get)
    attempts = sum(calls.values())
    increments_per_call = world.scenario.traffic.call_minutes.mean * 60 / world.switches.billing_increment_seconds + 1
    detail = f"{DRIVERS.get(kind, kind)} makes {calls[kind]:,.0f} {kind} attempts over {world.scenario.days} days"
    return _cost(attempts, attempts * increments_per_call, DRIVERS.get(kind, kind), detail)


def replay_cost(world, attempts) -> Cost:
    inc = world.switches.billing_increment_seconds
    increments = float(np.sum((attempts.duration.astype(np.int64) + inc - 1) // inc)) if len(attempts) else 0.0
    return _cost(float(len(attempts)), increments, "traffic.replay",
                 f"the report holds {len(attempts):,} calls of {increments * inc / 3600:,.0f} hours",
                 advice="replay a shorter period, or raise switches.billing_increment_seconds")


def check_cost(cost: Cost, where: str) -> None:
    for value, limit, what in ((cost.attempts, MAX_ATTEMPTS, "call attempts per replication"),
                               (cost.events, MAX_EVENTS, "billing events per replication and policy"),
                               (cost.memory, MAX_MEMORY, "bytes of memory per worker")):
        if value > limit:
            raise InputError(f"{where}: {cost.driver}",
                             f"the run would need about {value:,.0f} {what}, past the limit of {limit:,} "
                             f"({cost.detail}); {cost.advice}")
