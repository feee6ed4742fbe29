"""`optimise`: the sweep candidate that minimises a metric while meeting every constraint with 95 %
confidence, by successive elimination on common random numbers (README, "Choosing a policy").

Replications double per round (n0, 2 n0, ... up to --max-replications): K looks in all, each
decision at alpha = 5 % / K (Bonferroni over the looks). At each look, for every candidate still in:
- a constraint whose one-sided lower bound is past its target drops it (surely infeasible);
- it is *feasible* when every constraint's one-sided upper bound is within its target;
- it is dropped as *beaten* when the paired difference of the objective against the best
  feasible candidate has a lower bound above 0 (surely worse than a feasible one).
Only candidates still undecided get more replications. The winner is the feasible survivor with
the lowest objective mean.
"""
from __future__ import annotations

import math
import re
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sim.errors import InputError

from .replications import check_replications
from .sweep import load_space

EXIT_OK = 0
FIRST_ROUND, MAX_REPLICATIONS, CONFIDENCE = 8, 160, 0.95
MAX_BOUND = 1e15          # past any metric's value (money in currency units, counts, minutes)
_CONSTRAINT = re.compile(r"^\s*([a-z_]+)\s*(<=|>=)\s*([-+]?[0-9]+(?:\.[0-9]+)?)\s*$")   # ASCII digits: not ١٠


@dataclass(frozen=True)
class Constraint:
    metric: str
    op: str             # "<=" or ">="
    target: float
    text: str

    def met(self, b) -> bool:         # surely met: the bound on the far side is within the target
        return b.high <= self.target if self.op == "<=" else b.low >= self.target

    def violated(self, b) -> bool:    # surely not met
        return b.low > self.target if self.op == "<=" else b.high < self.target

    def gap(self, b) -> float:        # how far the confident bound is from meeting it (<= 0: met)
        return (b.high - self.target) if self.op == "<=" else (self.target - b.low)


@dataclass
class Verdict:
    status: str = "in"                # in, feasible, infeasible, beaten
    why: str = ""
    replications: int = 0
    bounds: dict = field(default_factory=dict)


def metric_names() -> list[str]:
    from sim.analysis.frontier import DISRUPTIONS
    from sim.analysis.metrics import METRICS
    return [DISRUPTIONS, *METRICS]


def parse_problem(args) -> tuple[str, list[Constraint]]:
    known = metric_names()
    if args.minimise not in known:
        raise InputError("--minimise", f"unknown metric {args.minimise!r}; expected one of {', '.join(known)}")
    if not args.subject_to:
        raise InputError("--subject-to", 'at least one constraint is needed, like --subject-to "disruptions<=5"')
    out = []
    for text in args.subject_to:
        m = _CONSTRAINT.match(text)
        if not m:
            raise InputError("--subject-to", f'expected METRIC<=VALUE or METRIC>=VALUE like "disruptions<=5", got {text!r}')
        if m.group(1) not in known:
            raise InputError("--subject-to", f"unknown metric {m.group(1)!r} in {text!r}; expected one of {', '.join(known)}")
        bound = float(m.group(3))
        if not abs(bound) <= MAX_BOUND:          # 400 digits read as infinity: every candidate "met" it
            raise InputError("--subject-to", f"the bound in {text!r} is past {MAX_BOUND:.0e}; no metric reaches it")
        out.append(Constraint(m.group(1), m.group(2), bound, f"{m.group(1)}{m.group(2)}{m.group(3)}"))
    return args.minimise, out


def schedule(first: int, most: int) -> list[int]:
    """Replications per candidate at each look: doubling from `first`, ending at `most`."""
    out = [first]
    while out[-1] < most:
        out.append(min(2 * out[-1], most))
    return out


def cmd_optimise(args) -> int:
    from sim.analysis.frontier import with_disruptions
    from sim.outputs.folder import atomic_folder, check_out_folder
    from sim.outputs.table import write_summary
    from sim.parallel.engine import Engine
    from sim.parallel.runner import Job, run_replications

    t0 = time.perf_counter()
    objective, constraints = parse_problem(args)
    first = FIRST_ROUND if args.replications is None else args.replications
    most = max(MAX_REPLICATIONS, first) if args.max_replications is None else args.max_replications
    check_replications(first)
    check_replications(most, "--max-replications")
    if first < 2:
        raise InputError("--replications", "optimise needs at least 2 replications in its first round")
    if most < first:
        raise InputError("--max-replications", f"must be at least the first round's {first} replications")
    space = load_space(args)
    out = args.out or Path("results") / f"{space.scenario.name}-optimum"
    check_out_folder(out, args.force)
    looks = schedule(first, most)
    alpha = (1 - CONFIDENCE) / len(looks)
    by_name = dict(zip(space.names, space.policies))
    values: dict[str, list[dict]] = {n: [] for n in space.names}
    verdicts = {n: Verdict() for n in space.names}
    with Engine(args.workers, args.scheduler, progress=not args.quiet and sys.stderr.isatty()) as engine:
        job = Job(space.world, space.seed, space.replay)
        done = 0
        for n in looks:
            alive = [c for c in space.names if verdicts[c].status in ("in", "feasible")]
            per_rep = with_disruptions(run_replications(engine, job, range(done, n), [by_name[c] for c in alive],
                                                        desc=f"round of {n} replications"))
            for rep in per_rep:
                for c in alive:
                    values[c].append(rep[c])
            done = n
            _decide(alive, values, verdicts, objective, constraints, alpha)
            still = [c for c in space.names if verdicts[c].status in ("in", "feasible")]
            if not still or (len(still) == 1 and verdicts[still[0]].status == "feasible"):
                break
        where = engine.where
    feasible = [c for c in space.names if verdicts[c].status == "feasible"]
    winner = min(feasible, key=lambda c: (verdicts[c].bounds[objective].mean, c)) if feasible else None
    report = _report(space, verdicts, winner, objective, constraints, alpha, looks)
    with atomic_folder(out, args.force) as tmp:
        if winner is not None:
            (tmp / "optimum.yaml").write_text(optimum_yaml(space, winner, objective, constraints, verdicts), encoding="utf-8")
        write_summary(tmp, {
            "scenario": space.scenario.name, "seed": space.seed, "minimise": objective,
            "subject_to": [c.text for c in constraints], "confidence": CONFIDENCE,
            "method": "successive elimination on common random numbers, Bonferroni over looks",
            "looks": looks, "alpha_per_look": alpha, "ran_on": where, "winner": winner,
            "candidates": {c: {"fields": {f: str(v) for f, v in space.values[c].items()}, "status": v.status,
                               "why": v.why, "replications": v.replications,
                               "bounds": {m: {"mean": b.mean, "low": _num(b.low), "high": _num(b.high)}
                                          for m, b in v.bounds.items()}}
                           for c, v in verdicts.items()},
        })
    if not args.quiet:
        print(report)
        print(f"results written to {out}/ ({time.perf_counter() - t0:.1f} s)")
    return EXIT_OK


def _num(x: float):
    return x if math.isfinite(x) else None


def _decide(alive, values, verdicts, objective, constraints, alpha) -> None:
    from sim.analysis.selection import bound, paired_bound
    for c in alive:
        v = verdicts[c]
        v.replications = len(values[c])
        v.bounds = {m: bound(m, [r[m] for r in values[c]], alpha)
                    for m in {objective, *(k.metric for k in constraints)}}
        broken = [k for k in constraints if k.violated(v.bounds[k.metric])]
        if broken:
            k = broken[0]
            b = v.bounds[k.metric]
            v.status, v.why = "infeasible", f"{k.text} not met: mean {b.mean:.4g}, bound {b.low if k.op == '<=' else b.high:.4g}"
        else:
            v.status = "feasible" if all(k.met(v.bounds[k.metric]) for k in constraints) else "in"
    feasible = [c for c in alive if verdicts[c].status == "feasible"]
    if not feasible:
        return
    best = min(feasible, key=lambda c: (verdicts[c].bounds[objective].mean, c))
    for c in alive:
        if c == best or verdicts[c].status == "infeasible":
            continue
        d = paired_bound([r[objective] for r in values[c]], [r[objective] for r in values[best]], alpha)
        if d.low > 0:
            verdicts[c].status = "beaten"       # the bounds need not be symmetric (Hall's): both shown
            verdicts[c].why = (f"{objective} higher than {best} by {d.mean:.4g}"
                               + (f" (bounds {d.low:.4g} to {d.high:.4g})" if math.isfinite(d.high)
                                  else " in every replication")
                               + f" (paired, after {len(values[c])} replications)")


def _describe(space, c) -> str:
    return f"{c} (" + ", ".join(f"{f}={space.values[c][f]}" for f in space.fields) + ")"


def _report(space, verdicts, winner, objective, constraints, alpha, looks) -> str:
    lines = []
    level = f"one-sided {100 * (1 - alpha):.2f} % per look, {CONFIDENCE:.0%} over the {len(looks)} looks"
    if winner is None:
        near = sorted(space.names, key=lambda c: max(k.gap(verdicts[c].bounds[k.metric]) for k in constraints))
        lines.append(f"no candidate meets {' and '.join(k.text for k in constraints)} with {CONFIDENCE:.0%} confidence "
                     f"({len(space.names)} candidates, up to {looks[-1]} replications each). The closest:")
        for c in near[:5]:
            lines.append(f"  {_describe(space, c)}: " + "; ".join(_constraint_text(k, verdicts[c].bounds[k.metric])
                                                                  for k in constraints))
        return "\n".join(lines)
    w = verdicts[winner]
    ob = w.bounds[objective]
    lines.append(f"winner: {_describe(space, winner)} after {w.replications} replications")
    lines.append(f"  minimises {objective}: mean {ob.mean:.4f} ({ob.low:.4f} to {ob.high:.4f}, {level})")
    for k in constraints:
        lines.append(f"  {_constraint_text(k, w.bounds[k.metric])} (met)")
    beaten = [c for c in space.names if verdicts[c].status == "beaten"]
    tied = [c for c in space.names if verdicts[c].status == "feasible" and c != winner]
    unsure = [c for c in space.names if verdicts[c].status == "in"]
    infeasible = [c for c in space.names if verdicts[c].status == "infeasible"]
    if beaten:
        lines.append("runners-up it beat:")
        ranked = sorted(beaten, key=lambda c: verdicts[c].bounds[objective].mean)
        lines += [f"  {_describe(space, c)}: {verdicts[c].why}" for c in ranked[:10]]
        if len(ranked) > 10:
            lines.append(f"  ... and {len(ranked) - 10} more (summary.json)")
    if tied:
        lines.append(f"feasible but not separated from the winner on {objective} after {looks[-1]} replications: "
                     + ", ".join(tied[:10]))
    if unsure:
        lines.append(f"constraints still undecided at {looks[-1]} replications: " + ", ".join(unsure[:10]))
    if infeasible:
        lines.append(f"{len(infeasible)} candidate(s) surely fail a constraint, e.g. {_describe(space, infeasible[0])}: "
                     f"{verdicts[infeasible[0]].why}")
    return "\n".join(lines)


def _constraint_text(k: Constraint, b) -> str:
    side = "upper" if k.op == "<=" else "lower"
    return f"{k.metric}: mean {b.mean:.4g}, {side} bound {(b.high if k.op == '<=' else b.low):.4g} vs {k.text}"


def optimum_yaml(space, winner, objective, constraints, verdicts) -> str:
    """A `policies:` entry to paste into a scenario (money as plain decimals, as scenarios write it)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", f"{v:.2f}"))
    spec = space.specs[winner].model_dump(mode="json", exclude_defaults=True)
    spec = _decimals(spec)
    head = (f"# optimise {space.scenario.name}: minimise {objective} subject to "
            f"{', '.join(k.text for k in constraints)} ({CONFIDENCE:.0%} confidence, "
            f"{verdicts[winner].replications} replications)\n")
    return head + yaml.dump({"policies": [spec]}, Dumper=Dumper, sort_keys=False)


def _decimals(doc):
    if isinstance(doc, dict):
        return {k: _decimals(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_decimals(v) for v in doc]
    if isinstance(doc, str) and re.fullmatch(r"-?\d+\.\d+", doc):
        return Decimal(doc)
    return doc
