"""What a wheel or a non-editable install holds (pyproject.toml): every package of the code, and
the default rate card beside sim.inputs.ratecard. A plain list of
the two top-level packages once left sim.engine, sim.analysis and the rest out of the wheel."""
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


def test_the_default_rate_card_goes_with_the_package_for_an_install_without_rates_beside_it(monkeypatch, tmp_path):
    """A review: a card under share/ was not found with pip's --prefix, --user or --target
    layouts. It is package data of sim.inputs now (data/ links to rates/; a wheel holds a copy),
    found beside the installed module whatever the layout."""
    assert _config()["package-data"] == {"sim.inputs": ["data/*.csv"]}
    packaged = ROOT / "sim" / "inputs" / "data" / "illustrative-usd.csv"
    assert packaged.read_bytes() == (ROOT / "rates" / "illustrative-usd.csv").read_bytes()
    # in a checkout: the project's own file
    assert ratecard.DEFAULT_CARD == ROOT / "rates" / "illustrative-usd.csv"
    # installed from a wheel, anywhere: no rates/ two levels up, the copy beside the module
    module = tmp_path / "lib" / "site-packages" / "sim" / "inputs" / "ratecard.py"
    (module.parent / "data").mkdir(parents=True)
    (module.parent / "data" / "illustrative-usd.csv").write_text("")
    monkeypatch.setattr(ratecard, "__file__", str(module))
    assert ratecard._default_card() == module.parent / "data" / "illustrative-usd.csv"
