"""`fit`: usage report(s) -> a fitted scenario (FITTED.yaml) and its fit report (FITTED.fit.md)."""
from __future__ import annotations

import argparse
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sim.errors import InputError
from sim.inputs.ratecard import DEFAULT_CARD

EXIT_OK = 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit", help="fit the traffic model to usage report(s) and write a scenario to forecast with",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read one or more PSTN usage reports (files or folders, any export `traffic.replay` reads),\n"
                    "estimate every traffic parameter by maximum likelihood with its 95 % interval, and write\n"
                    "FITTED.yaml (a scenario `validate` and `run` accept; the intervals are comments) and\n"
                    "FITTED.fit.md (estimates, goodness-of-fit tests, warnings; also printed).",
        epilog="exit status: 0 success, 2 bad input, 1 any other failure.")
    p.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="usage report file(s) or folder(s)")
    p.add_argument("--out", type=Path, required=True, metavar="FITTED.yaml", help="the fitted scenario to write")
    p.add_argument("--policies", type=Path, default=None, metavar="FROM.yaml",
                   help="take the `policies:` list of this scenario (default: one postpay policy)")
    p.add_argument("--rates", type=Path, default=None, metavar="CARD.csv",
                   help="rate card for the fitted scenario (default: the project's illustrative card)")
    p.add_argument("--days", type=int, default=365, metavar="N", help="forecast horizon in days (default 365)")
    p.add_argument("--start", default=None, metavar="ISO",
                   help="forecast start (default: 00:00 UTC of the day after the report's last day)")
    p.add_argument("--licences", type=Path, default=None, metavar="USERS.csv",
                   help="the admin center's Active users export: licences from it instead of the report")
    p.add_argument("--check", type=int, default=0, metavar="R",
                   help="also simulate the fitted model R times over the report's own period and put calls, "
                        "minutes and credits per month and kind beside the report's in FITTED.fit.md (default 0)")
    p.add_argument("--force", action="store_true",
                   help="replace FITTED.yaml / FITTED.fit.md even if they were not written by `fit`")
    p.add_argument("--quiet", "-q", action="store_true", dest="sub_quiet", help="same as the global --quiet")
    p.add_argument("--verbose", "-v", action="store_true", dest="sub_verbose", help="same as the global --verbose")


def _refuse_foreign(out: Path) -> None:
    """--out may name a new file or one that `fit` wrote (its first line says so): never the
    user's own scenario, nor a report beside a file `fit` did not write."""
    from sim.outputs.fitted import FITTED_MARK

    def ours(path: Path) -> bool:
        try:
            with path.open(encoding="utf-8", errors="replace") as f:
                return f.readline().startswith(FITTED_MARK)
        except OSError:
            return False
    md = out.with_suffix(".fit.md")
    if out.exists() and not ours(out) or md.exists() and not (out.exists() and ours(out)):
        clash = out if out.exists() else md
        raise InputError("--out", f"{clash} exists and was not written by `fit`; refusing to replace it: "
                                  "name another --out, or pass --force")


def _start(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    from sim.inputs.scenario import MAX_YEAR, MIN_YEAR
    try:
        dt = datetime.fromisoformat(text)
        dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InputError("--start", f"expected an ISO 8601 instant like 2026-04-01T00:00:00Z, got {text!r}") from None
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise InputError("--start", f"expected a year from {MIN_YEAR} to {MAX_YEAR}, got {text!r}")
    return dt


def _policies(path: Path | None) -> list[dict]:
    if path is None:
        return [{"name": "postpay", "billing": "postpay"}]
    from sim.inputs.yamlfile import read_yaml
    data = read_yaml(path, "policies file")         # names the line of a bad byte or a YAML fault
    if not isinstance(data, dict) or not isinstance(data.get("policies"), list) or not data["policies"]:
        raise InputError(f"{path}: policies", "expected a scenario with a non-empty `policies:` list")
    return data["policies"]


def _active_users(read, path: Path):
    """The Active users export, its faults (not UTF-8, a field past csv's limit) named by line."""
    import csv
    try:
        return read(path)
    except UnicodeDecodeError:
        from sim.inputs.yamlfile import decode_error, read_input
        data = read_input(path, "licences file")
        try:
            data.decode("utf-8-sig")            # the stream's error counts from its chunk: find the byte
        except UnicodeDecodeError as e:
            raise decode_error(path, data, e) from None
        raise
    except csv.Error as e:
        raise InputError(str(path), f"not a readable CSV file ({e})") from None


def _rel(target: Path, folder: Path) -> str:
    return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()


def cmd_fit(args) -> int:
    from sim.analysis.fit import calls_of, fit
    from sim.analysis.fit.compare import simulate_fit
    from sim.analysis.fit.document import scenario_doc
    from sim.analysis.fit.licences import read_active_users
    from sim.inputs.reports import read_calls
    from sim.outputs.fitted import fit_report, scenario_yaml
    from .load import load

    out: Path = args.out
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise InputError("--out", f"expected a .yaml file name, got {out}")
    if not args.force:
        _refuse_foreign(out)
    if not 1 <= args.days <= 3660:
        raise InputError("--days", f"expected whole days 1-3660, got {args.days}")
    if args.check < 0:
        raise InputError("--check", f"expected a number of replications >= 0, got {args.check}")
    if args.rates is not None and not args.rates.is_file():
        raise InputError("--rates", f"no such rate card: {args.rates}")
    sources = [str(p) for p in args.reports]
    rows, _ = read_calls(args.reports, allow_empty=None)
    calls = calls_of(rows)
    licence_file = (args.licences, _active_users(read_active_users, args.licences)) if args.licences else None
    f = fit(calls, licence_file, ", ".join(sources))
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", out.stem).strip("-._") or "fitted"
    start = _start(args.start, calls.start + timedelta(days=calls.days))      # before anything is created
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError("--out", f"cannot create the folder of {out} ({e.strerror or e})") from None
    doc = scenario_doc(f, name[:80], start, args.days, _rel(args.rates or DEFAULT_CARD, out.parent), _policies(args.policies))
    text = scenario_yaml(doc, f, sources, out.with_suffix(".fit.md").name)
    aside = out.with_name(f".{out.name}.tmp")
    aside.write_text(text, encoding="utf-8")
    try:
        load(aside, None)            # the scenario must validate as written
    except InputError as e:
        aside.unlink()
        # a fitted scenario that does not validate is this program's fault: say what and where
        raise InputError(f"--out {out}", f"the fitted scenario would not validate "
                                         f"({e.where.replace(str(aside), out.name)}: {e.what}); nothing was written"
                         ) from None
    os.replace(aside, out)
    comparison = simulate_fit(doc, out, calls, args.check) if args.check else None
    report = fit_report(f, sources, str(out), comparison)
    md = out.with_suffix(".fit.md")
    md_aside = md.with_name(f".{md.name}.tmp")
    md_aside.write_text(report, encoding="utf-8")
    os.replace(md_aside, md)
    if not args.quiet:
        print(report)
        print(f"fitted scenario written to {out} (report: {out.with_suffix('.fit.md')})")
    return EXIT_OK
