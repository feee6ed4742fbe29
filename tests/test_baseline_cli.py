"""`run --baseline` (issue 10): the paired comparison heads the printed output and
comparison.md; a name that is no policy is bad input; one replication allows no comparison."""
import json

import yaml

from sim.cli import main

from .test_metamorphic import SYNTHETIC


def _scenario(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(dict(SYNTHETIC, days=5), sort_keys=False))
    return path


def test_an_unknown_baseline_is_bad_input_naming_the_option(tmp_path, capsys):
    code = main(["run", str(_scenario(tmp_path)), "--baseline", "nope", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "--baseline" in err and "tight, recharging" in err and "'nope'" in err
    assert not (tmp_path / "o").exists()


def test_the_comparison_heads_the_output_and_one_replication_says_none_is_possible(tmp_path, capsys):
    scen = _scenario(tmp_path)
    assert main(["run", str(scen), "-r", "3", "-w", "1", "--no-xlsx", "--baseline", "recharging",
                 "--out", str(tmp_path / "three")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Against the baseline recharging (paired over 3 replications")
    doc = json.loads((tmp_path / "three" / "summary.json").read_text())
    assert doc["baseline"] == "recharging" and list(doc["comparisons"]) == ["tight"]
    c = doc["comparisons"]["tight"]["credits_spent"]
    assert set(c) >= {"diff_mean", "half_width", "p_value", "significant"} and isinstance(c["diff_mean"], str)
    spent = [[float(v) for v in doc["policies"][p]["credits_spent"]["replications"]] for p in ("tight", "recharging")]
    assert abs(float(c["diff_mean"]) - sum(a - b for a, b in zip(*spent)) / 3) < 1e-4
    assert "Against the baseline recharging" in (tmp_path / "three" / "comparison.md").read_text()

    assert main(["run", str(scen), "-r", "1", "-w", "1", "--no-xlsx", "--out", str(tmp_path / "one")]) == 0
    doc = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert doc["baseline"] == "tight" and doc["comparisons"] == {}
    assert "no comparison with the baseline tight is possible" in (tmp_path / "one" / "comparison.md").read_text()


def test_a_run_without_randomness_states_its_differences_as_exact():
    from sim.outputs.paired import headline

    same = {"diff_mean": "-12.0000", "half_width": "0.0000", "p_value": 0.5, "p_holm": 1.0, "significant": False}
    zero = dict(same, diff_mean="0.0000", p_value=1.0)
    text = headline({"b": {"calls_blocked": same, "calls_cut": zero}}, "a", 2, "USD")
    assert "these differences are exact" in text and "- b blocks 12 fewer calls than a" in text
    assert "cuts" not in text and "p =" not in text
    varied = dict(same, half_width="3.0000", ci95_low="-15.0000", ci95_high="-9.0000", p_holm=0.01, significant=True)
    text = headline({"b": {"calls_blocked": varied, "calls_cut": zero}}, "a", 2, "USD")
    assert "- b blocks 12 ± 3 fewer calls than a (p = 0.010)" in text


def test_a_skewed_difference_shows_its_interval_by_its_ends():
    """Hall's interval of skewed differences is not symmetric about the mean: the headline and
    the paired table show its ends, not a half-width that would misplace it (a decrease as sizes)."""
    from sim.outputs.paired import headline, paired_table

    skewed = {"diff_mean": "-4.3000", "half_width": "17.2000", "ci95_low": "-32.9131", "ci95_high": "-1.4867",
              "p_value": 0.01, "p_holm": 0.02, "significant": True}
    text = headline({"b": {"calls_blocked": skewed}}, "a", 10, "USD")
    assert "- b blocks 4.3 (1.5 to 32.9) fewer calls than a (p = 0.020)" in text
    table = paired_table({"b": {"calls_blocked": skewed}}, [("calls_blocked", "blocked")])
    assert "−4.3 (−32.9 to −1.5) *" in table
    up = dict(skewed, diff_mean="4.3000", ci95_low="1.4867", ci95_high="32.9131")
    assert "- b blocks 4.3 (1.5 to 32.9) more calls than a" in headline({"b": {"calls_blocked": up}}, "a", 10, "USD")
    # an end that rounds to nothing shows no sign (a review: "−0.0")
    near = dict(up, ci95_low="-0.0400", ci95_high="6.5000")
    assert "+4.3 (0.0 to 6.5) *" in paired_table({"b": {"calls_blocked": near}}, [("calls_blocked", "blocked")])
