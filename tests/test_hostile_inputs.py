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
    # shaped like YAML timestamps, but no real instant: ValueError, exit 1, no file or line named
    (SCENARIO.replace("start: '2026-01-01T00:00:00Z'", "start: 2027-02-29T00:00:00Z"),
     ["scenario.yaml:2:8", "'2027-02-29T00:00:00Z' is not a real date or time (day is out of range for month)"]),
    (SCENARIO.replace("start: '2026-01-01T00:00:00Z'", "start: 2026-01-01T00:00:00+25:00"),
     ["scenario.yaml:2:8", "its UTC offset is not within 24 hours"]),
    (SCENARIO.replace("name: bad-input", "name: 2026-02-30"), ["scenario.yaml:1:7", "'2026-02-30' is not a real date"]),
    (SCENARIO.replace("start: '2026-01-01T00:00:00Z'", "start: 2027-01-01T00:00:00+05:99"),
     ["scenario.yaml:2:8", "offset's minutes are past 59"]),
    (SCENARIO.replace("days: 31", "da\u200bys: 31"),
     ["da\\u200bys: unknown key `da\\u200bys` (it holds an invisible character); did you mean `days`?"]),
], ids=["NUL byte", "deep nesting", "5000-digit number", "29 February 2027", "offset +25:00", "a date-shaped name", "offset +05:99",
        "a zero-width space in a key"])
def test_malformed_yaml(tmp_path, capsys, raw, expect):
    err = validate_bad(capsys, setup(tmp_path, raw_scenario=raw))
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_scenario_that_is_not_a_regular_file(tmp_path, capsys):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)                     # nobody writes to it: it used to block for ever, it reads as empty
    assert "expected a YAML mapping" in validate_bad(capsys, fifo)
    assert "more than 256 MB from a pipe or device" in validate_bad(capsys, Path("/dev/zero"))    # would never end
    assert "it is a folder" in validate_bad(capsys, tmp_path)


def test_a_scenario_from_a_pipe_is_read(tmp_path, capsys):
    """`run_sim.py validate <(...)` (a pipe whose writer wrote and closed: /dev/fd/N) works, as it
    did before FIFOs were guarded."""
    text = setup(tmp_path).read_text().replace("rates.csv", str(tmp_path / "rates.csv")).replace(
        "report.csv", str(tmp_path / "report.csv"))
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, text.encode())          # a scenario is far below a pipe's buffer
        os.close(write_end)
        assert main(["validate", f"/dev/fd/{read_end}", "-q"]) == 0, capsys.readouterr().err
    finally:
        os.close(read_end)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("key,value,expect", [
    ("policies.0.payment", {"delay_minutes": INF}, ["policies.0.payment.delay_minutes", "finite"]),
    ("policies.0.payment", {"retry_minutes": INF}, ["policies.0.payment.retry_minutes", "finite"]),
    ("traffic", {"international_destinations": {"GB": NAN}}, ["traffic.international_destinations.GB", "finite"]),
    ("traffic", {"toll_free_origins": {"US": NAN}}, ["traffic.toll_free_origins.US", "finite"]),
    ("traffic", {"call_minutes": {"distribution": "empirical", "quantiles": [NAN, 1]}},
     ["traffic.call_minutes.quantiles.0", "finite"]),
    ("traffic", {"weekly_profile": [INF] + [1] * 167}, ["traffic.weekly_profile", "finite"]),
    ("traffic", {"weekly_profile": [1e308] * 168}, ["traffic.weekly_profile", "finite"]),
    ("traffic", {"user_outbound_calls_per_day": 1e308}, ["traffic.user_outbound_calls_per_day", "less than"]),
    ("traffic", {"meetings_per_organiser_per_day": INF}, ["traffic.meetings_per_organiser_per_day", "finite"]),
], ids=["delay inf", "retry inf", "destination nan", "origin nan", "quantile nan", "profile inf", "profile 1e308",
        "rate 1e308", "meetings inf"])
def test_nan_inf_and_huge_numbers_are_refused_at_their_key(tmp_path, capsys, key, value, expect):
    """They passed `ge=0` and then overflowed (exit 1), warned from numpy, or silently gave NaN weights."""
    doc = with_(key, value)
    if key == "traffic":
        doc = {**doc, "traffic": value}        # synthetic traffic instead of the replay
    err = validate_bad(capsys, setup(tmp_path, doc))
    for fragment in expect:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("key,value,expect", [
    ("policies.0.initial_funds", 10**15, ["policies.0.initial_funds", "at most 200000000000000.0000"]),
    ("policies.0.initial_funds", "1e999", ["policies.0.initial_funds", "at most"]),
    ("switches", {"minimum_purchase": "1e999"}, ["switches.minimum_purchase", "at most"]),
    ("rates", {"outbound": {"US": "1e30"}}, ["rates.outbound.US.per_minute", "at most 1000.0000"]),
], ids=["funds 1e15", "funds 1e999", "minimum 1e999", "inline rate 1e30"])
def test_amounts_past_what_the_ledger_holds(tmp_path, capsys, key, value, expect):
    """They overflowed the engine's 64-bit sums (OverflowError, exit 1)."""
    err = validate_bad(capsys, setup(tmp_path, with_(key, value)))
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_rate_card_amount_past_what_the_ledger_holds(tmp_path, capsys):
    rates = "currency,USD\nkind,country,per_minute,connection_fee\noutbound,US," + "9" * 5000 + ",0\n"
    err = validate_bad(capsys, setup(tmp_path, BASE, rates=rates))
    assert "rates.csv:3: per_minute: expected at most 1000.0000" in err and "5,000 characters" in err
    assert len(err) < 300


REPORT_CASES = [
    ("day 30 of February", {"Start Time": "2026-02-30T15:00:00Z"}, ["report.csv:2: Start Time", "not a real instant"]),
    ("hour 25", {"Start Time": "2026-01-05T25:00:00Z"}, ["report.csv:2: Start Time", "hour"]),
    ("offset +99:99", {"Start Time": "2026-01-05T15:00:00+99:99"}, ["report.csv:2: Start Time", "UTC offset"]),
    ("year 0", {"Start Time": "0000-01-05T15:00:00Z"}, ["report.csv:2: Start Time", "year 0"]),
    ("year 9999 shifted past the calendar", {"Start Time": "9999-12-31T23:59:59-05:00"},
     ["report.csv:2: Start Time", "out of range"]),
    ("End Time 31 April", {"End Time": "2026-04-31T10:00:00Z"}, ["report.csv:2: End Time", "not a real instant"]),
    ("5000-digit duration", {"Duration Seconds": "9" * 5000}, ["report.csv:2: Duration Seconds", "5,000 characters"]),
    ("superscript duration", {"Duration Seconds": "\u00b3"}, ["report.csv:2: Duration Seconds", "whole number"]),
    ("full-width duration", {"Duration Seconds": "\uff13\uff10\uff10"}, ["report.csv:2: Duration Seconds", "whole number"]),
    ("5000-digit charge", {"Charge": "9" * 5000}, ["report.csv:2: Charge", "5,000 characters"]),
    ("charge 1e999", {"Charge": "1e999"}, ["report.csv:2: Charge", "not an amount"]),
]


@pytest.mark.parametrize("case,cells,expect", REPORT_CASES, ids=[c[0] for c in REPORT_CASES])
def test_report_cells_that_crashed(tmp_path, capsys, case, cells, expect):
    """ValueError / OverflowError from datetime or int() (exit 1), or a full-width '３００' read as 300."""
    from tests.test_cli_errors import row
    err = validate_bad(capsys, setup(tmp_path, BASE, rows=[row(**cells)]))
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_report_header_naming_a_column_twice(tmp_path, capsys):
    """The second UPN column silently won."""
    from sim.inputs.reports.columns import COLUMNS_2025
    from tests.test_cli_errors import row
    header = ["UPN" if c == "Charge" else c for c in COLUMNS_2025]
    err = validate_bad(capsys, setup(tmp_path, BASE, header=header, rows=[row()]))
    assert "report.csv:1" in err and "'UPN' appears more than once" in err


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"value": ' + "[" * 100_000 + "]" * 100_000 + "}"],
                         ids=["array", "page"])
def test_graph_json_nested_too_deeply(tmp_path, capsys, text):
    """RecursionError, exit 1."""
    path = setup(tmp_path, BASE)
    (tmp_path / "report.csv").write_text(text)
    assert "nested too deeply" in validate_bad(capsys, path)


def test_report_that_is_not_a_regular_file(tmp_path, capsys):
    """/dev/zero was read until the process was killed."""
    path = setup(tmp_path, with_("traffic.replay", "/dev/zero"))
    assert "/dev/zero: cannot read the usage report: more than 256 MB from a pipe or device" in validate_bad(capsys, path)


def test_rate_card_field_past_the_csv_limit(tmp_path, capsys):
    """_csv.Error, exit 1."""
    rates = "currency,USD\nkind,country,per_minute,connection_fee\noutbound,US,0.02,0\noutbound,GB," + "1" * 200_000 + ",0\n"
    err = validate_bad(capsys, setup(tmp_path, BASE, rates=rates))
    assert "rates.csv:4" in err and "field limit" in err


@pytest.mark.parametrize("start,expect", [
    ("0001-01-01T00:00:00Z", ["start", "year from 1970"]),
    ("9999-12-31T00:00:00Z", ["start", "year from 1970"]),
    (12345, ["start", "ISO 8601", "12345"]),
], ids=["year 1", "year 9999", "a number"])
def test_start_out_of_range(tmp_path, capsys, start, expect):
    """Years 1 and 9999 overflowed the calendar (OverflowError, exit 1); 12345 was 1970-01-01T03:25:45."""
    err = validate_bad(capsys, setup(tmp_path, with_("start", start)))
    for fragment in expect:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
def test_fit_start_out_of_range(tmp_path, capsys, start):
    """9999-12-31 overflowed (exit 1); 0001-01-01 was blamed on a temporary file, not on --start."""
    report = Path(__file__).parent / "data" / "reports" / "export-2025.csv"
    err = bad(capsys, ["fit", str(report), "--out", str(tmp_path / "new" / "f.yaml"), "--start", start])
    assert err.startswith("error: --start: expected a year from 1970"), err
    assert not (tmp_path / "new").exists()           # refused before --out's folder is made


REPORT = Path(__file__).parent / "data" / "reports" / "export-2025.csv"
ACTIVE_USERS = "User principal name,Display name,Licenses,Usage location\nalice@contoso.com,Alice,Microsoft 365 E5,US\n"


@pytest.mark.parametrize("data,expect", [
    (ACTIVE_USERS.replace("Alice,", "Al\xefce,").encode("latin-1"), ["users.csv:2:", "not UTF-8"]),
    (ACTIVE_USERS.encode("utf-16"), ["users.csv:1:1", "not UTF-8"]),
    (ACTIVE_USERS.replace("Alice,", "A" * 200_000 + ",").encode(), ["users.csv", "field limit"]),
], ids=["Latin-1", "UTF-16", "200 kB field"])
def test_fit_licences_file_faults(tmp_path, capsys, data, expect):
    """UnicodeDecodeError / _csv.Error from the Active users export (exit 1)."""
    (tmp_path / "users.csv").write_bytes(data)
    err = bad(capsys, ["fit", str(REPORT), "--out", str(tmp_path / "f.yaml"), "--licences", str(tmp_path / "users.csv")])
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_fit_policies_file_not_utf8(tmp_path, capsys):
    """UnicodeDecodeError (exit 1)."""
    (tmp_path / "pol.yaml").write_bytes("policies:\n  - name: caf\xe9\n".encode("latin-1"))
    err = bad(capsys, ["fit", str(REPORT), "--out", str(tmp_path / "f.yaml"), "--policies", str(tmp_path / "pol.yaml")])
    assert "pol.yaml:2:" in err and "not UTF-8" in err


def test_fit_out_under_a_file(tmp_path, capsys):
    """FileExistsError from mkdir (exit 1); the file is left as it was."""
    (tmp_path / "afile").write_text("mine")
    err = bad(capsys, ["fit", str(REPORT), "--out", str(tmp_path / "afile" / "f.yaml")])
    assert err.startswith("error: --out:") and "afile" in err
    assert (tmp_path / "afile").read_text() == "mine"


SWEEP = {"base": "p", "grid": {"initial_funds": [50, 100]}}


@pytest.mark.parametrize("command", [["run"], ["sweep"], ["optimise", "--minimise", "credits_purchased",
                                                           "--subject-to", "calls_blocked<=1"]])
@pytest.mark.parametrize("option", [["-r", "0"], ["--max-replications", "0"], ["-r", "1000000"],
                                    ["--max-replications", "1000000000"]],
                         ids=["-r 0", "--max-replications 0", "-r a million", "--max-replications a billion"])
def test_replications_out_of_range_are_refused(tmp_path, capsys, command, option):
    """0 was read as 'not given' and ran the default 10 (sweep) / 8 or 160 (optimise); a million
    queued millions of tasks for days and would not stop on SIGTERM."""
    if command == ["sweep"] and option[0] == "--max-replications":
        pytest.skip("sweep has no --max-replications")
    path = setup(tmp_path, {**BASE, "sweep": SWEEP})
    extra = ["--precision", "5%"] if command == ["run"] and option[0] == "--max-replications" else []
    err = bad(capsys, [*command, str(path), "--out", str(tmp_path / "out"), *option, *extra])
    assert f"error: {'--replications' if option[0] == '-r' else option[0]}: expected a whole number from 1 to 10,000" in err
    assert not (tmp_path / "out").exists()


def test_sweep_range_past_decimal_arithmetic(tmp_path, capsys):
    """decimal.Overflow (exit 1)."""
    sweep = {"base": "p", "grid": {"initial_funds": {"from": "1e999999", "to": "1e999999", "step": 1}}}
    err = bad(capsys, ["sweep", str(setup(tmp_path, {**BASE, "sweep": sweep})), "--out", str(tmp_path / "out")])
    assert "sweep.grid.initial_funds" in err and "finite numbers below" in err


@pytest.mark.parametrize("key,value,expect", [
    ("days", True, ["days: expected a number, got a boolean"]),
    ("policies.0.initial_funds", True, ["policies.0", "initial_funds: expected a number, got a boolean"]),
    ("traffic", {"international_destinations": {"GB": True}}, ["international_destinations.GB: expected a number"]),
    ("tenant.users.0.number", "hello", ["tenant.users.0.number", "E.164"]),
    ("tenant.users.0.number", "+1", ["tenant.users.0.number", "E.164"]),
    ("tenant.toll_free_numbers", [{"number": "+18885550100"}, {"number": "+1 888 555 0100"}],
     ["toll_free_numbers.1.number: +18885550100 is also toll_free_numbers.0.number"]),
    ("tenant.domain", "", ["tenant.domain", "expected a domain like contoso.com"]),
    ("tenant.domain", "a b", ["tenant.domain", "no spaces"]),
    ("policies.0.payment", {"delay_minutes": 1e300}, ["policies.0.payment.delay_minutes", "less than or equal to 10000000"]),
    ("policies.0.payment", {"retry_minutes": 1e12}, ["policies.0.payment.retry_minutes", "less than or equal to 10000000"]),
    ("switches", {"allowances": {"DOMESTIC_CALLING_PLAN": {"US": 10**30}}},
     ["switches.allowances.DOMESTIC_CALLING_PLAN.US", "less than or equal to 1000000000"]),
    ("switches", {"allowances": {"DOMESTIC_CALLING_PLAN": {"*": {"international": 10**30}}}},
     ["switches.allowances.DOMESTIC_CALLING_PLAN.*", "international", "less than or equal to 1000000000"]),
    ("tenant.generate", [{"count": 600_000, "country": "US", "licences": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"]}] * 2,
     ["tenant: generate: 1,200,001 users in all; a tenant has at most 1,000,000"]),
    ("switches", {"allowances": {"DOMESTIC_CALLING_PLAN": {"US": True}}},
     ["switches.allowances.DOMESTIC_CALLING_PLAN.US: expected a number, got a boolean"]),
], ids=["days true", "funds true", "destination weight true", "user number hello", "user number +1", "toll-free number twice", "empty domain",
        "domain with a space", "payment delay 1e300", "retry 1e12 minutes", "allowance 1e30", "allowance override 1e30",
        "1.2 M users in two groups", "allowance true"])
def test_values_that_were_silently_accepted(tmp_path, capsys, key, value, expect):
    """`days: true` ran 1 day; a user's number 'hello' went into the CDR as written; the same
    toll-free number twice made two services of one; an empty domain generated UPNs like x@."""
    err = validate_bad(capsys, setup(tmp_path, with_(key, value)))
    for fragment in expect:
        assert fragment in err, (fragment, err)


def test_a_sweep_value_listed_twice(tmp_path, capsys):
    """[50, 50.00] made two identical candidates (each run, compared, reported twice)."""
    path = setup(tmp_path, {**BASE, "sweep": {"base": "p", "grid": {"initial_funds": [50, 100, "50.00"]}}})
    err = bad(capsys, ["sweep", str(path), "-r", "2", "--out", str(tmp_path / "out")])
    assert "sweep.grid.initial_funds: values 1 and 3 (50 and 50.00) make the same policy" in err, err
    assert not (tmp_path / "out").exists()


def test_purchases_that_add_up_past_what_the_ledger_holds(tmp_path, capsys):
    """Each amount under the cap, but seven purchases of 199,999,999,999,999 overflowed the ledger's
    64-bit balance column mid-run (OverflowError, exit 1). Four (Jan 1 and three monthly top-ups
    in 90 days from Jan 1) still fit and run; an auto-recharge and a sweep candidate are checked
    alike."""
    big = "199999999999999"
    policy = {"name": "p", "initial_funds": big, "top_ups": [{"monthly": 1, "amount": big}]}
    err = validate_bad(capsys, setup(tmp_path, {**BASE, "days": 160, "policies": [policy]}))
    assert "policies.0: initial funds, top-ups and auto-recharge could hold 1399999999999993.0000 over 160 days" in err
    assert main(["validate", str(setup(tmp_path, {**BASE, "days": 90, "policies": [policy]}))]) == 0
    capsys.readouterr()
    # an auto-recharge lifts a balance just under its trigger by its amount (review: it crashed)
    recharging = dict(policy, auto_recharge={"trigger": big, "amount": big})
    err = validate_bad(capsys, setup(tmp_path, {**BASE, "days": 90, "policies": [recharging]}))
    assert "policies.0: initial funds, top-ups and auto-recharge could hold 1199999999999994.0000" in err, err
    sweep = {"base": "p", "grid": {"initial_funds": [20, big]}}         # 6 top-ups of 120,000,000,000,000
    base = {"name": "p", "initial_funds": 20, "top_ups": [{"monthly": 1, "amount": "120000000000000"}]}
    path = setup(tmp_path, {**BASE, "days": 160, "policies": [base], "sweep": sweep})
    err = bad(capsys, ["sweep", str(path), "-r", "2", "--out", str(tmp_path / "out")])
    assert "sweep.grid: candidate" in err and "could hold" in err, err


def test_a_geographic_number_listed_as_toll_free_is_run_with_a_warning(tmp_path, capsys):
    """+1 212 555 0100 is New York's: billed as toll-free (the scenario says so), but `validate`
    says it is not one by the numbering plan; +1 888 555 0100 raises nothing."""
    tf = [{"number": "+12125550100", "serves": "call_queue"}, {"number": "+18885550100", "serves": "call_queue"}]
    assert main(["validate", str(setup(tmp_path, with_("tenant.toll_free_numbers", tf)))]) == 0
    out = capsys.readouterr().out
    assert ("warning: tenant.toll_free_numbers.0.number +12125550100 is not a toll-free number in its country's "
            "numbering plan (fixed line or mobile)") in out
    assert "toll_free_numbers.1" not in out
