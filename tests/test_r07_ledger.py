"""R7 The credit ledger: lots, 12-month expiry (31 Jan, 29 Feb), soonest-expiring first,
forfeiture, the journal and the minimum purchase.

Expected journals are worked by hand in the docstrings (billing-rules.md R7, R9).
"""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from models.ledger import DEBIT, EXPIRE, PURCHASE, Ledger
from models.timeutil import Clock, add_months
from tests.billing_cases import PAYG_CREDITS, call, run_case, run_cli, user, write_case

RATE_10 = {"outbound": {"*": "0.1000"}}
UTC = timezone.utc


def test_R7_lot_bought_31_jan_expires_31_jan_next_year(tmp_path):
    """R7: a lot bought 2026-01-31T00:00Z expires 2027-01-31T00:00Z; its remainder is forfeited;
    a debit at the expiry instant draws on the next lot, never the expiring one.

    Start 2026-01-31, 367 days. Rate 0.1000. paul (PAYG + credits).
      2026-01-31 00:00  purchase 20.0000 (lot 1, initial funds)      balance 20.0000
      2026-03-01 00:00  purchase 20.0000 (lot 2, top-up; expires 2027-03-01, after the horizon)  40.0000
      2026-06-01 10:00  debit 0.1000 from lot 1 (c1, 60 s)          39.9000
      2027-01-31 00:00  expire 19.9000 lot 1                        20.0000
      2027-01-31 00:00  debit 0.1000 from lot 2 (c2, 60 s, starts at the expiry instant)  19.9000
    Metrics: purchased 40, spent 0.2, expired 19.9, final 19.9: 40 = 0.2 + 19.9 + 19.9.
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)], start="2026-01-31T00:00:00Z", days=367,
                      calls=[call("c1", "paul", "2026-06-01T10:00:00Z", 60, to="US"),
                             call("c2", "paul", "2027-01-31T00:00:00Z", 60, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.00",
                                 "top_ups": [{"at": "2026-03-01T00:00:00Z", "amount": "20.00"}]}],
                      rates=RATE_10)
    p = run_case(path)["p"]
    assert p.ledger_tuples() == [
        ("2026-01-31T00:00:00Z", "purchase", "20.0000", "20.0000", "1", "", "initial funds"),
        ("2026-03-01T00:00:00Z", "purchase", "20.0000", "40.0000", "2", "", "top-up"),
        ("2026-06-01T10:00:00Z", "debit", "0.1000", "39.9000", "1", "c1", ""),
        ("2027-01-31T00:00:00Z", "expire", "19.9000", "20.0000", "1", "", ""),
        ("2027-01-31T00:00:00Z", "debit", "0.1000", "19.9000", "2", "c2", ""),
    ]
    m = p.metrics
    assert (m["credits_purchased"], m["credits_spent"], m["credits_expired"], m["final_balance"]) == (
        Decimal("40"), Decimal("0.2"), Decimal("19.9"), Decimal("19.9"))
    assert m["credits_purchased"] == m["credits_spent"] + m["credits_expired"] + m["final_balance"]


def test_R7_lot_bought_29_feb_expires_28_feb_next_year(tmp_path):
    """R7: a lot bought 2028-02-29T00:00Z expires 2029-02-28T00:00Z (12 calendar months,
    clamped to the month's last day), not 1 March.

    Start 2028-02-29, 366 days (to 2029-03-01). Initial funds 20.00, rate 0.1000.
    c1 starts 2029-02-27T23:59:30Z for 120 s:
      23:59:30  debit 0.1000 from lot 1                   balance 19.9000
      2029-02-28T00:00:00Z  expire 19.9000 lot 1          balance 0.0000 -> balance_exhausted
      00:00:30  no funds -> c1 cut, 60 s connected, minutes lost 1.00
    Metrics: spent 0.1, expired 19.9, final 0; hours_exhausted = 24 (to the horizon 2029-03-01).
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)], start="2028-02-29T00:00:00Z", days=366,
                      calls=[call("c1", "paul", "2029-02-27T23:59:30Z", 120, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.00"}], rates=RATE_10)
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "kind", "amount", "balance_after", "lot_id") == [
        ("2028-02-29T00:00:00Z", "purchase", "20.0000", "20.0000", "1"),
        ("2029-02-27T23:59:30Z", "debit", "0.1000", "19.9000", "1"),
        ("2029-02-28T00:00:00Z", "expire", "19.9000", "0.0000", "1"),
    ]
    assert p.notes() == [("2029-02-28T00:00:00Z", "balance_exhausted")]
    assert [(d["time"], d["reason"], d["minutes_lost"]) for d in p.disruptions] == [
        ("2029-02-28T00:00:30Z", "insufficient_funds", "1.00")]
    m = p.metrics
    assert (m["credits_spent"], m["credits_expired"], m["final_balance"], m["hours_exhausted"]) == (
        Decimal("0.1"), Decimal("19.9"), 0, 24)


@pytest.mark.parametrize("bought, expires", [
    (datetime(2026, 1, 31, 0, 0, tzinfo=UTC), datetime(2027, 1, 31, 0, 0, tzinfo=UTC)),
    (datetime(2028, 2, 29, 15, 30, 7, tzinfo=UTC), datetime(2029, 2, 28, 15, 30, 7, tzinfo=UTC)),
    (datetime(2028, 2, 28, 9, 0, tzinfo=UTC), datetime(2029, 2, 28, 9, 0, tzinfo=UTC)),
    (datetime(2027, 2, 28, 0, 0, tzinfo=UTC), datetime(2028, 2, 28, 0, 0, tzinfo=UTC)),   # not the 29th
    (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)),
])
def test_R7_expiry_is_purchase_plus_12_calendar_months(bought, expires):
    """R7: expiry instant = purchase + 12 calendar months, time of day kept, day clamped."""
    assert add_months(bought, 12) == expires
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.to_dt(clock.plus_months(clock.to_t(bought), 12)) == expires


def test_R7_spending_draws_the_soonest_expiring_lot_first_and_may_span_lots(tmp_path):
    """R7: spend from the lot that expires first; one increment may span two lots.

    minimum_purchase 0.01, rate 0.1000, paul (PAYG + credits).
      01-01 00:00 purchase 0.2500 lot 1                 0.2500
      01-05 10:00 debit 0.1000 lot 1 (c1)               0.1500
      01-05 10:01 debit 0.1000 lot 1 (c1)               0.0500
      01-06 00:00 purchase 20.0000 lot 2 (top-up)       20.0500
      01-07 10:00 c2's one increment 0.1000 = 0.0500 from lot 1 (emptied) + 0.0500 from lot 2:
                  two journal rows, same instant, same UsageId, balances 20.0000, 19.9500
      01-07 10:01 debit 0.1000 lot 2 (c2)               19.8500
    c2's CDR Charge 0.20 (the whole increments, however many lots paid them).
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 120, to="US"),
                             call("c2", "paul", "2026-01-07T10:00:00Z", 120, to="US")],
                      policies=[{"name": "p", "initial_funds": "0.25",
                                 "top_ups": [{"at": "2026-01-06T00:00:00Z", "amount": "20.00"}]}],
                      rates=RATE_10, switches={"minimum_purchase": "0.01"})
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "kind", "amount", "balance_after", "lot_id", "usage_id") == [
        ("2026-01-01T00:00:00Z", "purchase", "0.2500", "0.2500", "1", ""),
        ("2026-01-05T10:00:00Z", "debit", "0.1000", "0.1500", "1", "c1"),
        ("2026-01-05T10:01:00Z", "debit", "0.1000", "0.0500", "1", "c1"),
        ("2026-01-06T00:00:00Z", "purchase", "20.0000", "20.0500", "2", ""),
        ("2026-01-07T10:00:00Z", "debit", "0.0500", "20.0000", "1", "c2"),
        ("2026-01-07T10:00:00Z", "debit", "0.0500", "19.9500", "2", "c2"),
        ("2026-01-07T10:01:00Z", "debit", "0.1000", "19.8500", "2", "c2"),
    ]
    assert p.cdr["c2"]["Charge"] == "0.20"


@pytest.mark.parametrize("policy, key", [
    ({"name": "p", "initial_funds": "19.99"}, "policies.0.initial_funds"),
    ({"name": "p", "initial_funds": "50.00", "auto_recharge": {"trigger": "10.00", "amount": "10.00"}},
     "policies.0.auto_recharge.amount"),
    ({"name": "p", "initial_funds": "50.00", "top_ups": [{"at": "2026-01-10T00:00:00Z", "amount": "5.00"}]},
     "policies.0.top_ups.0.amount"),
    ({"name": "p", "initial_funds": "50.00", "top_ups": [{"monthly": 1, "amount": "0.01"}]},
     "policies.0.top_ups.0.amount"),
])
def test_R7_purchase_below_the_minimum_is_invalid_input(tmp_path, policy, key):
    """R7: a purchase below minimum_purchase (default 20.00) is invalid input: exit 2,
    one message naming the key and the minimum."""
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)],
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 60, to="US")], policies=[policy])
    code, _, err = run_cli("validate", str(path))
    assert code == 2
    assert key in err and "20.00" in err and "Traceback" not in err


def test_R7_minimum_purchase_switch_lowers_the_minimum(tmp_path):
    """R7 switch minimum_purchase: 5.00 makes initial funds of 5.00 valid (4.99 still invalid)."""
    for amount, code_expected in (("5.00", 0), ("4.99", 2)):
        path = write_case(tmp_path / amount, users=[user("paul", "US", PAYG_CREDITS)],
                          calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 60, to="US")],
                          policies=[{"name": "p", "initial_funds": amount}], switches={"minimum_purchase": "5.00"})
        assert run_cli("validate", str(path))[0] == code_expected


# ---- unit level: the Ledger class ---------------------------------------------------------

def test_R7_ledger_unit_journal_and_conservation():
    """R7 on models.ledger.Ledger directly (amounts in ten-thousandths).

      t=0   purchase 200000 (20.00) lot 1, expires t=100
      t=10  purchase 300000 (30.00) lot 2, expires t=200
      t=20  debit 250000 (25.00): 200000 from lot 1, 50000 from lot 2  -> balance 250000
      t=30  debit 260000 refused (more than the balance): nothing changes
      t=100 expire: lot 1 is already empty -> nothing forfeited, no journal row
      t=200 expire: lot 2's 250000 forfeited once; a second expire(200) forfeits nothing.
    purchased 500000 = spent 250000 + forfeited 250000 + balance 0.
    """
    led = Ledger()
    led.purchase(0, 200_000, 100, "initial funds")
    led.purchase(10, 300_000, 200)
    assert led.debit(20, 250_000, usage_id="u1")
    assert not led.debit(30, 260_000, usage_id="u2")
    assert led.expire(100) == 0
    assert led.expire(200) == 250_000
    assert led.expire(200) == 0 and led.expire(10_000) == 0
    assert led.journal == [
        (0, PURCHASE, 200_000, 200_000, 1, "", "initial funds"),
        (10, PURCHASE, 300_000, 500_000, 2, "", ""),
        (20, DEBIT, 200_000, 300_000, 1, "u1", ""),
        (20, DEBIT, 50_000, 250_000, 2, "u1", ""),
        (200, EXPIRE, 250_000, 0, 2, "", ""),
    ]
    assert (led.purchased, led.spent, led.forfeited, led.balance) == (500_000, 250_000, 250_000, 0)
    assert led.conserved()


def test_R7_ledger_unit_expired_lot_is_never_drawn():
    """R7: once a lot's expiry instant has passed (and expire() ran), debits skip it even if
    lots were bought out of expiry order."""
    led = Ledger()
    led.purchase(0, 100_000, 500)        # lot 1, expires late
    led.purchase(1, 100_000, 50)         # lot 2, expires first: drawn first
    assert led.debit(2, 30_000, "a")
    assert [(r[2], r[4]) for r in led.journal if r[1] == DEBIT] == [(30_000, 2)]
    assert led.expire(50) == 70_000
    assert led.debit(60, 100_000, "b")
    assert [(r[2], r[4]) for r in led.journal if r[1] == DEBIT] == [(30_000, 2), (100_000, 1)]
    assert not led.debit(61, 1, "c") and led.balance == 0 and led.conserved()


def test_R7_a_lot_bought_29_feb_can_expire_before_one_bought_the_day_before(tmp_path):
    """R7 'spending draws from the lot that expires first': usually the first purchased, but
    not around 29 February. Reading: the rule is 'expires first'; the parenthetical
    'first purchased first' is its usual consequence, not a second rule.

    Start 2028-02-28T12:00Z (initial funds: lot 1, expires 2029-02-28T12:00Z); top-up
    2028-02-29T00:00Z (lot 2, expires 2029-02-28T00:00Z: 12 hours *before* lot 1). Rate 0.1000.
      2028-02-28 12:00  purchase 20.0000 lot 1       20.0000
      2028-02-29 00:00  purchase 20.0000 lot 2       40.0000
      2028-03-01 10:00  debit 0.1000 from lot 2      39.9000   (it expires first)
      2029-02-28 00:00  expire 19.9000 lot 2         20.0000
      2029-02-28 12:00  expire 20.0000 lot 1          0.0000   -> balance_exhausted
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS)], start="2028-02-28T12:00:00Z", days=367,
                      calls=[call("c1", "paul", "2028-03-01T10:00:00Z", 60, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.00",
                                 "top_ups": [{"at": "2028-02-29T00:00:00Z", "amount": "20.00"}]}],
                      rates=RATE_10)
    p = run_case(path)["p"]
    assert p.ledger_tuples("time", "kind", "amount", "balance_after", "lot_id") == [
        ("2028-02-28T12:00:00Z", "purchase", "20.0000", "20.0000", "1"),
        ("2028-02-29T00:00:00Z", "purchase", "20.0000", "40.0000", "2"),
        ("2028-03-01T10:00:00Z", "debit", "0.1000", "39.9000", "2"),
        ("2029-02-28T00:00:00Z", "expire", "19.9000", "20.0000", "2"),
        ("2029-02-28T12:00:00Z", "expire", "20.0000", "0.0000", "1"),
    ]
    assert p.notes() == [("2029-02-28T12:00:00Z", "balance_exhausted")]
