"""The fitted scenario as a document (the mapping `validate` and `run` read), from a `Fitted`."""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sim.inputs.scenario import e164


def _num(v: float) -> float:
    return float(f"{float(v):.6g}")


def _own_numbers(f) -> list[str | None]:
    """Each user's number for the scenario: the Caller ID of their calls as E.164, unless it is no
    possible number or another user or a toll-free number shows it too (a shared line, a caller-ID
    policy): a scenario's numbers are each one user's or service's, and `run` draws one instead."""
    def normal(number):
        try:
            return e164(number) if number else None
        except ValueError:
            return None
    mine = [normal(u.number) for u in f.users]
    shown = Counter(mine) + Counter(normal(x["number"]) for x in f.toll_free)
    return [n if n and shown[n] == 1 else None for n in mine]


def scenario_doc(f, name: str, start: datetime, days: int, rates: str, policies: list[dict]) -> dict:
    domains = Counter(u.upn.split("@")[-1].lower() for u in f.users)
    classes = f.classes.rates if f.classes else []
    users = []
    for u, number in zip(f.users, _own_numbers(f)):
        entry = {"upn": u.upn, "country": u.country, "licences": u.licences}
        if u.display_name:
            entry["display_name"] = u.display_name
        if number:
            entry["number"] = number
        entry["timezone"] = u.tz
        if u.rate_class is not None:
            entry["outbound_calls_per_day"] = _num(classes[u.rate_class].value)
        users.append(entry)
    tr = dict(f.traffic)
    traffic = {"weekly_profile": tr["weekly_profile"]}
    for key in ("user_outbound_calls_per_day", "international_share", "international_destinations", "call_minutes",
                "call_minutes_by_kind", "meetings_per_organiser_per_day", "dial_outs_per_meeting",
                "toll_free_dial_ins_per_meeting", "toll_dial_ins_per_meeting", "user_inbound_calls_per_day",
                "emergency_calls_per_user_per_year"):
        value = tr[key]
        traffic[key] = _num(value) if isinstance(value, float) else value
    traffic["toll_free_calls_per_day"] = 0.0          # every number has its own rate
    traffic["growth"] = {"users": 1.0, "calls_per_user": 1.0, "per": "year"}
    toll_free = []
    for x in f.toll_free:
        entry = dict(x)
        if "calls_per_day" in entry:
            entry["calls_per_day"] = _num(entry["calls_per_day"])
        toll_free.append(entry)
    return {
        "name": name,
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days": days,
        "currency": f.calls.currency,
        "seed": 42,
        "tenant": {"domain": domains.most_common(1)[0][0] if domains else "contoso.com",
                   "users": users, "toll_free_numbers": toll_free},
        "rates": rates,
        "traffic": traffic,
        "policies": policies,
    }
