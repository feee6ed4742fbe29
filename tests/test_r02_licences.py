"""R2 Licences: validity rules (bad mixes exit 2) and what each licence lets a user do.

Golden cases: each scenario is tiny and its expected outcome is worked by hand
from billing-rules.md R2, R3 and R6 (block reasons).
"""
import pytest

from models.licences import LicenceError, LicenceSet
from tests.billing_cases import (CONF, CONF_CREDITS, PLAN, PLAN_CREDITS, call, run_case, run_cli, user,
                                 write_case)

START = "2026-01-05T10:00:00Z"
POLICY = [{"name": "p", "initial_funds": "20.00"}]


def _invalid_case(tmp_path, licences, where="users"):
    users = [user("alice", "US", PLAN_CREDITS)]
    extra = None
    if where == "users":
        users.append(user("bob", "US", licences))
    else:
        extra = {"generate": [{"count": 3, "country": "US", "licences": licences}]}
    return write_case(tmp_path, users=users, calls=[call("c1", "alice", START, 60, to="US")],
                      policies=POLICY, tenant_extra=extra)


INVALID = [
    pytest.param(["COMMUNICATIONS_CREDITS"], "add-on", id="credits_alone"),
    pytest.param(["PHONE_SYSTEM", "COMMUNICATIONS_CREDITS"], "add-on", id="credits_with_phone_system_only"),
    pytest.param(["DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"], "needs PHONE_SYSTEM or E5",
                 id="plan_without_phone_system"),
    pytest.param(["AUDIO_CONFERENCING", "DOMESTIC_CALLING_PLAN"], "needs PHONE_SYSTEM or E5",
                 id="plan_with_conferencing_but_no_phone_system"),
    pytest.param(["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN", "DOMESTIC_INTERNATIONAL_CALLING_PLAN"],
                 "at most one Calling Plan", id="two_plans"),
    pytest.param(["E5", "DOMESTIC_CALLING_PLAN_120", "PAY_AS_YOU_GO_CALLING_PLAN"], "at most one Calling Plan",
                 id="two_plans_with_e5"),
]


@pytest.mark.parametrize("licences, expected", INVALID)
def test_R2_invalid_licence_mix_exits_2_naming_the_key(tmp_path, licences, expected):
    """R2: credits alone, a plan without Phone System (or E5), two plans -> bad input.

    `run` and `validate` both exit 2 with one message naming the scenario file and the
    key path tenant.users.1.licences (bob is the second user); nothing is written, and an
    earlier results folder at --out is left as it was.
    """
    path = _invalid_case(tmp_path, licences)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "keep.txt").write_text("earlier results")
    code, _, err = run_cli("run", str(path), "--out", str(out), "-q", "--workers", "1")
    assert code == 2
    assert "scenario.yaml" in err and "tenant.users.1.licences" in err
    assert expected in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "summary.json"]
    assert (out / "keep.txt").read_text() == "earlier results"
    code, _, err = run_cli("validate", str(path))
    assert code == 2 and "tenant.users.1.licences" in err and expected in err


@pytest.mark.parametrize("licences, expected", INVALID[:1] + INVALID[2:3] + INVALID[4:5])
def test_R2_invalid_licence_mix_in_generated_group_exits_2(tmp_path, licences, expected):
    """R2 applies to generated users too: the key path is tenant.generate.0.licences."""
    path = _invalid_case(tmp_path, licences, where="generate")
    code, _, err = run_cli("validate", str(path))
    assert code == 2
    assert "tenant.generate.0.licences" in err and expected in err


@pytest.mark.parametrize("licences", [
    ["AUDIO_CONFERENCING", "COMMUNICATIONS_CREDITS"],          # add-on on conferencing
    ["E5", "COMMUNICATIONS_CREDITS"],                           # add-on on E5 (gives conferencing)
    ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_240", "COMMUNICATIONS_CREDITS"],   # add-on on a plan
    ["E5", "DOMESTIC_INTERNATIONAL_CALLING_PLAN"],              # E5 counts as Phone System
    ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN", "COMMUNICATIONS_CREDITS"],
    ["E5"],
    ["PHONE_SYSTEM"],
])
def test_R2_valid_licence_mixes_are_accepted(tmp_path, licences):
    """R2: the credits add-on is valid with conferencing, E5 or any plan; E5 stands in for Phone System."""
    LicenceSet.of(licences)                      # the model accepts it ...
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS), user("bob", "US", licences)],
                      calls=[call("c1", "alice", START, 60, to="US")], policies=POLICY)
    code, out, err = run_cli("validate", str(path))
    assert code == 0, err                        # ... and so does the scenario loader
    assert out.rstrip().endswith("ok")


def test_R2_licence_set_unit_rules():
    """R2 at model level: what each mix gives."""
    e5 = LicenceSet.of(["E5"])
    assert (e5.phone_system, e5.audio_conferencing, e5.credits, e5.calling_plan) == (True, True, False, None)
    assert not e5.can_place_pstn_calls                        # no Calling Plan
    e5_plan = LicenceSet.of(["E5", "DOMESTIC_CALLING_PLAN", "COMMUNICATIONS_CREDITS"])
    assert e5_plan.can_place_pstn_calls and e5_plan.credits and e5_plan.audio_conferencing
    with pytest.raises(LicenceError):
        LicenceSet.of(["COMMUNICATIONS_CREDITS"])
    with pytest.raises(LicenceError):
        LicenceSet.of(["PAY_AS_YOU_GO_CALLING_PLAN"])
    with pytest.raises(LicenceError):
        LicenceSet.of(["E5", "DOMESTIC_CALLING_PLAN", "DOMESTIC_CALLING_PLAN_120"])


def test_R2_e5_users_still_need_the_credits_licence_to_spend_credits(tmp_path):
    """R2 last bullet, R5, R6: E5 gives conferencing but not the right to spend credits.

    Rate card: outbound * 0.1000/min. Balance 20.00. AE is not in Zone A, so a
    meeting dial-out to AE can only be paid from credits.
      c1 erin (E5, no credits licence) dials out to AE for 120 s: blocked no_credits_licence,
         minutes lost 2.00, nothing debited.
      c2 fred (E5 + credits) dials out to AE for 120 s: 2 increments x 0.1000 = 0.2000,
         CDR Charge 0.20, Capability MCOPSTNPP; balance 19.8000.
      c3 gina (E5 + Domestic Calling Plan, no credits) calls GB (international, no pool
         for MCOPSTN1): blocked no_credits_licence.
    """
    path = write_case(tmp_path, users=[user("erin", "US", ["E5"]), user("fred", "US", ["E5", "COMMUNICATIONS_CREDITS"]),
                                       user("gina", "US", ["E5", "DOMESTIC_CALLING_PLAN"])],
                      calls=[call("c1", "erin", START, 120, call_type="conf_out", to="AE", conference="m1"),
                             call("c2", "fred", "2026-01-05T11:00:00Z", 120, call_type="conf_out", to="AE",
                                  conference="m2"),
                             call("c3", "gina", "2026-01-05T12:00:00Z", 60, to="GB")],
                      policies=POLICY)
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    p = res["p"]
    assert [(d["usage_id"], d["payer"], d["call_kind"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("c1", "erin@contoso.com", "conf_out", "no_credits_licence", "2.00"),
        ("c3", "gina@contoso.com", "user_out", "no_credits_licence", "1.00"),
    ]
    assert set(p.cdr) == {"c2"}
    assert (p.cdr["c2"]["Charge"], p.cdr["c2"]["Capability"], p.cdr["c2"]["Duration Seconds"]) == ("0.20", "MCOPSTNPP", "120")
    assert p.ledger_tuples("kind", "amount", "balance_after", "usage_id")[1:] == [
        ("debit", "0.1000", "19.9000", "c2"), ("debit", "0.1000", "19.8000", "c2")]
    assert p.metrics["calls_blocked"] == 2 and p.metrics["users_affected"] == 2


def test_R2_pstn_calls_need_phone_system_and_a_calling_plan(tmp_path):
    """R2/R6 reason no_licence: a call kind needs a licence the user lacks.

      c1 carol (AUDIO_CONFERENCING + credits, no Phone System) calls US: no_licence.
      c2 erin (E5 + credits: Phone System but no Calling Plan) calls US: no_licence
         (reading: a user PSTN call needs a Calling Plan, PAYG included; R2 table).
      c3 dave (Phone System + plan + credits, no conferencing) dials out of a meeting: no_licence.
      c4 dave organises a meeting with a toll-free dial-in: no_licence (conferencing needed).
      c5 alice (plan only, no credits) calls US: pool funds it, connected, Capability MCOPSTN1.
    Blocked calls lose their whole intended duration: 1, 2, 3, 4 minutes.
    """
    path = write_case(tmp_path, users=[user("carol", "US", CONF_CREDITS), user("erin", "US", ["E5", "COMMUNICATIONS_CREDITS"]),
                                       user("dave", "US", PLAN_CREDITS), user("alice", "US", PLAN)],
                      calls=[call("c1", "carol", START, 60, to="US"),
                             call("c2", "erin", "2026-01-05T10:10:00Z", 120, to="US"),
                             call("c3", "dave", "2026-01-05T10:20:00Z", 180, call_type="conf_out", to="US",
                                  conference="m1"),
                             call("c4", "dave", "2026-01-05T10:30:00Z", 240, call_type="conf_in", caller="+12065550111",
                                  dest="+18885550100", number_type="toll-free", conference="m2"),
                             call("c5", "alice", "2026-01-05T10:40:00Z", 60, to="US")],
                      policies=POLICY, toll_free=True)
    res = run_case(path)
    assert res.exit_code == 0, res.stderr
    p = res["p"]
    assert [(d["usage_id"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("c1", "no_licence", "1.00"), ("c2", "no_licence", "2.00"), ("c3", "no_licence", "3.00"),
        ("c4", "no_licence", "4.00")]
    assert set(p.cdr) == {"c5"} and p.cdr["c5"]["Capability"] == "MCOPSTN1"
    assert p.metrics["minutes_lost"] == 10 and p.metrics["credits_spent"] == 0


def test_R2_block_reason_order_no_licence_before_dialout_policy(tmp_path):
    """R6: first failing rule wins. carol lacks Phone System *and* has dial-out policy none:
    the reason is no_licence, not dialout_policy."""
    path = write_case(tmp_path, users=[user("carol", "US", CONF_CREDITS, dialout_policy="none")],
                      calls=[call("c1", "carol", START, 60, to="US")], policies=POLICY)
    res = run_case(path)
    assert [d["reason"] for d in res["p"].disruptions] == ["no_licence"]


def test_R2_conferencing_alone_can_organise_but_not_spend(tmp_path):
    """R2/R5: AUDIO_CONFERENCING without credits: Zone A dial-out uses the pool (60 min);
    its Capability is MCOMEETADD and no credits move."""
    path = write_case(tmp_path, users=[user("olga", "GB", CONF)],
                      calls=[call("c1", "olga", START, 90, call_type="conf_out", to="DE", conference="m1")],
                      policies=POLICY)
    p = run_case(path)["p"]
    assert p.cdr["c1"]["Capability"] == "MCOMEETADD" and p.cdr["c1"]["Charge"] == "0.00"
    assert p.metrics["pool_minutes_used"] == 2 and p.metrics["credits_spent"] == 0


def test_R2_free_calls_still_need_the_licence_of_their_kind(tmp_path):
    """R2/R6 no_licence also applies to the free kinds, except emergency (R3: never blocked).

    Replayed under a licence mix that lacks what the call kind needs:
      i1 carol (conferencing + credits, no Phone System) receives a call on her number:
         blocked no_licence ('PHONE_SYSTEM: needed for any user PSTN call'; reading: like
         user_out, a user's own number comes with a Calling Plan, so erin below too).
      i2 erin (E5 only: Phone System, no Calling Plan) receives a call: blocked no_licence.
      i3 dave (plan + credits, no conferencing) is the organiser of a toll dial-in: blocked
         no_licence ('AUDIO_CONFERENCING: may organise dial-in meetings').
      e1 erin dials 911: connected, free.
      i4 olga (conferencing) organises a toll dial-in: connected, free, MCOMEETADD.
    Bug found: free kinds skipped every licence check, so i1-i3 connected.
    """
    path = write_case(tmp_path, users=[user("carol", "US", CONF_CREDITS), user("erin", "US", ["E5"]),
                                       user("dave", "US", PLAN_CREDITS), user("olga", "US", CONF)],
                      calls=[call("i1", "carol", START, 60, call_type="user_in", caller="+12065550111",
                                  dest="+12065550100", number_type="user"),
                             call("i2", "erin", "2026-01-05T10:10:00Z", 120, call_type="user_in",
                                  caller="+12065550111", dest="+12065550101", number_type="user"),
                             call("i3", "dave", "2026-01-05T10:20:00Z", 180, call_type="conf_in",
                                  caller="+12065550111", dest="+12065550199", number_type="service", conference="m1"),
                             call("e1", "erin", "2026-01-05T10:30:00Z", 60, call_type="emergency_out", dest="911"),
                             call("i4", "olga", "2026-01-05T10:40:00Z", 300, call_type="conf_in",
                                  caller="+12065550111", dest="+12065550199", number_type="service", conference="m2")],
                      policies=POLICY)
    p = run_case(path)["p"]
    assert [(d["usage_id"], d["call_kind"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("i1", "user_in", "no_licence", "1.00"), ("i2", "user_in", "no_licence", "2.00"),
        ("i3", "conf_in_toll", "no_licence", "3.00")]
    assert {k: (r["Charge"], r["Capability"]) for k, r in p.cdr.items()} == {"e1": ("0.00", ""), "i4": ("0.00", "MCOMEETADD")}
    assert p.debits() == []
