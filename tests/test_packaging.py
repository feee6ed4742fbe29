"""What a wheel or a non-editable install holds (pyproject.toml): every package of the code, and
the default rate card where sim.inputs.ratecard looks for it outside a checkout. A plain list of
the two top-level packages once left sim.engine, sim.analysis and the rest out of the wheel."""
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

import sim.inputs.ratecard as ratecard

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_of_the_code_goes_into_the_wheel():
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for top in ("models", "sim")
               for p in (ROOT / top).rglob("__init__.py")}
    assert {"sim.engine", "sim.analysis.fit", "sim.inputs.reports"} <= on_disk
    found = set(find_packages(where=str(ROOT), include=_config()["packages"]["find"]["include"]))
    assert found == on_disk


def test_the_default_rate_card_is_installed_where_the_code_looks_when_rates_is_not_beside_it(monkeypatch, tmp_path):
    installed = {folder: files for folder, files in _config()["data-files"].items()}
    assert installed == {"share/pstn-credits-sim/rates": ["rates/illustrative-usd.csv"]}
    assert (ROOT / "rates" / "illustrative-usd.csv").exists()
    # in a checkout: the project's own file
    assert ratecard.DEFAULT_CARD == ROOT / "rates" / "illustrative-usd.csv"
    # installed from a wheel: no rates/ beside the code, the copy under the environment's share/
    copy = tmp_path / "share" / "pstn-credits-sim" / "rates" / "illustrative-usd.csv"
    copy.parent.mkdir(parents=True)
    copy.write_text("")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(ratecard, "__file__", str(tmp_path / "site-packages" / "sim" / "inputs" / "ratecard.py"))
    assert ratecard._default_card() == copy
