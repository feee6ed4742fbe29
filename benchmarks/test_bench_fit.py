"""Speed of `fit` on the issue's yardstick: a three-month report of a 200-user tenant (~60,000
calls). Run with `make bench` (marked `benchmark`, out of the default test run). The report is
simulated once (about 10 s); the benchmark times reading it and fitting every parameter, and
asserts the fit found what the tenant was built with."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quarter(tmp_path_factory) -> Path:
    from sim.cli import main

    d = tmp_path_factory.mktemp("fit-bench")
    doc = yaml.safe_load((ROOT / "scenarios" / "fit-example" / "tenant-q1.yaml").read_text())
    doc["rates"] = str(ROOT / "rates" / "illustrative-usd.csv")
    doc["policies"] = [{"name": "postpay", "billing": "postpay"}]
    for g, n in zip(doc["tenant"]["generate"], (150, 30, 20)):      # 200 users
        g["count"] = n
    (d / "tenant.yaml").write_text(yaml.safe_dump(doc))
    assert main(["run", str(d / "tenant.yaml"), "-q", "--no-xlsx", "-w", "1", "--out", str(d / "res")]) == 0
    return d / "res" / "postpay" / "cdr.csv"


@pytest.mark.benchmark(group="fit")
def test_fit_a_quarter_of_200_users(benchmark, quarter):
    from sim.analysis.fit import calls_of, fit
    from sim.inputs.reports import read_calls

    def run():
        rows, _ = read_calls([quarter])
        return fit(calls_of(rows))

    f = benchmark.pedantic(run, rounds=1, iterations=1)
    assert len(f.users) == 200 and len(f.classes.rates) == 2 and len(f.calls.kind) > 50_000
