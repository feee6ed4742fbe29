"""Does the fitted model reproduce the report? Simulate it over the report's own period, R
replications under postpay (nothing blocked for funds), and set calls, minutes and credits
per month and call kind beside the report's, with 95 % intervals over replications."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from models.calls import KIND_NAME, CallKind


@dataclass
class Row:
    month: str
    kind: str
    observed: tuple[float, float, float]      # calls, minutes, credits (currency units)
    simulated: list[tuple[float, float, float]]   # per replication

    def mean_hw(self, i: int) -> tuple[float, float]:
        x = np.array([s[i] for s in self.simulated], float)
        if len(x) < 2:
            return float(x.mean()), float("nan")
        return float(x.mean()), float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))


def _months(start, t: np.ndarray) -> np.ndarray:
    days = np.datetime64(start.replace(tzinfo=None), "s") + t.astype("timedelta64[s]")
    return np.datetime_as_string(days.astype("datetime64[M]"))


def observed(calls) -> dict[tuple[str, str], tuple[float, float, float]]:
    month = _months(calls.start, calls.t)
    out = {}
    for m in sorted(set(month.tolist())):
        for kind in sorted(set(calls.kind.tolist())):
            sel = (month == m) & (calls.kind == kind)
            out[(m, kind)] = (float(sel.sum()), float(calls.minutes[sel].sum()), float(calls.money[sel].sum()) / 10000)
    return out


def simulate_fit(doc: dict, scenario_path, calls, replications: int, seed: int = 42) -> list[Row]:
    from sim.engine.loop import simulate
    from sim.engine.traffic import generate
    from sim.engine.world import build_world
    from sim.inputs.scenario import Scenario

    check = dict(doc, start=calls.start.strftime("%Y-%m-%dT%H:%M:%SZ"), days=calls.days,
                 policies=[{"name": "postpay", "billing": "postpay"}])
    world = build_world(Scenario.model_validate(check), scenario_path, seed)
    obs = observed(calls)
    rows = {key: Row(key[0], key[1], value, []) for key, value in obs.items()}
    for r in range(replications):
        # the runner's streams: traffic from spawn key (r, 0), payments from (r, 1)
        a = generate(world, np.random.SeedSequence(entropy=seed, spawn_key=(r, 0)))
        run = simulate(world, world.policies[0], a, np.random.SeedSequence(entropy=seed, spawn_key=(r, 1)))
        o = run.outcomes
        connected = np.asarray(o.connected)
        money = np.asarray(o.charge, np.int64) + np.asarray(o.fee, np.int64)
        month = _months(calls.start, a.t)
        kind = np.array([KIND_NAME[CallKind(k)] for k in range(8)])[a.kind]
        ok = connected >= 0
        for key in set(rows) | {(m, k) for m, k in zip(month[ok].tolist(), kind[ok].tolist())}:
            sel = ok & (month == key[0]) & (kind == key[1])
            row = rows.setdefault(key, Row(key[0], key[1], (0.0, 0.0, 0.0), [(0.0, 0.0, 0.0)] * r))
            row.simulated.append((float(sel.sum()), float(connected[sel].sum()) / 60, float(money[sel].sum()) / 10000))
    return [rows[k] for k in sorted(rows)]
