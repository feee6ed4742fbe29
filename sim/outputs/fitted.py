"""Write a fitted scenario (YAML, each estimate's 95 % interval as a comment beside it) and its
fit report (`FITTED.fit.md`)."""
from __future__ import annotations

import json
import math
from pathlib import Path


def _flow(value) -> str:
    """A YAML flow value (JSON is YAML); floats in their shortest exact form."""
    return json.dumps(value, ensure_ascii=False)


def _c(est) -> str:
    return f"  # {est.comment()}" if est is not None else ""


FITTED_MARK = "# Fitted by `run_sim.py fit`"     # first line of every fitted scenario: `fit --out` may replace it


def scenario_yaml(doc: dict, f, sources: list[str], report_name: str) -> str:
    e = f.estimates
    calls = f.calls
    lines = [
        f"{FITTED_MARK} from the usage report(s):",
        *[f"#   {s}" for s in sources],
        f"# {len(calls.kind)} modelled calls, {calls.start:%Y-%m-%d} + {calls.days} days. Every traffic parameter is a",
        "# maximum-likelihood estimate; the comment beside it gives its 95 % interval, the observations",
        "# behind it and the method. Rates per day are means over the seven days of the week (the",
        "# weekly_profile says when in the week). The fit report, with goodness-of-fit tests and",
        f"# warnings: {report_name} beside this file.",
        f"name: {doc['name']}",
        f"start: {doc['start']}               # the first day after the report (--start)",
        f"days: {doc['days']}",
        f"currency: {doc['currency']}",
        f"seed: {doc['seed']}",
        "",
        "tenant:",
        f"  domain: {doc['tenant']['domain']}",
        "  users:" + ("                     # licences: from the report's Capability (see the fit report) or --licences"
                      if f.users else " []"),
    ]
    classes = f.classes.rates if f.classes else []
    for u, entry in zip(f.users, doc["tenant"]["users"]):
        note = (f"  # rate class {u.rate_class + 1}: {u.calls} calls in the report" if u.rate_class is not None else "")
        lines.append(f"    - {_flow(entry)}{note}")
    if classes:
        lines.append(f"  # rate classes ({f.classes.why}):")
        for k, est in enumerate(classes):
            lines.append(f"  #   class {k + 1}: {est.value:.4g} calls per user per day, {est.comment()}")
    tf = doc["tenant"]["toll_free_numbers"]
    lines.append("  toll_free_numbers:" + ("" if tf else " []"))
    for x in tf:
        num = x["number"]
        lines.append(f"    - number: {_flow(num)}")
        lines.append(f"      serves: {x['serves']}")
        if "calls_per_day" in x:
            lines.append(f"      calls_per_day: {_flow(x['calls_per_day'])}{_c(e.get(f'toll_free_numbers.{num}.calls_per_day'))}")
            lines.append("      origins:")
            for c, w in x["origins"].items():
                lines.append(f"        {c}: {_flow(w)}{_c(e.get(f'toll_free_numbers.{num}.origins.{c}'))}")
            lines.append(f"      weekly_profile: {_flow(x['weekly_profile'])}   # this number's calls by local hour of the week")
    lines += ["", f"rates: {doc['rates']}", "", "traffic:"]
    tr = doc["traffic"]
    lines.append(f"  weekly_profile: {_flow(tr['weekly_profile'])}   # user calls and meetings by local hour of "
                 "the week, Monday 00:00 first (MLE: calls / hours observed)")
    for key, value in tr.items():
        if key in ("weekly_profile", "international_destinations", "call_minutes_by_kind", "growth"):
            if key == "international_destinations":
                lines.append("  international_destinations:")
                for c, w in value.items():
                    lines.append(f"    {c}: {_flow(w)}{_c(e.get(f'traffic.international_destinations.{c}'))}")
            elif key == "call_minutes_by_kind":
                lines.append("  call_minutes_by_kind:" + ("" if value else " {}"))
                for kind, spec in value.items():
                    lf = f.lengths[kind]
                    lines.append(f"    {kind}: {_flow(spec)}  # {lf.why}; mean {lf.mean.comment()}")
            elif key == "growth":
                lines.append(f"  growth: {_flow(value)}   # none fitted: set a factor per year for a forecast")
            continue
        if key == "call_minutes":
            lines.append(f"  call_minutes: {_flow(value)}   # every call pooled, for kinds without their own")
            continue
        note = _c(e.get(f"traffic.{key}"))
        if key == "toll_free_calls_per_day":
            note = "   # each number has its own calls_per_day"
        lines.append(f"  {key}: {_flow(value)}{note}")
    lines += ["", "policies:"] + [f"  - {_flow(p)}" for p in doc["policies"]]
    return "\n".join(lines) + "\n"


def _fmt(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.4g}"


def fit_report(f, sources: list[str], scenario_file: str, comparison=None) -> str:
    c = f.calls
    out = [f"# Fit report: {Path(scenario_file).name}", "",
           f"Report(s): {', '.join(sources)}  ", f"Period: {c.start:%Y-%m-%d} + {c.days} days (UTC); "
           f"{len(c.kind)} modelled calls, {len(f.users)} users.  ",
           f"Not fitted: {c.not_billed} Direct Routing / Operator Connect rows"
           + "".join(f", {n} `{k}`" for k, n in sorted(c.not_modelled.items())) + ".", ""]
    out += ["## Warnings", ""] + ([f"- {w}" for w in f.warnings] or ["- none"]) + [""]
    out += ["## Estimates (maximum likelihood, 95 % intervals)", "",
            "| parameter | estimate | 95 % interval | n | method |", "|---|---:|---|---:|---|"]
    for key, est in f.estimates.items():
        out.append(f"| `{key}` | {_fmt(est.value)} | [{_fmt(est.low)}, {_fmt(est.high)}] | {est.n} | {est.method} |")
    out += ["", "Rates per day are means over the seven days of the week; the weekly profile says when.", "",
            "## Goodness of fit", "", "| test | statistic | p-value | verdict |", "|---|---:|---:|---|"]
    for name, stat, p, verdict in f.tests:
        out.append(f"| {name} | {_fmt(stat)} | {_fmt(p)} | {verdict} |")
    out += ["", "## Model choices", ""] + [f"- {n}" for n in f.notes]
    mixes: dict[str, int] = {}
    for u in f.users:
        key = "+".join(u.licences)
        mixes[key] = mixes.get(key, 0) + 1
    out += ["", "## Licences", "", "| licences | users |", "|---|---:|"] + [f"| {k} | {n} |" for k, n in sorted(mixes.items())]
    if comparison:
        reps = len(comparison[0].simulated)
        out += ["", f"## The fitted model against the report ({reps} replications over the report's own period, postpay)", "",
                "| month | kind | calls: report | calls: model ± 95 % | minutes: report | minutes: model ± 95 % "
                "| credits: report | credits: model ± 95 % |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for row in comparison:
            cells = []
            for i in range(3):
                m, hw = row.mean_hw(i)
                cells += [f"{row.observed[i]:,.{2 if i == 2 else 0}f}", f"{m:,.{2 if i == 2 else 0}f} ± {hw:,.{2 if i == 2 else 0}f}"]
            out.append(f"| {row.month} | {row.kind} | " + " | ".join(cells) + " |")
        out += _totals(comparison)
    return "\n".join(out) + "\n"


def _totals(rows) -> list[str]:
    """The whole period per kind, and credits per month over every kind: model mean ± 95 %
    beside the report, the difference in the report's own Poisson standard deviations for calls."""
    import numpy as np
    from scipy import stats

    def line(label, obs, sims):
        sims = np.asarray(sims, float)
        m = sims.mean(axis=0)
        hw = stats.t.ppf(0.975, len(sims) - 1) * sims.std(axis=0, ddof=1) / np.sqrt(len(sims)) if len(sims) > 1 else m * np.nan
        z = (m[0] - obs[0]) / math.sqrt(obs[0]) if obs[0] > 0 else float("nan")
        return (f"| {label} | {obs[0]:,.0f} | {m[0]:,.0f} ± {hw[0]:,.0f} | {z:+.1f} | {obs[1]:,.0f} | {m[1]:,.0f} ± {hw[1]:,.0f} "
                f"| {obs[2]:,.2f} | {m[2]:,.2f} ± {hw[2]:,.2f} |")

    head = ["| | calls: report | calls: model ± 95 % | (model − report) / √report | minutes: report "
            "| minutes: model ± 95 % | credits: report | credits: model ± 95 % |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    out = ["", "Whole period, per kind:", ""] + head
    for group, key in (("kind", lambda r: r.kind), ("month", lambda r: r.month)):
        if group == "month":
            out += ["", "Every kind, per month:", ""] + head
        sums: dict[str, list] = {}
        for r in rows:
            obs, sims = sums.setdefault(key(r), [np.zeros(3), np.zeros((len(r.simulated), 3))])
            obs += r.observed
            sims += np.array(r.simulated)
        out += [line(k, obs, sims) for k, (obs, sims) in sorted(sums.items())]
    return out
