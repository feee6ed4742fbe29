"""Hostile inputs (malformed files, out-of-range values, odd paths and options): each ends in exit
status 2 with one line naming the file, key, line or option, never a traceback, a hang or exit 1
(scenario-format.md, "Bad input")."""
import os
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from tests.test_cli_errors import BASE, setup, with_


def bad(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err and "Warning" not in err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


def validate_bad(capsys, path) -> str:
    return bad(capsys, ["validate", str(path)])


SCENARIO = yaml.safe_dump(BASE, sort_keys=False)


@pytest.mark.parametrize("raw,expect", [
    (SCENARIO + "x: a\x00\n", ["scenario.yaml:", "U+0000", "not valid YAML"]),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", ["scenario.yaml", "nested too deeply"]),
    (SCENARIO.replace("days: 31", "days: " + "9" * 5000), ["scenario.yaml:3:7", "5,000 digits"]),
], ids=["NUL byte", "deep nesting", "5000-digit number"])
def test_malformed_yaml(tmp_path, capsys, raw, expect):
    err = validate_bad(capsys, setup(tmp_path, raw_scenario=raw))
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_scenario_that_is_not_a_regular_file(tmp_path, capsys):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)                     # reading it would block for ever
    assert "not a regular file" in validate_bad(capsys, fifo)
    assert "not a regular file" in validate_bad(capsys, Path("/dev/zero"))    # would never end
    assert "it is a folder" in validate_bad(capsys, tmp_path)
