"""The command line: `run` and `validate` (scenario-format.md)."""
from __future__ import annotations

import argparse
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from models.calls import FREE, KIND_NAME, CallKind

from .errors import InputError

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_sim.py",
        description="Simulate a Microsoft Teams PSTN tenant and its Communications Credits billing under "
                    "one or more funding policies, and compare them.",
        epilog="Exit status: 0 success, 2 bad input (scenario, rate card or usage report), 1 any other failure.")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors (no table, no progress)")
    p.add_argument("-v", "--verbose", action="store_true", help="print more detail, and tracebacks of failures")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate every policy and write the results folder",
                         description="Simulate every policy of SCENARIO on the same traffic (common random "
                                     "numbers), R replications each, print the policy comparison table and "
                                     "write results/<name>/ (summary.json, comparison.md, per-policy CSVs).")
    run.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="the scenario file")
    run.add_argument("--seed", type=int, default=None, metavar="N",
                     help="base seed (default: the scenario's `seed`); replication seeds derive from it")
    run.add_argument("--replications", "-r", type=int, default=1, metavar="R",
                     help="independent replications per policy (default 1); 2+ gives 95%% confidence intervals")
    run.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="results folder (default results/<name>/); replaced whole, only on success")
    run.add_argument("--workers", "-w", type=int, default=None, metavar="W",
                     help="worker processes for replications (default: the machine's cores); "
                          "results are identical for any W")
    run.add_argument("--quiet", "-q", action="store_true", dest="sub_quiet", help="same as the global --quiet")
    run.add_argument("--verbose", "-v", action="store_true", dest="sub_verbose", help="same as the global --verbose")

    val = sub.add_parser("validate", help="check a scenario and print what it would simulate",
                         description="Check SCENARIO (and its rate card and replayed report) and print the "
                                     "users per licence mix, pool sizes, expected call volume and policies.")
    val.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="the scenario file")
    val.add_argument("--seed", type=int, default=None, metavar="N", help="seed for generated users")
    val.add_argument("--verbose", "-v", action="store_true", dest="sub_verbose", help="print tracebacks")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.quiet = args.quiet or getattr(args, "sub_quiet", False)
    args.verbose = args.verbose or getattr(args, "sub_verbose", False)
    try:
        if args.command == "validate":
            return cmd_validate(args)
        return cmd_run(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:  # a bug or an environment failure: say so plainly
        if args.verbose:
            raise
        print(f"error: {e.__class__.__name__}: {e} (run with --verbose for details)", file=sys.stderr)
        return EXIT_FAILURE


def load(path: Path, seed: int | None):
    """Scenario -> (scenario, world, replayed attempts or None); every input checked."""
    from .replay import read_report
    from .scenario import load_scenario
    from .world import build_world

    scenario = load_scenario(path)
    world = build_world(scenario, path, seed)
    replay = None
    if scenario.is_replay:
        replay = read_report(path.parent / scenario.traffic.replay, world)
        check_replay_rates(world, replay, path.parent / scenario.traffic.replay)
    else:
        from .traffic import check_rates
        check_rates(world, path)
    return scenario, world, replay


def check_replay_rates(world, attempts, report: Path) -> None:
    """Every replayed call that credits may pay needs a rate (R6)."""
    from models.rates import OUTBOUND, TOLL_FREE_INBOUND
    seen = set()
    for i in range(len(attempts)):
        kind = CallKind(int(attempts.kind[i]))
        country = attempts.countries[int(attempts.country[i])]
        if kind in FREE or (kind, country) in seen:
            continue
        seen.add((kind, country))
        table = TOLL_FREE_INBOUND if kind in (CallKind.UCAP_IN, CallKind.CONF_IN_TOLL_FREE) else OUTBOUND
        if world.rates.lookup(table, country) is None:
            line = attempts.lines[i] if attempts.lines else "?"
            raise InputError(f"{report}:{line}", f"no {table} rate for {country} on the rate card "
                                                  f"(add a row for {country}, or a `*` row)")


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("pstn-credits-sim", "simpy", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def cmd_run(args) -> int:
    from .results import aggregate, atomic_folder, comparison_table, write_summary
    from .runner import Job, default_workers, run_all

    if args.replications < 1:
        raise InputError("--replications", f"expected a whole number >= 1, got {args.replications}")
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"expected a whole number >= 1, got {args.workers}")
    scenario, world, replay = load(args.scenario, args.seed)
    seed = args.seed if args.seed is not None else scenario.seed
    out = args.out or Path("results") / scenario.name
    workers = args.workers or default_workers()
    names = [p.name for p in world.policies]
    started = time.perf_counter()
    with atomic_folder(out) as tmp:
        job = Job(world, seed, replay, tmp)
        per_rep = run_all(job, args.replications, workers, progress=not args.quiet and sys.stderr.isatty())
        summary = aggregate(per_rep, names)
        table = comparison_table(summary, args.replications)
        doc = {
            "scenario": scenario.model_dump(mode="json"),
            "seed": seed,
            "replications": args.replications,
            "replication_seeds": {"entropy": seed, "spawn_key": "(replication, stream, ...)"},
            "versions": versions(),
            "replay": _replay_info(scenario, replay),
            "policies": summary,
        }
        write_summary(tmp, doc)
        (tmp / "comparison.md").write_text(
            f"# {scenario.name}: policy comparison\n\n{_table_note(args.replications)}\n\n{table}\n",
            encoding="utf-8")
        _plots(tmp, world, per_rep, summary, args)
    if not args.quiet:
        print(table)
        print(f"\n{_table_note(args.replications)}")
        print(f"results written to {out}/ ({time.perf_counter() - started:.1f} s)")
    return EXIT_OK


def _plots(folder, world, per_rep, summary, args) -> None:
    try:
        from .plots import write_plots
    except ImportError:      # plotting is optional for the billing results
        return
    write_plots(folder, world, summary)


def _table_note(replications: int) -> str:
    if replications < 2:
        return "One replication: no confidence intervals (use --replications 10 for mean ± 95 % CI half-width)."
    return f"Mean ± 95 % confidence half-width (Student t) over {replications} replications; money in the scenario currency."


def _replay_info(scenario, replay) -> dict | None:
    if replay is None:
        return None
    return {"report": scenario.traffic.replay, "rows_billed": len(replay),
            "duplicate_usage_ids": [{"line": line, "usage_id": u} for line, u in replay.duplicates]}


def cmd_validate(args) -> int:
    from .world import user_mix

    scenario, world, replay = load(args.scenario, args.seed)
    from models.pools import PoolSet
    pools = PoolSet(((p.country, p.licences) for p in world.payers), world.switches.dni_cap,
                    world.switches.allowances)
    print(f"scenario {scenario.name}: {scenario.start:%Y-%m-%d %H:%M}Z + {scenario.days} days, "
          f"currency {scenario.currency}, seed {scenario.seed}")
    print(f"users: {len(world.users)}")
    for mix, n in sorted(user_mix(world).items()):
        print(f"  {n:6d}  {mix}")
    print("monthly pools (minutes):")
    for p in pools.all():
        if p.capacity:
            print(f"  {p.country:7s} {p.capability:10s} {p.scope:13s} {p.capacity // 60}")
    if replay is not None:
        counts: dict[str, int] = {}
        for k in replay.kind.tolist():
            counts[KIND_NAME[CallKind(k)]] = counts.get(KIND_NAME[CallKind(k)], 0) + 1
        print(f"replay: {len(replay)} call attempts from {scenario.traffic.replay}"
              + (f" ({len(replay.duplicates)} duplicate UsageId rows not billed)" if replay.duplicates else ""))
        for k, n in sorted(counts.items()):
            print(f"  {n:8d}  {k}")
    else:
        from .traffic import expected_volume
        print("expected call attempts per replication:")
        for k, n in expected_volume(world).items():
            print(f"  {n:10.0f}  {k}")
    print("switches: " + ", ".join(f"{k}={v}" for k, v in scenario.switches.model_dump(mode="json").items()))
    print("policies:")
    for p in scenario.policies:
        bits = [p.billing, f"initial {p.model_dump(mode='json')['initial_funds']}"]
        if p.auto_recharge:
            ar = p.model_dump(mode="json")["auto_recharge"]
            bits.append(f"auto-recharge {ar['amount']} below {ar['trigger']} ({p.payment.method})")
        if p.top_ups:
            bits.append(f"{len(p.top_ups)} top-up rule(s)")
        print(f"  {p.name}: " + ", ".join(bits))
    print("ok")
    return EXIT_OK
