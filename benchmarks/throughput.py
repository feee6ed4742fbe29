#!/usr/bin/env python3
"""Throughput of the full billing pipeline against a bare SimPy skeleton of the same calls.

    .venv/bin/python benchmarks/throughput.py                      # 10,000 users, ~2M attempts
    .venv/bin/python benchmarks/throughput.py --users 1000 --days 30
    .venv/bin/python benchmarks/throughput.py --cdr                # also keep records, write CSVs
    .venv/bin/python benchmarks/throughput.py --json               # one JSON line

The workload is a fixed synthetic tenant (see `scenario_dict`): Domestic plans (US, CA),
Domestic+International plans (GB), pay-as-you-go (US), E5 organisers with a plan, toll-free
call queues and a conference bridge, one prepaid policy with auto-recharge. The user mix
scales with --users; --days sets the horizon (default: enough for about 2 million attempts
at 10,000 users).

Figures:
- generate: sim.engine.traffic.generate (numpy draws of every attempt), seconds;
- simulate: sim.engine.loop.simulate of the one policy, seconds;
- calls_per_second: attempts / (generate + simulate), the full pipeline;
- skeleton: the same attempts (same arrival instants and durations) on a bare SimPy
  Environment, one event per arrival and a callback at each call's end, no billing;
- ratio: calls_per_second / skeleton_calls_per_second;
- peak_rss_mb: the process's peak resident memory (ru_maxrss), MiB, including the world,
  the attempts, both runs and (with --cdr) the records and CSV writing.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import simpy  # noqa: E402
from simpy.events import Event  # noqa: E402

# Share of users in each group; every group has at least one user.
GROUPS = [
    (0.40, "US", ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]),
    (0.05, "CA", ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"]),
    (0.15, "GB", ["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]),
    (0.15, "US", ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]),
    (0.15, "US", ["E5", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]),
    (0.10, "DE", ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_120", "COMMUNICATIONS_CREDITS"]),
]
TOLL_FREE = [("+18885550100", "call_queue"), ("+18885550101", "auto_attendant"),
             ("+18885550102", "conference_bridge")]
DEFAULT_USERS = 10_000
DEFAULT_DAYS = 70            # ~2.0M attempts at 10,000 users


def scenario_dict(users: int, days: int, seed: int = 42) -> dict:
    counts = [max(1, round(users * share)) for share, _, _ in GROUPS]
    counts[0] += users - sum(counts) if users >= len(GROUPS) else 0
    # Toll-free load scales with the tenant: about 0.3 calls per user per day per queue.
    tf_per_day = max(10.0, users * 0.3)
    return {
        "name": f"throughput-{users}u-{days}d",
        "start": "2026-01-01T00:00:00Z",
        "days": days,
        "currency": "USD",
        "seed": seed,
        "tenant": {
            "domain": "contoso.com",
            "generate": [{"count": n, "country": c, "licences": lic}
                         for n, (_, c, lic) in zip(counts, GROUPS) if n > 0],
            "toll_free_numbers": [{"number": num, "serves": serves} for num, serves in TOLL_FREE],
        },
        "rates": "../rates/illustrative-usd.csv",
        "traffic": {
            "business_hours": {"start": "08:00", "end": "18:00", "weekdays_only": True},
            "user_outbound_calls_per_day": 2.5,
            "user_inbound_calls_per_day": 0.5,
            "international_share": 0.08,
            "international_destinations": {"GB": 0.3, "DE": 0.2, "IN": 0.2, "US": 0.2, "MX": 0.1},
            "call_minutes": {"distribution": "lognormal", "mean": 4.0, "sigma": 1.0},
            "toll_free_calls_per_day": tf_per_day,
            "toll_free_origins": {"US": 0.85, "CA": 0.1, "GB": 0.05},
            "meetings_per_organiser_per_day": 0.5,
            "dial_outs_per_meeting": 0.4,
            "toll_free_dial_ins_per_meeting": 0.6,
            "toll_dial_ins_per_meeting": 0.8,
        },
        "policies": [{
            "name": "auto-recharge",
            "initial_funds": "5000.00",
            "auto_recharge": {"trigger": "1000.00", "amount": "5000.00"},
            "payment": {"method": "card", "card_expires": "2030-12-31", "decline_rate": 0.05,
                        "delay_minutes": 10},
        }],
    }


def build(users: int, days: int, seed: int = 42):
    """(world, build seconds): the sequence of sim.commands.load.load, on a scenario built in code."""
    from sim.inputs.scenario import Scenario
    from sim.engine.traffic import check_rates
    from sim.engine.world import build_world

    path = ROOT / "benchmarks" / "throughput-scenario.yaml"      # virtual: only its folder is used
    t0 = time.perf_counter()
    scenario = Scenario.model_validate(scenario_dict(users, days, seed))
    world = build_world(scenario, path, seed)
    check_rates(world, path)
    return world, time.perf_counter() - t0


class _Tick(Event):
    """A pre-triggered event with one callback (as cheap as SimPy events get)."""

    def __init__(self, env, callback, payload):
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = None
        self.payload = payload


def skeleton(attempts) -> tuple[float, int]:
    """The same call stream on bare SimPy: arrival chain + a callback at each call end.

    Returns (seconds, calls ended) — the conversion of the columns is timed too, as in
    the engine."""
    t0 = time.perf_counter()
    env = simpy.Environment()
    schedule = env.schedule
    T = attempts.t.tolist()
    D = attempts.duration.tolist()
    n = len(T)
    ended = [0]

    def on_end(ev) -> None:
        ended[0] += 1

    def on_arrival(ev) -> None:
        i = ev.payload
        t = T[i]
        schedule(_Tick(env, on_end, i), i, D[i])
        j = i + 1
        if j < n:
            schedule(_Tick(env, on_arrival, j), j, T[j] - t)

    if n:
        schedule(_Tick(env, on_arrival, 0), 0, T[0])
    env.run()
    return time.perf_counter() - t0, ended[0]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # Linux: KiB


def measure(users: int, days: int, seed: int = 42, cdr: bool = False, skeleton_run: bool = True,
            profile: str | None = None, fmt: str = "csv", journal: str = "calls", records: bool = False) -> dict:
    from sim.engine.loop import simulate
    from sim.parallel.runner import TRAFFIC, payment_seed, replication_seed
    from sim.engine.traffic import generate

    world, build_s = build(users, days, seed)
    policy = world.policies[0]
    gc.collect()

    t0 = time.perf_counter()
    attempts = generate(world, replication_seed(seed, 0, TRAFFIC))
    gen_s = time.perf_counter() - t0
    n = len(attempts)

    profiler = None
    if profile:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.001)
        profiler.start()
    t0 = time.perf_counter()
    run = simulate(world, policy, attempts, payment_seed(seed, 0), keep_records=cdr, journal=journal)
    sim_s = time.perf_counter() - t0
    loop_s = records_s = None
    if records:
        # the policy's own part, the replication's pre-pass already built (as for a second policy):
        # without records, then keeping every record (replication 0, files not written)
        t0 = time.perf_counter()
        simulate(world, policy, attempts, payment_seed(seed, 0), keep_records=False)
        loop_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        simulate(world, policy, attempts, payment_seed(seed, 0), keep_records=True, journal=journal)
        records_s = time.perf_counter() - t0
    write_s = rows_written = tables_s = None
    if cdr:
        from sim.outputs.policy_files import FileOptions, write_policy_files
        import sim.outputs.plots as plots
        with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
            folder = Path(tmp) / policy.name
            t0 = time.perf_counter()
            write_policy_files(folder, world, attempts, run, rep_seed=seed, options=FileOptions(fmt, journal))
            write_s = time.perf_counter() - t0
            rows_written = sum(sum(1 for _ in (folder / f"{name}.csv").open("rb")) - 1
                               for name in ("cdr", "ledger", "disruptions") if (folder / f"{name}.csv").exists())
            # the per-call tables alone (balance.png left out), for rows/s
            draw, plots.balance_plot = plots.balance_plot, lambda *a, **k: None
            try:
                t0 = time.perf_counter()
                write_policy_files(folder, world, attempts, run, rep_seed=seed, options=FileOptions(fmt, journal))
                tables_s = time.perf_counter() - t0
            finally:
                plots.balance_plot = draw
    if profiler:
        profiler.stop()
        Path(profile).write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    a = run.account
    del run
    gc.collect()

    skel_s = None
    if skeleton_run:
        skel_s, ended = skeleton(attempts)
        assert ended == n, (ended, n)

    total = gen_s + sim_s
    out = {
        "users": len(world.users),
        "days": days,
        "calls": n,
        "connected": a.connected,
        "blocked": a.blocked,
        "cut": a.cut,
        "build_seconds": round(build_s, 3),
        "generate_seconds": round(gen_s, 3),
        "simulate_seconds": round(sim_s, 3),
        "seconds": round(total, 3),
        "calls_per_second": round(n / total) if total else None,
        "simulate_calls_per_second": round(n / sim_s) if sim_s else None,
        "skeleton_seconds": round(skel_s, 3) if skel_s is not None else None,
        "skeleton_calls_per_second": round(n / skel_s) if skel_s else None,
        "ratio": round((n / total) / (n / skel_s), 3) if skel_s and total else None,
        "policy_seconds": round(loop_s, 3) if loop_s is not None else None,
        "policy_records_seconds": round(records_s, 3) if records_s is not None else None,
        "cdr": cdr,
        "write_seconds": round(write_s, 3) if write_s is not None else None,
        "format": fmt if cdr else None,
        "journal": journal if cdr else None,
        "rows_written": rows_written,
        "tables_seconds": round(tables_s, 3) if tables_s is not None else None,
        "rows_per_second_written": round(rows_written / tables_s) if tables_s else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    return out


def _table(r: dict) -> str:
    rows = [
        ("users / days", f"{r['users']:,} / {r['days']}"),
        ("call attempts", f"{r['calls']:,} (connected {r['connected']:,}, blocked {r['blocked']:,}, cut {r['cut']:,})"),
        ("build world", f"{r['build_seconds']:.2f} s (not counted)"),
        ("generate", f"{r['generate_seconds']:.2f} s"),
        ("simulate", f"{r['simulate_seconds']:.2f} s ({r['simulate_calls_per_second']:,} calls/s)"),
        ("full pipeline", f"{r['seconds']:.2f} s = {r['calls_per_second']:,} calls/s"),
    ]
    if r["skeleton_seconds"] is not None:
        rows += [("bare SimPy skeleton", f"{r['skeleton_seconds']:.2f} s = {r['skeleton_calls_per_second']:,} calls/s"),
                 ("ratio full / skeleton", f"{r['ratio']:.3f}")]
    if r.get("policy_seconds") is not None:
        rows.append(("one more policy (pre-pass shared)", f"{r['policy_seconds']:.2f} s without records, "
                     f"{r['policy_records_seconds']:.2f} s keeping every record"))
    if r["cdr"]:
        rows.append(("write files (cdr, ledger, ..., png)", f"{r['write_seconds']:.2f} s"))
        rows.append((f"per-call tables ({r['format']}, journal {r['journal']})",
                     f"{r['rows_written'] or 0:,} CSV rows in {r['tables_seconds']:.2f} s = "
                     f"{r['rows_per_second_written'] or 0:,} rows/s"))
    rows.append(("peak RSS", f"{r['peak_rss_mb']:.0f} MiB"))
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Full billing pipeline vs bare SimPy skeleton, same call stream.")
    ap.add_argument("--users", type=int, default=DEFAULT_USERS, help=f"tenant users (default {DEFAULT_USERS:,})")
    ap.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"simulated days (default {DEFAULT_DAYS})")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cdr", action="store_true",
                    help="keep records and write the policy's files (cdr, ledger, ...) to a temp dir; also times "
                         "the per-call tables alone (rows/s)")
    ap.add_argument("--format", choices=("csv", "parquet", "both"), default="csv", help="with --cdr: table format")
    ap.add_argument("--journal", choices=("calls", "increments"), default="calls", help="with --cdr or --records: the journal kept")
    ap.add_argument("--no-skeleton", action="store_true", help="skip the bare SimPy run")
    ap.add_argument("--profile", metavar="FILE", help="pyinstrument profile of simulate (+ CSV writing) to FILE")
    ap.add_argument("--records", action="store_true",
                    help="also time one more policy on the same attempts (pre-pass shared), without and with "
                         "records (replication 0's path, no files)")
    ap.add_argument("--repeat", type=int, default=1, metavar="N", help="N runs; prints each and the median ratio")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = ap.parse_args(argv)
    ratios = []
    for _ in range(args.repeat):
        r = measure(args.users, args.days, args.seed, cdr=args.cdr, skeleton_run=not args.no_skeleton,
                    profile=args.profile, fmt=args.format, journal=args.journal, records=args.records)
        print(json.dumps(r) if args.json else _table(r), flush=True)
        ratios.append(r["ratio"])
    if args.repeat > 1 and None not in ratios:
        print(f"ratio over {len(ratios)} runs: {', '.join(f'{x:.3f}' for x in ratios)}; "
              f"median {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
