"""R8 Auto-recharge: trigger 'below', one pending at a time, settle delay, card expiry and
declines with retries, giving up, manual top-ups re-enabling, purchase orders.

Expected journals and notifications are worked by hand in each docstring
(billing-rules.md R7, R8, R9).
"""
from decimal import Decimal

from models.policy import AutoRechargeRule, Payment
from models.recharge import AutoRecharge
from tests.billing_cases import PAYG_CREDITS, call, run_case, user, write_case

RATES = {"outbound": {"US": "0.1000", "AE": "10.0000"}}
PAUL = [user("paul", "US", PAYG_CREDITS)]


def _ledger(p):
    return [(r["time"], r["kind"], r["amount"], r["balance_after"]) for r in p.ledger]


def test_R8_balance_exactly_at_the_trigger_does_not_recharge(tmp_path):
    """R8: the trigger fires when the balance falls *below* it; equal is not below.

    trigger 20.00, amount 20.00, initial 20.20, rate 0.1000, card (no expiry), delay 0.
      c1 10:00, 120 s: 10:00 -> 20.1000; 10:01 -> 20.0000 = trigger: no recharge.
      c2 11:00, 60 s:  11:00 -> 19.9000 < trigger: recharge settles at once -> purchase
         20.0000 (lot 2) -> 39.9000; recharge_succeeded 'amount 20.0000' at 11:00.
    Metrics: recharges_succeeded 1, purchased 40.20, spent 0.30, final 39.90.
    """
    path = write_case(tmp_path, users=PAUL, rates=RATES,
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 120, to="US"),
                             call("c2", "paul", "2026-01-05T11:00:00Z", 60, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.20",
                                 "auto_recharge": {"trigger": "20.00", "amount": "20.00"}}])
    p = run_case(path)["p"]
    assert _ledger(p) == [
        ("2026-01-01T00:00:00Z", "purchase", "20.2000", "20.2000"),
        ("2026-01-05T10:00:00Z", "debit", "0.1000", "20.1000"),
        ("2026-01-05T10:01:00Z", "debit", "0.1000", "20.0000"),
        ("2026-01-05T11:00:00Z", "debit", "0.1000", "19.9000"),
        ("2026-01-05T11:00:00Z", "purchase", "20.0000", "39.9000"),
    ]
    assert p.ledger[-1]["note"] == "auto-recharge" and p.ledger[-1]["lot_id"] == "2"
    assert [(n["time"], n["kind"], n["detail"]) for n in p.notifications] == [
        ("2026-01-05T11:00:00Z", "recharge_succeeded", "amount 20.0000")]
    m = p.metrics
    assert (m["recharges_succeeded"], m["recharges_failed"], m["credits_purchased"], m["final_balance"]) == (
        1, 0, Decimal("40.2"), Decimal("39.9"))


def test_R8_recharge_settles_after_its_delay_while_a_call_is_running(tmp_path):
    """R8: payment settles after delay_minutes; while it is pending no second recharge starts,
    and the running call keeps being funded from what is left.

    trigger 20.00, amount 20.00, delay 5 min, initial 20.10, rate 0.1000.
    c1 10:00:00 for 600 s (increments 10:00 .. 10:09):
      10:00 20.0000; 10:01 19.9000 (crossing: recharge requested, settles 10:06);
      10:02 19.8000, 10:03 19.7000, 10:04 19.6000, 10:05 19.5000 (below, but pending: nothing new);
      10:06 the settle runs before the call's increment at the same instant:
            purchase 20.0000 -> 39.5000, then debit -> 39.4000;
      10:07 39.3000, 10:08 39.2000, 10:09 39.1000.
    Exactly one purchase besides the initial funds; one recharge_succeeded at 10:06.
    """
    path = write_case(tmp_path, users=PAUL, rates=RATES,
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 600, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.10",
                                 "auto_recharge": {"trigger": "20.00", "amount": "20.00"},
                                 "payment": {"method": "card", "delay_minutes": 5}}])
    p = run_case(path)["p"]
    rows = [(r["time"][11:16], r["kind"], r["balance_after"]) for r in p.ledger[1:]]
    assert rows == [("10:00", "debit", "20.0000"), ("10:01", "debit", "19.9000"), ("10:02", "debit", "19.8000"),
                    ("10:03", "debit", "19.7000"), ("10:04", "debit", "19.6000"), ("10:05", "debit", "19.5000"),
                    ("10:06", "purchase", "39.5000"), ("10:06", "debit", "39.4000"), ("10:07", "debit", "39.3000"),
                    ("10:08", "debit", "39.2000"), ("10:09", "debit", "39.1000")]
    assert p.notes() == [("2026-01-05T10:06:00Z", "recharge_succeeded")]
    assert p.cdr["c1"]["Duration Seconds"] == "600" and p.disruptions == []


def test_R8_still_below_the_trigger_after_settling_fires_once_more(tmp_path):
    """R8: after a recharge settles, if the balance is still below the trigger, once more.

    Rate AE 30.0000/min (a premium destination), amount 20.00, delay 0.
    Policy p: initial 50.00, trigger 50.00. c1 dials AE at 10:00 for 60 s:
      10:00 debit 30.0000 -> 20.0000 (crossing) -> recharge +20 -> 40.0000, still below
            -> once more +20 -> 60.0000. Two recharge_succeeded at 10:00.
    Policy q: initial 50.00, trigger 75.00: the account opens below the trigger.
      Reading (ambiguity): opening below the trigger counts as a fall below it (nothing
      else would ever start the first recharge):
      00:00 purchase 50 -> 50.0000 -> +20 -> 70.0000 (still below) -> +20 -> 90.0000;
      10:00 debit 30 -> 60.0000 (crossing) -> +20 -> 80.0000. recharges_succeeded 3.
    """
    path = write_case(tmp_path, users=PAUL, rates={"outbound": {"AE": "30.0000"}},
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 60, to="AE")],
                      policies=[{"name": "p", "initial_funds": "50.00",
                                 "auto_recharge": {"trigger": "50.00", "amount": "20.00"}},
                                {"name": "q", "initial_funds": "50.00",
                                 "auto_recharge": {"trigger": "75.00", "amount": "20.00"}}])
    res = run_case(path)
    assert [(t[11:16], k, a, b) for t, k, a, b in _ledger(res["p"])] == [
        ("00:00", "purchase", "50.0000", "50.0000"), ("10:00", "debit", "30.0000", "20.0000"),
        ("10:00", "purchase", "20.0000", "40.0000"), ("10:00", "purchase", "20.0000", "60.0000")]
    assert res["p"].notes() == [("2026-01-05T10:00:00Z", "recharge_succeeded")] * 2
    assert [(t[11:16], k, b) for t, k, a, b in _ledger(res["q"])] == [
        ("00:00", "purchase", "50.0000"), ("00:00", "purchase", "70.0000"), ("00:00", "purchase", "90.0000"),
        ("10:00", "debit", "60.0000"), ("10:00", "purchase", "80.0000")]
    assert res["q"].metrics["recharges_succeeded"] == 3


def test_R8_card_expiry_fails_retries_gives_up_and_a_manual_top_up_re_enables(tmp_path):
    """R8: a card fails when it has expired before the settle instant; retry after
    retry_minutes up to max_retries; then auto-recharge waits for the next manual top-up.

    card_expires 2026-01-04 (good through Jan 4, expired from Jan 5 00:00). trigger 20.00,
    amount 20.00, retry 60 min, max_retries 2, delay 0. initial 20.10. Rates US 0.1000, AE 10.0000.
      Jan 5 10:00 c1 (US, 120 s): 10:00 -> 20.0000; 10:01 -> 19.9000 crossing: attempt 1 fails
                  (card_expired) at 10:01; retry 1 fails at 11:01; retry 2 fails at 12:01;
                  3 failures > max_retries 2: give up.
      Jan 5 13:00 c2 (US, 60 s): -> 19.8000, still below, but suspended: no attempt.
      Jan 6 00:00 manual top-up 20.00 -> 39.8000; re-enabled (balance above trigger: no attempt).
      Jan 7 10:00 c3 (AE, 120 s): 10:00 -> 29.8000; 10:01 -> 19.8000 crossing: the re-enabled
                  auto-recharge tries again: fails 10:01, 11:01, 12:01; gives up.
    Notifications: 6 x recharge_failed (detail card_expired); recharges_failed 6, succeeded 0.
    Ledger purchases: initial funds and the top-up only.
    """
    path = write_case(tmp_path, users=PAUL, rates=RATES,
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 120, to="US"),
                             call("c2", "paul", "2026-01-05T13:00:00Z", 60, to="US"),
                             call("c3", "paul", "2026-01-07T10:00:00Z", 120, to="AE")],
                      policies=[{"name": "p", "initial_funds": "20.10",
                                 "auto_recharge": {"trigger": "20.00", "amount": "20.00"},
                                 "payment": {"method": "card", "card_expires": "2026-01-04", "retry_minutes": 60,
                                             "max_retries": 2},
                                 "top_ups": [{"at": "2026-01-06T00:00:00Z", "amount": "20.00"}]}])
    p = run_case(path)["p"]
    assert [(n["time"], n["kind"], n["detail"]) for n in p.notifications] == [
        (f"2026-01-0{d}T{h}:01:00Z", "recharge_failed", "card_expired") for d in (5, 7) for h in (10, 11, 12)]
    assert [(r["time"], r["amount"], r["note"]) for r in p.ledger if r["kind"] == "purchase"] == [
        ("2026-01-01T00:00:00Z", "20.1000", "initial funds"), ("2026-01-06T00:00:00Z", "20.0000", "top-up")]
    m = p.metrics
    assert (m["recharges_failed"], m["recharges_succeeded"], m["final_balance"]) == (6, 0, Decimal("19.8"))


def test_R8_card_good_through_its_expiry_date(tmp_path):
    """R8: card_expires 2026-01-05 is still good on Jan 5 (fails from Jan 6 00:00): a recharge
    settling on Jan 5 at 10:01 succeeds."""
    path = write_case(tmp_path, users=PAUL, rates=RATES,
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 120, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.10",
                                 "auto_recharge": {"trigger": "20.00", "amount": "20.00"},
                                 "payment": {"card_expires": "2026-01-05"}}])
    assert run_case(path)["p"].notes() == [("2026-01-05T10:01:00Z", "recharge_succeeded")]


def test_R8_declined_payment_backs_off_retry_minutes_plus_settle_delay(tmp_path):
    """R8: decline_rate 1.0 declines every card payment. delay 5, retry 30, max_retries 1.

    initial 20.10, trigger 20.00. c1 (US, 180 s) at 10:00: 10:01 -> 19.9000 crossing;
    attempt 1 settles 10:06 declined; the retry starts 30 min later and settles after the
    5-minute delay: 10:06 + 30 + 5 = 10:41 declined; 2 failures > max_retries 1: give up.
    The call runs to its end on what is left (10:02 -> 19.8000). recharges_failed 2.
    """
    path = write_case(tmp_path, users=PAUL, rates=RATES,
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 180, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.10",
                                 "auto_recharge": {"trigger": "20.00", "amount": "20.00"},
                                 "payment": {"decline_rate": 1.0, "delay_minutes": 5, "retry_minutes": 30,
                                             "max_retries": 1}}])
    p = run_case(path)["p"]
    assert [(n["time"], n["kind"], n["detail"]) for n in p.notifications] == [
        ("2026-01-05T10:06:00Z", "recharge_failed", "declined"), ("2026-01-05T10:41:00Z", "recharge_failed", "declined")]
    assert p.metrics["recharges_failed"] == 2 and p.metrics["final_balance"] == Decimal("19.8")


def test_R8_enterprise_agreement_never_fails_and_journals_the_purchase_order(tmp_path):
    """R8: method enterprise_agreement never fails (decline_rate and card expiry ignored);
    the purchase-order number is journalled with the purchase.

    initial 20.10, trigger 20.00, amount 25.00. c1 (US, 120 s): 10:01 -> 19.9000, recharge
    -> 44.9000, note 'auto-recharge PO 4500012345'.
    """
    path = write_case(tmp_path, users=PAUL, rates=RATES,
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 120, to="US")],
                      policies=[{"name": "p", "initial_funds": "20.10",
                                 "auto_recharge": {"trigger": "20.00", "amount": "25.00"},
                                 "payment": {"method": "enterprise_agreement", "decline_rate": 1.0,
                                             "card_expires": "2025-01-01", "purchase_order": "4500012345"}}])
    p = run_case(path)["p"]
    assert p.ledger_tuples()[-1] == ("2026-01-05T10:01:00Z", "purchase", "25.0000", "44.9000", "2", "",
                                     "auto-recharge PO 4500012345")
    assert p.metrics["recharges_succeeded"] == 1 and p.metrics["recharges_failed"] == 0


def test_R8_an_expiry_that_crosses_the_trigger_starts_a_recharge(tmp_path):
    """R8: the trigger fires on a debit *or an expiry*. R9: reaching 0 notifies balance_exhausted,
    re-armed by the next purchase.

    Start 2026-01-01, 370 days. initial 20.00 (expires 2027-01-01T00:00Z), trigger 10.00,
    amount 25.00. At 2027-01-01T00:00:00Z: expire 20.0000 -> 0.0000 (balance_exhausted),
    crossing -> recharge settles at once: purchase 25.0000 -> 25.0000 (recharge_succeeded).
    hours_exhausted 0 (the purchase came at the same instant).
    """
    path = write_case(tmp_path, users=PAUL, rates=RATES, days=370,
                      calls=[call("c1", "paul", "2026-01-05T10:00:00Z", 60, call_type="user_in",
                                  caller="+12065550123", dest="+12065550100", number_type="user")],
                      policies=[{"name": "p", "initial_funds": "20.00",
                                 "auto_recharge": {"trigger": "10.00", "amount": "25.00"}}])
    p = run_case(path)["p"]
    assert _ledger(p) == [("2026-01-01T00:00:00Z", "purchase", "20.0000", "20.0000"),
                          ("2027-01-01T00:00:00Z", "expire", "20.0000", "0.0000"),
                          ("2027-01-01T00:00:00Z", "purchase", "25.0000", "25.0000")]
    assert p.notes() == [("2027-01-01T00:00:00Z", "balance_exhausted"), ("2027-01-01T00:00:00Z", "recharge_succeeded")]
    assert p.metrics["hours_exhausted"] == 0 and p.metrics["credits_expired"] == Decimal("20")


def test_R8_monthly_manual_top_ups(tmp_path):
    """R8: manual top-ups may be monthly (day of month, 00:00 UTC).

    Start 2026-01-20, 60 days (to 2026-03-21). monthly: 15, amount 20.00 -> 2026-02-15 and
    2026-03-15 (Jan 15 is before the start). No initial funds.
    """
    path = write_case(tmp_path, users=PAUL, rates=RATES, start="2026-01-20T00:00:00Z", days=60,
                      calls=[call("c1", "paul", "2026-02-16T10:00:00Z", 60, to="US")],
                      policies=[{"name": "p", "top_ups": [{"monthly": 15, "amount": "20.00"}]}])
    p = run_case(path)["p"]
    assert _ledger(p) == [("2026-02-15T00:00:00Z", "purchase", "20.0000", "20.0000"),
                          ("2026-02-16T10:00:00Z", "debit", "0.1000", "19.9000"),
                          ("2026-03-15T00:00:00Z", "purchase", "20.0000", "39.9000")]


# ---- unit level: the AutoRecharge state machine --------------------------------------------

def test_R8_auto_recharge_unit_state_machine():
    """R8 on models.recharge.AutoRecharge: crossing is '>= trigger to < trigger'; one pending;
    max_retries retries then suspended; a manual top-up lifts the suspension.
    requested = succeeded + failed + pending after every step."""
    rc = AutoRecharge(AutoRechargeRule(trigger=200_000, amount=200_000),
                      Payment(max_retries=2, retry_seconds=3600, delay_seconds=0))

    def books():
        return rc.requested == rc.succeeded + rc.failed + rc.in_flight

    assert rc.crossed(200_000, 199_999) and not rc.crossed(200_001, 200_000) and not rc.crossed(199_999, 100_000)
    assert rc.may_start(199_999) and not rc.may_start(200_000)
    rc.start()
    assert not rc.may_start(0) and books()                         # pending: no second one
    assert rc.settled_failed() == 3600 and books()                 # retry 1
    assert rc.settled_failed() == 3600 and books()                 # retry 2
    assert rc.settled_failed() is None and rc.suspended and books()  # gave up after 3 failures
    assert not rc.may_start(0)
    rc.manual_top_up()
    assert rc.may_start(0)
    rc.start()
    rc.settled_ok()
    assert (rc.requested, rc.succeeded, rc.failed, rc.in_flight) == (4, 1, 3, 0) and books()


def test_R8_a_recharge_triggered_by_the_earlier_call_funds_the_later_call_at_the_same_instant(tmp_path):
    """R6/R8: events at one instant run payments before calls, calls in attempt order.

    minimum_purchase 0.01; initial 0.10, trigger 0.05, amount 20.00, delay 0. Rate 0.1000.
    a (paul) and b (pia) both start 10:00:00 for 60 s, a's row first.
      a: debit 0.1000 -> 0.0000: balance_exhausted, and the trigger crossing starts a recharge
         that settles at once (same instant, before b): purchase 20.0000 -> 20.0000.
      b: debit 0.1000 -> 19.9000: connected (it would have been blocked without the recharge).
    hours_exhausted 0; recharges_succeeded 1; no disruption.
    """
    path = write_case(tmp_path, users=[user("paul", "US", PAYG_CREDITS), user("pia", "US", PAYG_CREDITS)], rates=RATES,
                      calls=[call("a", "paul", "2026-01-05T10:00:00Z", 60, to="US"),
                             call("b", "pia", "2026-01-05T10:00:00Z", 60, to="US")],
                      policies=[{"name": "p", "initial_funds": "0.10",
                                 "auto_recharge": {"trigger": "0.05", "amount": "20.00"}}],
                      switches={"minimum_purchase": "0.01"})
    p = run_case(path)["p"]
    assert [(r["time"][11:], r["kind"], r["amount"], r["balance_after"], r["usage_id"]) for r in p.ledger[1:]] == [
        ("10:00:00Z", "debit", "0.1000", "0.0000", "a"), ("10:00:00Z", "purchase", "20.0000", "20.0000", ""),
        ("10:00:00Z", "debit", "0.1000", "19.9000", "b")]
    assert p.notes() == [("2026-01-05T10:00:00Z", "balance_exhausted"), ("2026-01-05T10:00:00Z", "recharge_succeeded")]
    assert p.disruptions == [] and p.metrics["hours_exhausted"] == 0 and p.metrics["recharges_succeeded"] == 1


def test_R8_a_manual_top_up_while_retrying_gives_no_more_retries(tmp_path):
    """R8: "a retry after retry_minutes up to max_retries; after that, auto-recharge waits for the
    next manual top-up". A top-up during the retries re-arms nothing: that recharge still has
    1 + max_retries attempts in all (an audit: the top-up reset the count, a third attempt ran).

    Card expired 2025-12-31, max_retries 1, retry 60 min, delay 0; initial 20.00, trigger 15.00,
    amount 20.00; rate DE 1.0000. c1 10:00 for 360 s: 10:00..10:05 debits 1.0000 each,
      10:05 20 -> 14 crosses the trigger: attempt 1 fails (card expired), retry at 11:05;
      10:30 manual top-up 20.0000 -> 34.0000;
      11:05 attempt 2 fails: 1 + max_retries attempts, the recharge gives up.
    Notifications: recharge_failed at 10:05 and 11:05 only. Purchased 40.00, spent 6.00.
    """
    path = write_case(tmp_path, users=[user("alice", "GB", PAYG_CREDITS)], rates={"outbound": {"DE": "1.0000"}},
                      calls=[call("c1", "alice", "2026-01-05T10:00:00Z", 360, to="DE")],
                      policies=[{"name": "p", "initial_funds": "20.00",
                                 "auto_recharge": {"trigger": "15.00", "amount": "20.00"},
                                 "payment": {"method": "card", "card_expires": "2025-12-31", "retry_minutes": 60,
                                             "max_retries": 1},
                                 "top_ups": [{"at": "2026-01-05T10:30:00Z", "amount": "20.00"}]}])
    p = run_case(path)["p"]
    assert p.notes() == [("2026-01-05T10:05:00Z", "recharge_failed"), ("2026-01-05T11:05:00Z", "recharge_failed")]
    m = p.metrics
    assert (m["recharges_failed"], m["credits_purchased"], m["credits_spent"], m["final_balance"]) == (
        2, Decimal("40"), Decimal("6"), Decimal("34"))
