"""The command line: `run` and `validate` (scenario-format.md)."""
from __future__ import annotations

import argparse
import os
import contextlib
import io
import platform
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

from models.calls import FREE, KIND_NAME, CallKind

from sim.errors import InputError

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


EPILOG = """\
examples:
  python run_sim.py validate scenarios/us-office-domestic.yaml
  python run_sim.py run scenarios/us-office-domestic.yaml
  python run_sim.py run scenarios/us-office-domestic.yaml -r 10 --out /tmp/us-office

exit status: 0 success; 2 bad input (scenario, rate card, usage report or option),
with one message naming the file and key or line; 1 any other failure.
The scenario keys, result files and metrics are described in README.md."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_sim.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate a Microsoft Teams PSTN tenant and its Communications Credits billing\n"
                    "under one or more funding policies, and compare them.",
        epilog=EPILOG)
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only errors: no table, no progress bar, no summary line")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print each step and its time on stderr, and the traceback of an unexpected failure")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="simulate every policy and write the results folder",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate every policy of SCENARIO on the same call attempts (common random\n"
                    "numbers), R replications each, print the policy comparison table and write\n"
                    "the results folder:\n"
                    "  summary.json, comparison.md, comparison.png, report.xlsx, and per policy\n"
                    "  cdr.csv, ledger.csv, notifications.csv, disruptions.csv, pools.csv, balance.png\n"
                    "(the per-policy files are of replication 0). The folder is written aside and\n"
                    "moved into place only when everything succeeded: a failed run leaves an\n"
                    "existing results folder as it was.",
        epilog="exit status: 0 success, 2 bad input, 1 any other failure.")
    run.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="the scenario file (see README.md)")
    run.add_argument("--seed", type=int, default=None, metavar="N",
                     help="base seed (default: the scenario's `seed`, else 42); replication r uses a stream "
                          "derived from (N, r), so the same N gives the same results")
    run.add_argument("--replications", "-r", type=int, default=1, metavar="R",
                     help="independent replications per policy (default 1); with 2 or more the table shows "
                          "mean ± 95%% confidence half-width")
    run.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="results folder (default results/<scenario name>/). An existing results folder there "
                          "is replaced whole, only on success; a non-empty folder that is not a results "
                          "folder is refused")
    run.add_argument("--workers", "-w", type=int, default=None, metavar="W",
                     help="worker processes for the replications (default: the machine's cores); "
                          "results are identical for any W")
    run.add_argument("--no-xlsx", action="store_true",
                     help="skip report.xlsx (the CSVs hold the same data); writing the workbook takes "
                          "about 5 s per million cells")
    run.add_argument("--quiet", "-q", action="store_true", dest="sub_quiet", help="same as the global --quiet")
    run.add_argument("--verbose", "-v", action="store_true", dest="sub_verbose", help="same as the global --verbose")

    val = sub.add_parser(
        "validate", help="check a scenario and print what it would simulate",
        description="Check SCENARIO, its rate card and any replayed usage report, and print the users per "
                    "licence mix, the monthly minute pools, the expected call attempts per kind (or the "
                    "replayed ones), the switches and the policies. Nothing is simulated or written.",
        epilog="exit status: 0 valid, 2 bad input, 1 any other failure.")
    val.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="the scenario file (see README.md)")
    val.add_argument("--seed", type=int, default=None, metavar="N",
                     help="seed for the generated users' names and numbers (default: the scenario's `seed`)")
    val.add_argument("--quiet", "-q", action="store_true", dest="sub_quiet",
                     help="print nothing but errors: the exit status says whether the scenario is valid")
    val.add_argument("--verbose", "-v", action="store_true", dest="sub_verbose",
                     help="print the traceback of an unexpected failure")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet = args.quiet or getattr(args, "sub_quiet", False)
    args.verbose = args.verbose or getattr(args, "sub_verbose", False)
    if args.quiet and args.verbose:
        parser.error("--quiet and --verbose exclude each other")
    try:
        if args.command == "validate":
            if args.quiet:
                with contextlib.redirect_stdout(io.StringIO()):
                    return cmd_validate(args)
            return cmd_validate(args)
        return cmd_run(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # stdout was closed early (`run ... | head`): the results are already in place.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("interrupted; no results were written", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:  # a bug or an environment failure: say so plainly
        if args.verbose:
            traceback.print_exc()
        print(f"error: {e.__class__.__name__}: {e}" + ("" if args.verbose else " (run with --verbose for details)"),
              file=sys.stderr)
        return EXIT_FAILURE


def _log(args, message: str) -> None:
    """A --verbose step line, on stderr so that stdout stays the table."""
    if args.verbose:
        print(f"[{time.perf_counter() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


_T0 = time.perf_counter()


def load(path: Path, seed: int | None):
    """Scenario -> (scenario, world, replayed attempts or None); every input checked."""
    from sim.inputs.replay import read_report
    from sim.inputs.scenario import load_scenario
    from sim.engine.world import build_world

    scenario = load_scenario(path)
    world = build_world(scenario, path, seed)
    replay = None
    if scenario.is_replay:
        replay = read_report(path.parent / scenario.traffic.replay, world)
        check_replay_rates(world, replay, path.parent / scenario.traffic.replay)
    else:
        from sim.engine.traffic import check_rates
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


def check_out_folder(out: Path) -> None:
    """--out may name a new folder, an empty one or an earlier results folder (replaced whole)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a folder")
    if any(out.iterdir()) and not (out / "summary.json").is_file():
        raise InputError("--out", f"{out} is not empty and not a results folder (no summary.json); refusing to "
                                  "replace it: name a new or empty folder")


def cmd_run(args) -> int:
    from sim.analysis.summary import aggregate
    from sim.outputs.folder import atomic_folder
    from sim.outputs.table import comparison_table, write_summary
    from sim.parallel.runner import Job, default_workers, run_all

    global _T0
    _T0 = time.perf_counter()
    if args.replications < 1:
        raise InputError("--replications", f"expected a whole number >= 1, got {args.replications}")
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"expected a whole number >= 1, got {args.workers}")
    scenario, world, replay = load(args.scenario, args.seed)
    seed = args.seed if args.seed is not None else scenario.seed
    out = args.out or Path("results") / scenario.name
    check_out_folder(out)
    workers = args.workers or default_workers()
    names = [p.name for p in world.policies]
    _log(args, f"loaded {args.scenario}: {len(world.users)} users, {len(names)} policies, "
               + (f"{len(replay)} replayed calls" if replay is not None else f"{scenario.days} days synthetic traffic"))
    with atomic_folder(out) as tmp:
        job = Job(world, seed, replay, tmp)
        per_rep = run_all(job, args.replications, workers, progress=not args.quiet and sys.stderr.isatty())
        _log(args, f"simulated {args.replications} replication(s) x {len(names)} policies on "
                   f"{min(workers, args.replications * len(names))} worker(s); per-policy CSVs and balance.png written")
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
        _log(args, "summary.json and comparison.md written")
        from sim.outputs.plots import write_plots
        write_plots(tmp, world, summary)
        _log(args, "comparison.png written")
        if not args.no_xlsx:
            from sim.outputs.excel import write_report
            write_report(tmp, doc, names)
            _log(args, "report.xlsx written")
    if not args.quiet:
        print(table)
        print(f"\n{_table_note(args.replications)}")
        print(f"results written to {out}/ ({time.perf_counter() - _T0:.1f} s)")
    return EXIT_OK


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
    from sim.engine.world import new_pools, user_mix

    scenario, world, replay = load(args.scenario, args.seed)
    pools = new_pools(world)
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
        from sim.engine.traffic import expected_volume
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
