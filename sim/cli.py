"""The command line: parse the arguments, call one function per command (sim.commands), map errors
to exit codes (0 ok, 2 bad input, 1 anything else)."""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import threading
import traceback
from importlib import metadata
from pathlib import Path

from sim.commands.fit import add_parser as add_fit_parser, cmd_fit
from sim.commands.optimise import cmd_optimise
from sim.commands.run import cmd_run
from sim.commands.sweep import cmd_sweep
from sim.commands.validate import cmd_validate
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


def _version() -> str:
    try:
        return metadata.version("pstn-credits-sim")
    except metadata.PackageNotFoundError:       # run from a checkout that was never installed
        import tomllib
        from pathlib import Path as _P
        with (_P(__file__).resolve().parents[1] / "pyproject.toml").open("rb") as f:
            return tomllib.load(f)["project"]["version"]


INTERRUPTED = threading.Event()      # main() ended on a signal (run_sim ends the process at once)


def _swallows(frame) -> bool:
    """The interrupted code is a callback whose exceptions Python prints and drops: a finaliser
    (`__del__`) or a garbage-collector callback (Dask's GC diagnosis runs one in this process)."""
    while frame is not None:
        if frame.f_code.co_name in ("__del__", "_gc_callback"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def stop_on_signals():
    """SIGTERM and SIGHUP end a run like Ctrl-C: KeyboardInterrupt in this process, so that the
    temporary results folder is removed and nothing is half-written. A child process that
    inherited the handler (a forked worker) just ends quietly, as the signal's default would."""
    me = os.getpid()
    if threading.current_thread() is not threading.main_thread():     # only it may set handlers
        yield
        return

    def handler(signum, frame):
        if os.getpid() != me:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if _swallows(frame):
            # raised here, the KeyboardInterrupt would be printed as "Exception ignored" and lost:
            # the same signal again in a moment, out of the callback
            timer = threading.Timer(0.05, resend, (signum,))
            timer.daemon = True
            pending.append(timer)
            timer.start()
            return
        cancel_pending()
        for s in watched:
            if before[s] is not signal.SIG_IGN:
                signal.signal(s, again)             # one interruption is enough: let the clean-up finish
        raise KeyboardInterrupt

    pending: list[threading.Timer] = []

    def resend(signum):
        # only to this handler: not once the run is over (the original handlers are back) nor
        # after a KeyboardInterrupt was raised (it would count as a second signal)
        if signal.getsignal(signum) is handler:
            os.kill(me, signum)

    def cancel_pending():
        for timer in pending:
            timer.cancel()
        pending.clear()

    def again(signum, frame):
        # A second signal while the first is handled (or after it was lost: raised inside a
        # callback that swallows exceptions, such as the garbage collector's): stop now, the
        # temporary results folders removed first.
        from sim.outputs.folder import remove_temporary
        remove_temporary()
        print("interrupted again; stopping now", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    watched = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    before = {s: signal.getsignal(s) for s in watched}
    for s in watched:
        if before[s] is not signal.SIG_IGN:     # ignored by our parent (nohup, a shell's background job): stays so
            signal.signal(s, handler)
    try:
        yield
    finally:
        cancel_pending()
        for s, h in before.items():
            signal.signal(s, h)


def _parallel_options(cmd) -> None:
    cmd.add_argument("--workers", "-w", type=int, default=None, metavar="W",
                     help="Dask worker processes of the local cluster (default: the machine's cores); results "
                          "are identical for any W. Runs too small to repay a cluster's start-up run in this process")
    cmd.add_argument("--scheduler", default=None, metavar="ADDR",
                     help="run the tasks on an existing Dask cluster instead, e.g. tcp://10.0.0.5:8786 (the address "
                          "`dask scheduler` prints; its workers need this project installed); same results")


FORCE_HELP = ("write into an --out folder that holds files this project did not write: the results replace the "
              "project's own files there, the others are left alone")


def _sweep_options(cmd, default_out: str) -> None:
    cmd.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="a scenario with a `sweep:` block")
    cmd.add_argument("--seed", type=int, default=None, metavar="N", help="base seed (default: the scenario's `seed`)")
    cmd.add_argument("--replications", "-r", type=int, default=None, metavar="R",
                     help="replications per candidate (sweep: default 10; optimise: the first round's, default 8)")
    cmd.add_argument("--out", type=Path, default=None, metavar="DIR", help=f"results folder (default {default_out})")
    cmd.add_argument("--force", action="store_true", help=FORCE_HELP)
    _parallel_options(cmd)
    cmd.add_argument("--quiet", "-q", action="store_true", dest="sub_quiet", help="same as the global --quiet")
    cmd.add_argument("--verbose", "-v", action="store_true", dest="sub_verbose", help="same as the global --verbose")


class _Parser(argparse.ArgumentParser):
    """Command-line mistakes as one line naming the option and what is expected (exit 2), not
    argparse's usage block: the usage is one `--help` away. Subcommands' parsers are of this
    class too (add_subparsers makes its parsers of the parent's class)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run_sim.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate a Microsoft Teams PSTN tenant and its Communications Credits billing\n"
                    "under one or more funding policies, and compare them.",
        epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
    run.add_argument("--replications", "-r", type=int, default=None, metavar="R",
                     help="independent replications per policy, fixed (default: the rule of README 'Replications': "
                          "10, then more until the precision metrics are within ±10%%, at most 40)")
    run.add_argument("--precision", default=None, metavar="P",
                     help="add replications in batches until every precision metric of every policy has a 95%% "
                          "half-width within P of its mean (e.g. 5%% or 0.05), or --max-replications")
    run.add_argument("--precision-metrics", default=None, metavar="M1,M2",
                     help="the metrics --precision and the default rule look at "
                          "(default calls_blocked,calls_cut,credits_spent)")
    run.add_argument("--max-replications", type=int, default=None, metavar="N",
                     help="replications at most (default 1000 with --precision, 40 by the default rule)")
    run.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="results folder (default results/<scenario name>/). A results folder this project wrote "
                          "there (its manifest.json lists every file) is replaced whole, only on success; a folder "
                          "holding anything else is refused (see --force)")
    run.add_argument("--force", action="store_true", help=FORCE_HELP)
    _parallel_options(run)
    run.add_argument("--baseline", default=None, metavar="NAME",
                     help="the policy every other policy is compared with, paired over the replications "
                          "(default: the scenario's first policy)")
    run.add_argument("--no-xlsx", action="store_true",
                     help="skip report.xlsx (the CSVs hold the same data); writing the workbook takes "
                          "about 5 s per million cells")
    run.add_argument("--xlsx-rows", type=int, default=1000, metavar="N",
                     help="rows of each policy's cdr and ledger copied into report.xlsx (default 1,000; 0: all "
                          "of them, slow past ~100,000); the CSV / Parquet files always hold every row")
    run.add_argument("--format", choices=("csv", "parquet", "both"), default="csv",
                     help="the per-call tables (cdr, ledger, disruptions) as CSV (default), Parquet (typed "
                          "columns, for runs too big for a spreadsheet) or both")
    run.add_argument("--journal", choices=("calls", "increments"), default="calls",
                     help="ledger rows: one per purchase, expiry and call per lot (default), or one per "
                          "billed increment")
    run.add_argument("--quiet", "-q", action="store_true", dest="sub_quiet", help="same as the global --quiet")
    run.add_argument("--verbose", "-v", action="store_true", dest="sub_verbose", help="same as the global --verbose")

    sw = sub.add_parser(
        "sweep", help="run every candidate policy of the scenario's sweep: grid; find the Pareto front",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run every candidate of SCENARIO's `sweep:` block (copies of its `base:` policy with\n"
                    "every combination of the `grid:` values) on the same call attempts, R replications\n"
                    "each, and write DIR/sweep.csv (every candidate: its fields, each metric's mean and\n"
                    "95 % half-width), DIR/frontier.csv and DIR/frontier.png (the Pareto front of\n"
                    "disruption, money tied up and money forfeited) and DIR/summary.json.",
        epilog="exit status: 0 success, 2 bad input (a bad sweep: block names its key), 1 any other failure.")
    _sweep_options(sw, "results/<scenario name>-sweep/")

    opt = sub.add_parser(
        "optimise", aliases=["optimize"], help="find the cheapest candidate that meets constraints with 95%% confidence",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Over the candidates of SCENARIO's `sweep:` block, find the one that minimises METRIC\n"
                    "among those whose every --subject-to constraint holds with 95 % confidence (its\n"
                    "upper confidence bound within the target), adding replications only to candidates\n"
                    "still in contention (see README, Choosing a policy). Prints the winner with its\n"
                    "intervals and the runners-up it beat, and writes DIR/optimum.yaml (a `policies:`\n"
                    "entry to paste) and DIR/summary.json.",
        epilog='example: optimise SCENARIO.yaml --minimise credits_purchased --subject-to "disruptions<=5"\n'
               "exit status: 0 success (also when no candidate meets the constraints: it says so and lists\n"
               "the closest), 2 bad input, 1 any other failure.")
    _sweep_options(opt, "results/<scenario name>-optimum/")
    opt.add_argument("--minimise", "--minimize", required=True, metavar="METRIC",
                     help="the metric to minimise, e.g. credits_purchased, average_balance, credits_expired")
    opt.add_argument("--subject-to", action="append", default=[], metavar="METRIC<=VALUE",
                     help="a constraint on a metric's mean, met with 95%% confidence; repeat for more "
                          "(e.g. \"disruptions<=5\", \"prob_disruption<=0.1\")")
    opt.add_argument("--max-replications", type=int, default=None, metavar="N",
                     help="replications per candidate at most (default 160)")

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
    add_fit_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet = args.quiet or getattr(args, "sub_quiet", False)
    args.verbose = args.verbose or getattr(args, "sub_verbose", False)
    if args.quiet and args.verbose:
        parser.error("--quiet and --verbose exclude each other")
    try:
        if getattr(args, "seed", None) is not None and args.seed < 0:
            raise InputError("--seed", f"expected a whole number >= 0, got {args.seed}")
        with stop_on_signals():
            if args.command == "validate":
                if args.quiet:
                    with contextlib.redirect_stdout(io.StringIO()):
                        return cmd_validate(args)
                return cmd_validate(args)
            if args.command == "fit":
                return cmd_fit(args)
            if args.command == "sweep":
                return cmd_sweep(args)
            if args.command in ("optimise", "optimize"):
                return cmd_optimise(args)
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
        INTERRUPTED.set()
        return EXIT_FAILURE
    except Exception as e:  # a bug or an environment failure: say so plainly
        if args.verbose:
            traceback.print_exc()
        print(f"error: {e.__class__.__name__}: {e}" + ("" if args.verbose else " (run with --verbose for details)"),
              file=sys.stderr)
        return EXIT_FAILURE
