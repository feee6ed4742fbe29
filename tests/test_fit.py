"""`run_sim.py fit` (issue 9): round trip (simulate known parameters, export the CDR, fit,
recover each parameter inside its reported 95 % interval), the fitted model reproducing the
report, licences, and bad input. The estimators' coverage is checked in test_fit_estimators.py."""
import csv
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.analysis.fit import calls_of, fit
from sim.analysis.fit.compare import simulate_fit
from sim.analysis.fit.data import ReportUser
from sim.analysis.fit.document import scenario_doc
from sim.analysis.fit.licences import infer
from sim.cli import main
from sim.inputs.reports import read_calls

ROOT = Path(__file__).resolve().parent.parent
PLAN = ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]
WEEK = 5 / 7        # business-day rates -> the fit's rates per day averaged over the week
TRUTH = {"slow": 2.0, "fast": 7.0, "intl": 0.08, "GB": 0.6, "IN": 0.4, "toll_free": 30.0, "US": 0.8, "CA": 0.2,
         "meetings": 0.8, "dial_outs": 0.4, "tf_dial_ins": 0.9, "toll_dial_ins": 0.5, "user_in": 1.5,
         "out_mean": 4.0, "out_sigma": 1.0, "tf_mean": 6.0}
SOURCE = {
    "name": "fit-truth", "start": "2026-01-05T00:00:00Z", "days": 56, "seed": 5,
    "tenant": {"generate": [
        {"count": 40, "country": "US", "licences": PLAN, "outbound_calls_per_day": TRUTH["slow"]},
        {"count": 12, "country": "US", "licences": PLAN, "outbound_calls_per_day": TRUTH["fast"]},
        {"count": 12, "country": "US", "licences": ["E5", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"],
         "outbound_calls_per_day": TRUTH["slow"]}],
        "toll_free_numbers": [{"number": "+18885550100", "serves": "call_queue"},
                              {"number": "+18885550199", "serves": "conference_bridge"}]},
    "rates": str(ROOT / "rates" / "illustrative-usd.csv"),
    "traffic": {"international_share": TRUTH["intl"], "international_destinations": {"GB": 0.6, "IN": 0.4},
                "call_minutes": {"distribution": "lognormal", "mean": TRUTH["out_mean"], "sigma": TRUTH["out_sigma"]},
                "call_minutes_by_kind": {"toll_free_in": {"distribution": "exponential", "mean": TRUTH["tf_mean"]}},
                "toll_free_calls_per_day": TRUTH["toll_free"], "toll_free_origins": {"US": 0.8, "CA": 0.2},
                "meetings_per_organiser_per_day": TRUTH["meetings"], "dial_outs_per_meeting": TRUTH["dial_outs"],
                "toll_free_dial_ins_per_meeting": TRUTH["tf_dial_ins"], "toll_dial_ins_per_meeting": TRUTH["toll_dial_ins"],
                "user_inbound_calls_per_day": TRUTH["user_in"], "emergency_calls_per_user_per_year": 0.5},
    "policies": [{"name": "postpay", "billing": "postpay"}],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("fit")
    (d / "truth.yaml").write_text(yaml.safe_dump(SOURCE), encoding="utf-8")
    assert main(["run", str(d / "truth.yaml"), "-q", "--no-xlsx", "-w", "1", "--out", str(d / "res")]) == 0
    return d / "res" / "postpay" / "cdr.csv"


@pytest.fixture(scope="module")
def fitted(report):
    rows, _ = read_calls([report])
    return fit(calls_of(rows))


def covers(est, truth):
    return est.low <= truth <= est.high


def test_round_trip_recovers_every_parameter_inside_its_interval(fitted):
    e = fitted.estimates
    assert len(fitted.classes.rates) == 2, fitted.classes.why
    slow, fast = fitted.classes.rates
    assert covers(slow, TRUTH["slow"] * WEEK) and covers(fast, TRUTH["fast"] * WEEK)
    # every fast user, and only they, in the fast class
    assert sorted(u.rate_class for u in fitted.users if u.rate_class is not None).count(1) == 12
    checks = {
        "traffic.international_share": TRUTH["intl"],
        "traffic.international_destinations.GB": TRUTH["GB"],
        "traffic.international_destinations.IN": TRUTH["IN"],
        "toll_free_numbers.+18885550100.calls_per_day": TRUTH["toll_free"],
        "toll_free_numbers.+18885550100.origins.US": TRUTH["US"],
        "traffic.meetings_per_organiser_per_day": TRUTH["meetings"] * WEEK,
        "traffic.dial_outs_per_meeting": TRUTH["dial_outs"],
        "traffic.toll_free_dial_ins_per_meeting": TRUTH["tf_dial_ins"],
        "traffic.toll_dial_ins_per_meeting": TRUTH["toll_dial_ins"],
        "traffic.user_inbound_calls_per_day": TRUTH["user_in"] * WEEK,
        "traffic.call_minutes_by_kind.user_out.mean": TRUTH["out_mean"],
        "traffic.call_minutes_by_kind.user_out.sigma": TRUTH["out_sigma"],
        "traffic.call_minutes_by_kind.toll_free_in.mean": TRUTH["tf_mean"],
        "traffic.call_minutes_by_kind.user_in.mean": TRUTH["out_mean"],
    }
    # Sixteen 95 % intervals (2 classes + 14 parameters) on one dataset: some may miss by chance (P(more than 3 of 16 miss) = 0.7 %).
    # A miss must stay within twice its interval's half-width of the truth; bias is tested for by
    # the coverage experiments of test_fit_estimators.py.
    missed = {k: (e[k].value, e[k].low, e[k].high, v) for k, v in checks.items() if not covers(e[k], v)}
    assert len(missed) <= 3, missed
    for value, low, high, truth in missed.values():
        assert abs(value - truth) <= (high - low), missed
    # the right families by the stated criterion
    assert fitted.lengths["user_out"].spec["distribution"] == "lognormal"
    assert fitted.lengths["toll_free_in"].spec["distribution"] == "exponential"
    # thin data and incomplete months are warned about: 2 emergency calls; the report starts on 5 January
    assert any(w.startswith("traffic.emergency_calls_per_user_per_year: only") for w in fitted.warnings)
    assert any(w.startswith("2026-01 is incomplete") for w in fitted.warnings)
    assert any(w.startswith("call length of emergency") for w in fitted.warnings)
    # the weekly profile: business hours only (weekends and nights empty, in New York time)
    w = np.array(fitted.traffic["weekly_profile"]).reshape(7, 24)
    assert w[5:].sum() == 0 and w[:5, :8].sum() == 0 and w[:5, 18:].sum() == 0 and w[:5, 8:18].min() > 0


def test_fitted_model_reproduces_the_report(fitted, report, tmp_path):
    """3 replications over the report's period: calls, minutes and credits per kind within 4 standard
    errors (report and model both Poisson-like: var ~ report + model/R, plus the fitted parameters'
    own uncertainty, hence 4 rather than 2), and credits within 8 % in total."""
    doc = scenario_doc(fitted, "check", fitted.calls.start, 30, str(ROOT / "rates" / "illustrative-usd.csv"),
                       [{"name": "postpay", "billing": "postpay"}])
    rows = simulate_fit(doc, tmp_path / "x.yaml", fitted.calls, 3)
    totals = {}
    for r in rows:
        t = totals.setdefault(r.kind, [np.zeros(3), np.zeros((3, 3))])
        t[0] += r.observed
        t[1] += np.array(r.simulated)
    for kind, (obs, sim) in totals.items():
        mean, sd = sim.mean(axis=0), sim.std(axis=0, ddof=1)
        assert abs(mean[0] - obs[0]) <= 4 * math.sqrt(obs[0] + obs[0] / 3) + 2, (kind, "calls", obs, mean)
        assert abs(mean[1] - obs[1]) <= 4 * (sd[1] + math.sqrt(obs[1] * 8 / 3)) + 5, (kind, "minutes", obs, mean)
    spent_obs = sum(t[0][2] for t in totals.values())
    spent_sim = sum(t[1][:, 2].mean() for t in totals.values())
    assert spent_obs > 0 and abs(spent_sim - spent_obs) <= 0.08 * spent_obs


def test_fit_command_writes_a_scenario_that_validates(report, tmp_path, capsys):
    out = tmp_path / "forecast" / "fitted.yaml"
    assert main(["fit", str(report), "--out", str(out), "--days", "120", "-q"]) == 0
    text = out.read_text()
    assert "95 % CI" in text and "rate class 2" in text
    assert (tmp_path / "forecast" / "fitted.fit.md").read_text().count("| `traffic.") > 10
    assert main(["validate", str(out), "-q"]) == 0
    doc = yaml.safe_load(text)
    assert doc["start"].isoformat() == "2026-03-02T00:00:00+00:00" and doc["days"] == 120   # the day after the report
    assert doc["policies"] == [{"name": "postpay", "billing": "postpay"}]
    # a second fit replaces the files fit wrote, without --force
    assert main(["fit", str(report), "--out", str(out), "--days", "30", "-q"]) == 0
    assert yaml.safe_load(out.read_text())["days"] == 30


def test_fit_never_replaces_the_users_own_file(report, tmp_path, capsys):
    """--out onto the user's own scenario (or beside a report fit did not write): exit 2 naming
    --out and --force, the files untouched; --force replaces them."""
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n")
    assert main(["fit", str(report), "--out", str(mine), "-q"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--force" in err and "Traceback" not in err
    assert mine.read_text() == "name: mine\n" and not (tmp_path / "mine.fit.md").exists()
    notes = tmp_path / "other.fit.md"
    notes.write_text("my notes")
    assert main(["fit", str(report), "--out", str(tmp_path / "other.yaml"), "-q"]) == 2
    assert notes.read_text() == "my notes" and not (tmp_path / "other.yaml").exists()
    assert main(["fit", str(report), "--out", str(mine), "-q", "--force"]) == 0
    assert mine.read_text().startswith("# Fitted by `run_sim.py fit`")


def _write_cdr(src: Path, dst: Path, keep) -> None:
    with src.open(newline="") as f, dst.open("w", newline="") as g:
        r, w = csv.reader(f), csv.writer(g)
        w.writerow(next(r))
        for row in r:
            if keep(row):
                w.writerow(row)


def test_bad_input_exits_2_with_a_clear_message(report, tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    _write_cdr(report, empty, lambda row: False)
    assert main(["fit", str(empty), "--out", str(tmp_path / "f.yaml")]) == 2
    assert "empty.csv" in capsys.readouterr().err
    one_day = tmp_path / "one-day.csv"
    _write_cdr(report, one_day, lambda row: row[15].startswith("2026-01-06"))
    assert main(["fit", str(one_day), "--out", str(tmp_path / "f.yaml")]) == 2
    assert "at least 7 days" in capsys.readouterr().err
    users = tmp_path / "users.csv"
    users.write_text("User principal name,Display name,Licenses\nnobody@contoso.com,No Body,Microsoft 365 E5\n")
    assert main(["fit", str(report), "--out", str(tmp_path / "f.yaml"), "--licences", str(users)]) == 2
    err = capsys.readouterr().err
    assert "users.csv" in err and "not in the licences file" in err
    assert main(["fit", str(report), "--out", str(tmp_path / "f.txt")]) == 2
    assert main(["fit", str(report), "--out", str(tmp_path / "f.yaml"), "--start", "next monday"]) == 2
    assert "--start" in capsys.readouterr().err
    assert main(["fit", str(report), "--out", str(tmp_path / "f.yaml"), "--days", "0"]) == 2
    assert "--days" in capsys.readouterr().err
    assert not (tmp_path / "f.yaml").exists()


def test_licences_from_the_active_users_export(report, tmp_path):
    rows, _ = read_calls([report])
    calls = calls_of(rows)
    users = tmp_path / "users.csv"
    with users.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Display name", "User principal name", "Usage location", "Licenses"])
        for u in calls.users:
            w.writerow([u.display_name, u.upn, "US", "Microsoft 365 E5+Microsoft Teams Domestic Calling Plan+Communications Credits"])
        w.writerow(["Quiet One", "quiet@contoso.com", "GB", "Microsoft Teams Phone Standard+Microsoft Teams Domestic Calling Plan"])
    from sim.analysis.fit.licences import read_active_users
    f = fit(calls, (users, read_active_users(users)))
    assert {tuple(u.licences) for u in f.users if u.upn != "quiet@contoso.com"} == {
        ("E5", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS")}
    quiet = next(u for u in f.users if u.upn == "quiet@contoso.com")
    assert quiet.licences == ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"] and quiet.country == "GB"
    assert quiet.calls == 0 and quiet.rate_class == 0           # a user with no calls: the lowest class


@pytest.mark.parametrize("caps, kinds, credits, expected", [
    ({"MCOPSTN1": 3}, {"user_out": 3}, False, ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"]),
    ({"MCOPSTN1": 3}, {"user_out": 3}, True, ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]),
    ({"MCOPSTNPP": 2}, {"user_out": 2}, True, ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"]),
    ({"MCOPSTN2": 1, "MCOMEETADD": 1}, {"user_out": 1, "conf_out": 1}, False,
     ["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN", "AUDIO_CONFERENCING"]),
    ({"MCOMEETADD": 1}, {"conf_in_toll": 1}, True, ["AUDIO_CONFERENCING", "COMMUNICATIONS_CREDITS"]),
])
def test_licence_inference_table(caps, kinds, credits, expected):
    from collections import Counter
    u = ReportUser("a@x.com", capabilities=Counter(caps), kinds=Counter(kinds))
    assert infer(u, credits) == expected


def test_a_toll_free_only_report_still_fits(report, tmp_path):
    only = tmp_path / "toll-free.csv"
    _write_cdr(report, only, lambda row: row[8] == "ucap_in")
    out = tmp_path / "tf.yaml"
    assert main(["fit", str(only), "--out", str(out), "-q"]) == 0
    doc = yaml.safe_load(out.read_text())
    assert doc["tenant"]["users"] == [] and doc["tenant"]["toll_free_numbers"][0]["calls_per_day"] > 0
    assert main(["validate", str(out), "-q"]) == 0


@pytest.mark.parametrize("caller_id", ["+12125550147", "+1206555010"], ids=["one shared line", "not a possible number"])
def test_users_caller_ids_that_cannot_be_their_numbers(report, tmp_path, caller_id):
    """Every user's outbound calls show the same Caller ID (a shared line, a caller-ID policy), or
    one that is no possible number: the fitted scenario gives those users no number (`run` draws
    one), and it validates; it used to copy them into `number:`, which `validate` refuses."""
    def rewrite(row):
        if row[8] == "user_out":
            row[7] = caller_id
        return True

    shared = tmp_path / "shared.csv"
    _write_cdr(report, shared, rewrite)
    out = tmp_path / "f.yaml"
    assert main(["fit", str(shared), "--out", str(out), "-q"]) == 0
    users = yaml.safe_load(out.read_text())["tenant"]["users"]
    assert len(users) > 1 and not any("number" in u for u in users)
    assert main(["validate", str(out), "-q"]) == 0


def test_meeting_rows_without_a_upn_are_left_out_and_counted(report, tmp_path):
    """conf_in / conf_out rows with an empty UPN (an audit's export) made a user with UPN '' and
    the fitted scenario failed validation, blaming --out. They have no organiser to give the calls
    to: not fitted, counted by call type in the report."""
    def blank(row):
        if row[8] in ("conf_in", "conf_out"):
            row[5] = ""
        return True

    path = tmp_path / "no-upn.csv"
    _write_cdr(report, path, blank)
    out = tmp_path / "f.yaml"
    assert main(["fit", str(path), "--out", str(out), "-q"]) == 0
    assert main(["validate", str(out), "-q"]) == 0
    notes = (tmp_path / "f.fit.md").read_text()
    assert "`conf_in without a UPN`" in notes and "`conf_out without a UPN`" in notes
    assert all(u["upn"] for u in yaml.safe_load(out.read_text())["tenant"]["users"])
