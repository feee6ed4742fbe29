"""`validate` of the documented maximum, a generated group of 1,000,000 users (issue 12: it must
take seconds, not minutes). `make bench` runs it; it is out of the default test run."""
import pytest
import yaml

from sim.cli import main

MILLION = {"name": "million", "start": "2026-01-01T00:00:00Z", "days": 31,
           "tenant": {"generate": [{"count": 1_000_000, "country": "US",
                                    "licences": ["PHONE_SYSTEM", "AUDIO_CONFERENCING"]}]},
           "traffic": {"meetings_per_organiser_per_day": 0.01},
           "policies": [{"name": "p", "initial_funds": 100}]}


@pytest.mark.benchmark(group="validate")
def test_validate_a_million_generated_users(benchmark, tmp_path):
    path = tmp_path / "million.yaml"
    path.write_text(yaml.safe_dump(MILLION, sort_keys=False))
    assert benchmark.pedantic(main, args=(["validate", "-q", str(path)],), rounds=1, iterations=1) == 0
