"""`run`: simulate every policy, R replications, and write the results folder."""
from __future__ import annotations

import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from sim.errors import InputError

from .load import load
from .replications import replication_plan

EXIT_OK = 0


def _log(args, message: str) -> None:
    """A --verbose step line, on stderr so that stdout stays the table."""
    if args.verbose:
        print(f"[{time.perf_counter() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


_T0 = time.perf_counter()


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("pstn-credits-sim", "simpy", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def cmd_run(args) -> int:
    from sim.analysis.summary import aggregate, comparisons, monthly
    from sim.outputs.folder import atomic_folder, check_out_folder
    from sim.outputs.rounding import cdr_rounding
    from sim.outputs.table import write_summary
    from sim.parallel.engine import Engine
    from sim.parallel.precision import replicate_to_precision
    from sim.parallel.runner import Job

    global _T0
    _T0 = time.perf_counter()
    plan = replication_plan(args)
    if args.xlsx_rows < 0:
        raise InputError("--xlsx-rows", f"expected a whole number >= 0 (0: every row), got {args.xlsx_rows}")
    scenario, world, replay = load(args.scenario, args.seed)
    seed = args.seed if args.seed is not None else scenario.seed
    out = args.out or Path("results") / scenario.name
    check_out_folder(out, args.force)      # before simulating: a refusal costs nothing
    names = [p.name for p in world.policies]
    baseline = args.baseline if args.baseline is not None else names[0]
    if baseline not in names:
        raise InputError("--baseline", f"expected the name of one of the scenario's policies "
                                       f"({', '.join(names)}), got {baseline!r}")
    _log(args, f"loaded {args.scenario}: {len(world.users)} users, {len(names)} policies, "
               + (f"{len(replay)} replayed calls" if replay is not None else f"{scenario.days} days synthetic traffic"))
    # the engine inside the folder: on Ctrl-C its workers (which write replication 0's files
    # there) are stopped before the temporary folder is removed, or one could create it again
    with atomic_folder(out, args.force) as tmp, \
            Engine(args.workers, args.scheduler, progress=not args.quiet and sys.stderr.isatty()) as engine:
        from sim.outputs.policy_files import FileOptions
        job = Job(world, seed, replay, tmp, file_options=FileOptions(args.format, args.journal))
        per_rep, precision = replicate_to_precision(engine, job, plan.start, plan.target, plan.metrics, plan.cap)
        reps = len(per_rep)
        _log(args, f"simulated {reps} replication(s) x {len(names)} policies on {engine.where}; "
                   "per-policy CSVs and balance.png written")
        summary = aggregate(per_rep, names)
        compared = comparisons(per_rep, names, baseline)
        postpay = {p.name for p in scenario.policies if p.billing == "postpay"}
        table = _report(summary, compared, baseline, reps, scenario.currency, postpay)
        replay_info = _replay_info(scenario, replay, tmp, names)
        doc = {
            "scenario": scenario.model_dump(mode="json"),
            "seed": seed,
            "replications": reps,
            "precision": precision.as_json(plan.rule),
            "replication_seeds": {"entropy": seed, "spawn_key": "(replication, stream, ...)"},
            "versions": versions(),
            "replay": replay_info,
            "baseline": baseline,
            "policies": summary,
            "comparisons": compared,
            "cdr_rounding": cdr_rounding(per_rep[0], summary),
            "monthly": monthly(per_rep, names),
        }
        write_summary(tmp, doc)
        (tmp / "comparison.md").write_text(
            f"# {scenario.name}: policy comparison\n\n{_table_note(reps)}\n\n{table}\n",
            encoding="utf-8")
        _log(args, "summary.json and comparison.md written")
        from sim.outputs.plots import write_plots
        write_plots(tmp, world, summary, doc["monthly"])
        _log(args, "comparison.png and monthly.png written")
        if not args.no_xlsx:
            from sim.outputs.excel import write_report
            write_report(tmp, doc, names, head=args.xlsx_rows)
            _log(args, "report.xlsx written")
    if not args.quiet:
        print(table)
        print(f"\n{_table_note(reps)}")
        if not precision.met:
            print(f"warning: {precision.describe()}; {plan.advice}", file=sys.stderr, flush=True)
        if replay is not None and replay.import_report.last_page_missing:
            print("warning: every Graph page replayed has an @odata.nextLink: the last page (and its calls) "
                  "is missing; see `validate`", file=sys.stderr, flush=True)
        for line in _reconciliation_lines(replay_info):
            print(line)
        print(f"results written to {out}/ ({time.perf_counter() - _T0:.1f} s)")
    return EXIT_OK


def _report(summary: dict, compared: dict, baseline: str, replications: int, currency: str, postpay=()) -> str:
    """What `run` prints and comparison.md holds: the paired comparison first (which policy is
    better, by how much, how sure), then each policy's own figures."""
    from sim.outputs.paired import headline, paired_table
    from sim.outputs.table import TABLE_METRICS, comparison_table

    parts = [headline(compared, baseline, replications, currency)]
    if compared:
        parts.append(paired_table(compared, TABLE_METRICS))
        parts.append("(* : significant at 5 % after Holm's correction over every policy and metric; "
                     "0 : no difference in any replication)")
    parts.append(comparison_table(summary, postpay))
    return "\n\n".join(parts)


def _table_note(replications: int) -> str:
    if replications < 2:
        return "One replication: no confidence intervals (use --replications 10 for mean ± 95 % CI half-width)."
    return (f"Per policy: mean and 95 % interval over {replications} replications (Student t; a skewness-corrected "
            "(Hall) or Wilson interval where shown as (low–high); see README); money in the scenario currency.")


def _replay_info(scenario, replay, folder: Path, names: list[str]) -> dict | None:
    if replay is None:
        return None
    from sim.outputs.reconciliation import totals
    info = {"report": scenario.traffic.replay, **replay.import_report.to_dict()}
    recon = {name: totals(folder / name / "reconciliation.csv") for name in names}
    info["reconciliation"] = {k: v for k, v in recon.items() if v is not None} or None
    return info


def _reconciliation_lines(info: dict | None) -> list[str]:
    """Reported vs rebilled, per policy (replication 0), as `run` prints it."""
    if not info or not info.get("reconciliation"):
        return []
    out = ["", "reconciliation with the report's own charges (2 decimals; <policy>/reconciliation.csv):"]
    for name, t in info["reconciliation"].items():
        out.append(f"  {name}: reported {t['reported_charge']} + fees {t['reported_connection_fee']}, rebilled "
                   f"{t['rebilled_charge']} + fees {t['rebilled_connection_fee']}, difference {t['difference']}; "
                   f"{t['calls_differing']} of {t['calls']} calls differ by more than 0.01"
                   + (f" ({t['calls_freecall']} FREECALL: Microsoft could not price them and waived them)"
                      if t.get("calls_freecall") else ""))
    return out
