"""R3 Call kinds and who pays: free kinds, tenant-paid toll-free, the US/PR/CA domestic rule.

Every expected figure is worked by hand in the docstring from billing-rules.md.
"""
from decimal import Decimal

from tests.billing_cases import (CONF, CONF_CREDITS, NUMBER, PAYG_CREDITS, PLAN, PLAN_CREDITS, TOLL_FREE, call,
                                 run_case, toll_free_in, user, write_case)


def test_R3_user_inbound_is_free(tmp_path):
    """R3: a call in to a user's own number is free (unlimited incoming).

    alice (US, plan + credits), balance 20.00. c1: 300 s inbound from a GB caller.
    Connected 300 s, Charge 0.00, no debit, no pool minute used; Capability is the
    licence that covers it (MCOPSTN1); Call Direction Inbound, Number Type user.
    """
    path = write_case(tmp_path, users=[user("alice", "US", PLAN_CREDITS)],
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 300, call_type="user_in",
                                  caller=NUMBER["GB"], dest=NUMBER["US"], number_type="user")],
                      policies=[{"name": "p", "initial_funds": "20.00"}])
    p = run_case(path)["p"]
    row = p.cdr["c1"]
    assert (row["Duration Seconds"], row["Charge"], row["Connection Fee"], row["Capability"]) == ("300", "0.00", "0.00", "MCOPSTN1")
    assert (row["Call Type"], row["Call Direction"], row["Number Type"]) == ("user_in", "Inbound", "user")
    assert p.debits() == [] and p.metrics["pool_minutes_used"] == 0 and p.metrics["final_balance"] == Decimal("20")


def test_R3_emergency_is_free_and_never_blocked(tmp_path):
    """R3: emergency calls are always free and never blocked.

    No credits at all (no initial funds). Both callers would be blocked for any other call:
      c1 paul (PAYG + credits, dial-out policy none) dials 911 for 600 s;
      c2 erin (E5 only: no Calling Plan) dials 911 for 120 s.
    Both connect for their whole duration, Charge 0.00, ledger empty, no disruption, no
    balance_exhausted notification. The country of '911' is the caller's own (US).
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS, dialout_policy="none"), user("erin", "US", ["E5"])],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 600, call_type="emergency_out", dest="911"),
                             call("c2", "erin", "2026-01-05T10:05:00Z", 120, call_type="emergency_out", dest="911")],
                      policies=[{"name": "p"}])
    p = run_case(path)["p"]
    assert {k: (r["Duration Seconds"], r["Charge"], r["Call Type"], r["External Country"]) for k, r in p.cdr.items()} == {
        "c1": ("600", "0.00", "emergency_out", "US"), "c2": ("120", "0.00", "emergency_out", "US")}
    assert p.ledger == [] and p.disruptions == [] and p.notifications == []
    assert (p.metrics["calls_connected"], p.metrics["calls_blocked"]) == (2, 0)


def test_R3_toll_free_inbound_is_paid_by_the_tenant_at_the_origin_rate(tmp_path):
    """R3: toll-free inbound to a call queue is paid by the tenant from credits, at the
    toll-free rate of the caller's origin country, with no per-user licence.

    Rates toll_free_inbound: US 0.0500, CA 0.0800 (+ connection fee 0.0100). The only user
    holds no credits licence. Balance 20.00.
      c1 US caller 90 s  -> 2 increments x 0.0500 = 0.1000        balance 19.9500
      c2 CA caller 30 s  -> 1 increment 0.0800 + fee 0.0100 = 0.0900 in one debit  19.8100
    CDR: Number Type toll-free, Charge 0.10 / 0.08, Connection Fee 0.00 / 0.01, MCOPSTNPP,
    no UPN (the tenant pays), User Location = the toll-free number's country (US).
    """
    path = write_case(tmp_path, users=[user("alice", "US", PLAN)],
                      calls=[toll_free_in("c1", "2026-01-05T10:00:00Z", 90, "US"),
                             toll_free_in("c2", "2026-01-05T11:00:00Z", 30, "CA")],
                      policies=[{"name": "p", "initial_funds": "20.00"}], toll_free=True,
                      rates={"outbound": {"US": "0.0200"},
                             "toll_free_inbound": {"US": "0.0500", "CA": {"per_minute": "0.0800", "connection_fee": "0.0100"}}})
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "kind", "amount", "balance_after", "usage_id") == [
        ("2026-01-01T00:00:00Z", "purchase", "20.0000", "20.0000", ""),
        ("2026-01-05T10:00:00Z", "debit", "0.0500", "19.9500", "c1"),
        ("2026-01-05T10:01:00Z", "debit", "0.0500", "19.9000", "c1"),
        ("2026-01-05T11:00:00Z", "debit", "0.0900", "19.8100", "c2"),
    ]
    c1, c2 = p.cdr["c1"], p.cdr["c2"]
    assert (c1["Charge"], c1["Connection Fee"], c1["Capability"], c1["Number Type"], c1["UPN"]) == (
        "0.10", "0.00", "MCOPSTNPP", "toll-free", "")
    assert (c2["Charge"], c2["Connection Fee"], c2["External Country"], c2["User Location"]) == ("0.08", "0.01", "CA", "US")
    assert (c1["Call Type"], c1["Call Direction"], c1["Destination Number"]) == ("ucap_in", "Inbound", TOLL_FREE)
    assert p.metrics["credits_spent"] == Decimal("0.19")


def test_R3_toll_free_inbound_without_credits_is_blocked_for_the_tenant(tmp_path):
    """R3/R6: the balance must be able to pay toll-free inbound. Balance 0: the call is
    blocked insufficient_funds, payer 'tenant', and no *user* is affected (R11)."""
    path = write_case(tmp_path, users=[user("alice", "US", PLAN)],
                      calls=[toll_free_in("c1", "2026-01-05T10:00:00Z", 90, "US")],
                      policies=[{"name": "p"}], toll_free=True)
    p = run_case(path)["p"]
    assert [(d["usage_id"], d["payer"], d["call_kind"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("c1", "tenant", "toll_free_in", "insufficient_funds", "1.50")]
    assert p.metrics["users_affected"] == 0 and p.metrics["calls_blocked"] == 1
    assert p.notes() == [("2026-01-05T10:00:00Z", "balance_exhausted")]


def test_R3_meeting_dial_in_toll_free_paid_by_credits_toll_free(tmp_path):
    """R3: toll-free dial-in to a meeting: the organiser's tenant pays from credits at the
    origin's toll-free rate; toll (non toll-free) dial-in is free.

    Rates toll_free_inbound DE 0.1200. Balance 20.00.
      c1 toll-free dial-in from a DE caller, 61 s, organiser olga (conferencing + credits):
         2 increments x 0.1200 = 0.2400, Charge 0.24, MCOPSTNPP, Number Type toll-free.
      c2 the same from a DE caller, 61 s, organiser otto (conferencing, *no* credits licence):
         also charged 0.2400. Reading (ambiguity): R3 says toll-free service numbers
         draw on credits at tenant level with no per-user licence, and R6 exempts toll-free
         inbound from the credits licence, so a conference bridge's toll-free number does not
         need the organiser's credits licence.
      c3 toll dial-in (Number Type service) 600 s: free, Charge 0.00, Capability MCOMEETADD.
    Balance 20.0000 - 0.4800 = 19.5200.
    """
    path = write_case(tmp_path, users=[user("olga", "GB", CONF_CREDITS), user("otto", "GB", CONF)],
                      calls=[call("c1", "olga", "2026-01-05T10:00:00Z", 61, call_type="conf_in", caller=NUMBER["DE"],
                                  dest=TOLL_FREE, number_type="toll-free", conference="m1"),
                             call("c2", "otto", "2026-01-05T11:00:00Z", 61, call_type="conf_in", caller=NUMBER["DE"],
                                  dest=TOLL_FREE, number_type="toll-free", conference="m2"),
                             call("c3", "olga", "2026-01-05T12:00:00Z", 600, call_type="conf_in", caller=NUMBER["DE"],
                                  dest="+442071230000", number_type="service", conference="m3")],
                      policies=[{"name": "p", "initial_funds": "20.00"}], toll_free=True,
                      rates={"outbound": {"*": "0.0500"}, "toll_free_inbound": {"DE": "0.1200"}})
    p = run_case(path)["p"]
    got = {k: (r["Charge"], r["Capability"], r["Number Type"], r["Call Type"]) for k, r in p.cdr.items()}
    assert got == {"c1": ("0.24", "MCOPSTNPP", "toll-free", "conf_in"),
                   "c2": ("0.24", "MCOPSTNPP", "toll-free", "conf_in"),
                   "c3": ("0.00", "MCOMEETADD", "service", "conf_in")}
    assert [(d["amount"], d["usage_id"]) for d in p.debits()] == [("0.1200", "c1")] * 2 + [("0.1200", "c2")] * 2
    assert p.metrics["final_balance"] == Decimal("19.52")


def test_R3_us_pr_ca_domestic_rule(tmp_path):
    """R3: US and PR are one country; US/PR <-> CA count as domestic. R4: US and PR share a pool.

    Users (all plan + credits): us (US), pr (PR), ca (CA), gb (GB). Pools (MCOPSTN1):
    US = 2 users x 3000 = 6000 min (us + pr), CA = 3000, GB = 1200.
    Rates outbound: MX 0.0300, US 0.0200. Calls, 60 s each:
      u1 us->PR, u2 us->CA, u3 pr->US, u4 pr->CA : domestic, US pool (4 min)
      u5 ca->US, u6 ca->PR                       : domestic, CA pool (2 min)
      u7 us->MX                                  : international, credits 0.0300
      u8 gb->US                                  : international, credits 0.0200
      u9 gb->GB                                  : domestic, GB pool (1 min)
    pools.csv for 2026-01: US 6000/4/5996, CA 3000/2/2998, GB 1200/1/1199.
    """
    users = [user("us", "US", PLAN_CREDITS), user("pr", "PR", PLAN_CREDITS), user("ca", "CA", PLAN_CREDITS),
             user("gb", "GB", PLAN_CREDITS)]
    plan = [("u1", "us", "PR"), ("u2", "us", "CA"), ("u3", "pr", "US"), ("u4", "pr", "CA"), ("u5", "ca", "US"),
            ("u6", "ca", "PR"), ("u7", "us", "MX"), ("u8", "gb", "US"), ("u9", "gb", "GB")]
    calls = [call(u, who, f"2026-01-05T10:0{i}:00Z", 60, to=to) for i, (u, who, to) in enumerate(plan)]
    path = write_case(tmp_path, users=users, calls=calls, policies=[{"name": "p", "initial_funds": "20.00"}],
                      rates={"outbound": {"MX": "0.0300", "US": "0.0200", "*": "0.0500"}})
    p = run_case(path)["p"]
    dom = {k: r["Domestic/International"] for k, r in p.cdr.items()}
    assert dom == {"u1": "Domestic", "u2": "Domestic", "u3": "Domestic", "u4": "Domestic", "u5": "Domestic",
                   "u6": "Domestic", "u7": "International", "u8": "International", "u9": "Domestic"}
    cap = {k: r["Capability"] for k, r in p.cdr.items()}
    assert cap == {**{u: "MCOPSTN1" for u in ("u1", "u2", "u3", "u4", "u5", "u6", "u9")},
                   "u7": "MCOPSTNPP", "u8": "MCOPSTNPP"}
    assert [(d["amount"], d["usage_id"]) for d in p.debits()] == [("0.0300", "u7"), ("0.0200", "u8")]
    assert [(r["Country or region"], r["Capability"], r["Total minutes"], r["Minutes used"], r["Minutes available"])
            for r in p.pools] == [("CA", "MCOPSTN1", "3000", "2", "2998"), ("GB", "MCOPSTN1", "1200", "1", "1199"),
                                  ("US", "MCOPSTN1", "6000", "4", "5996")]


def test_R3_calls_to_toll_free_numbers_in_own_country_are_domestic(tmp_path):
    """R3: an outbound call to a toll-free number in the caller's own country is a domestic call.

    us (US, plan + credits) calls +1 800 555 0199 for 120 s: US pool, 2 minutes, Domestic,
    Charge 0.00. gb (GB, plan + credits) calls the same number: international, credits
    2 x 0.0200 = 0.0400 (rate outbound US 0.0200).
    """
    path = write_case(tmp_path, users=[user("us", "US", PLAN_CREDITS), user("gb", "GB", PLAN_CREDITS)],
                      calls=[call("t1", "us", "2026-01-05T10:00:00Z", 120, to="US_TOLL_FREE"),
                             call("t2", "gb", "2026-01-05T11:00:00Z", 120, to="US_TOLL_FREE")],
                      policies=[{"name": "p", "initial_funds": "20.00"}], rates={"outbound": {"US": "0.0200"}})
    p = run_case(path)["p"]
    assert (p.cdr["t1"]["Domestic/International"], p.cdr["t1"]["Capability"], p.cdr["t1"]["Charge"]) == (
        "Domestic", "MCOPSTN1", "0.00")
    assert (p.cdr["t2"]["Domestic/International"], p.cdr["t2"]["Capability"], p.cdr["t2"]["Charge"]) == (
        "International", "MCOPSTNPP", "0.04")
    assert p.metrics["pool_minutes_used"] == 2


def test_R3_domestic_flag_of_inbound_calls_follows_the_users_country(tmp_path):
    """R3/R12: Domestic/International is judged from the user's (organiser's) country, with the
    US/PR/CA rule, for inbound calls too (the report: 'based on the user's location').

    alice (US, plan): i1 from a GB caller -> International; i2 from a CA caller -> Domestic.
    olga (GB, conferencing + credits): toll dial-in from a DE caller -> International, toll-free
    dial-in from a GB caller -> Domestic. All free or charged as before (j2 0.1000 x 1).
    Bug found: every inbound call was labelled Domestic.
    """
    inbound = dict(call_type="user_in", dest=NUMBER["US"], number_type="user")
    path = write_case(tmp_path, users=[user("alice", "US", PLAN), user("olga", "GB", CONF_CREDITS)],
                      calls=[call("i1", "alice", "2026-01-05T10:00:00Z", 60, caller=NUMBER["GB"], **inbound),
                             call("i2", "alice", "2026-01-05T10:10:00Z", 60, caller=NUMBER["CA"], **inbound),
                             call("j1", "olga", "2026-01-05T10:20:00Z", 60, call_type="conf_in", caller=NUMBER["DE"],
                                  dest="+442071230000", number_type="service", conference="m1"),
                             call("j2", "olga", "2026-01-05T10:30:00Z", 60, call_type="conf_in", caller=NUMBER["GB"],
                                  dest=TOLL_FREE, number_type="toll-free", conference="m2")],
                      policies=[{"name": "p", "initial_funds": "20.00"}], toll_free=True)
    p = run_case(path)["p"]
    assert {k: r["Domestic/International"] for k, r in p.cdr.items()} == {
        "i1": "International", "i2": "Domestic", "j1": "International", "j2": "Domestic"}
    assert [(d["amount"], d["usage_id"]) for d in p.debits()] == [("0.1000", "j2")]
