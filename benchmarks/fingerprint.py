#!/usr/bin/env python3
"""Behaviour fingerprint: sha256 of the results a fixed set of runs writes.

Run before and after a performance change; the hashes must be byte-identical.

    .venv/bin/python benchmarks/fingerprint.py                 # print the hashes
    .venv/bin/python benchmarks/fingerprint.py --save FILE     # also store them as JSON
    .venv/bin/python benchmarks/fingerprint.py --check FILE    # compare; exit 1 on any difference

Runs (each `run_sim.py run SCENARIO --seed 7 -r 2 -w 1`):
- scenarios/us-office-domestic.yaml
- benchmarks/fingerprint-variant.yaml: 6 s increments, mid_call_cutoff false, a DNI-plan group with
  small pools, a card declining 30 % of recharges.
- benchmarks/fingerprint-pools.yaml: 120/240-minute plans and independent DNI pools that run dry
  mid-month under long overlapping calls (pool-paid increments racing for the last minutes).

Hashed: summary.json without its `versions` key (library versions are not behaviour), and every
policy's cdr.csv and ledger.csv. If a deliberate behaviour change (a bug fix) lands, re-save the
baseline at that commit before measuring an optimisation against it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [ROOT / "scenarios" / "us-office-domestic.yaml", ROOT / "benchmarks" / "fingerprint-variant.yaml",
             ROOT / "benchmarks" / "fingerprint-pools.yaml"]
SEED, REPLICATIONS = 7, 2


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(scenarios=SCENARIOS, seed: int = SEED, replications: int = REPLICATIONS) -> dict[str, str]:
    hashes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as tmp:
        for scenario in scenarios:
            out = Path(tmp) / scenario.stem
            subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(scenario), "--seed", str(seed),
                            "-r", str(replications), "-w", "1", "-q", "--no-xlsx", "--journal", "increments",
                            "--out", str(out)],
                           check=True, cwd=ROOT)
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            summary.pop("versions", None)
            hashes[f"{scenario.stem}/summary.json"] = _sha(json.dumps(summary, sort_keys=True).encode())
            for csv_file in sorted(out.glob("*/*.csv")):
                if csv_file.name in ("cdr.csv", "ledger.csv"):
                    rel = csv_file.relative_to(out.parent).as_posix()
                    hashes[rel] = _sha(csv_file.read_bytes())
    return hashes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--save", type=Path, metavar="FILE", help="store the hashes as JSON")
    g.add_argument("--check", type=Path, metavar="FILE", help="compare with stored hashes; exit 1 on a difference")
    args = ap.parse_args(argv)
    hashes = fingerprint()
    for name, h in hashes.items():
        print(f"{h}  {name}")
    if args.save:
        args.save.write_text(json.dumps(hashes, indent=2) + "\n", encoding="utf-8")
    if args.check:
        want = json.loads(args.check.read_text(encoding="utf-8"))
        bad = sorted(k for k in set(want) | set(hashes) if want.get(k) != hashes.get(k))
        for k in bad:
            print(f"DIFFERS: {k}", file=sys.stderr)
        print("fingerprint: " + ("DIFFERENT" if bad else "identical"), file=sys.stderr)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
