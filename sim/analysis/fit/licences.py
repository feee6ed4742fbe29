"""Licences of a fitted tenant: inferred from the report's Capability column, or read from the
admin center's Active users export (`--licences USERS.csv`).

Inference (one table, `CAPABILITY_LICENCES`): a Calling Plan's capability on any of the user's
rows gives that plan (+ Phone System); MCOMEETADD gives Audio Conferencing; MCOPSTNPP gives
Communications Credits. A user with outbound or inbound user calls but no plan capability paid
every call from credits: Pay-As-You-Go. The report cannot show a credits licence that was never
used: when any row of the report was paid from credits (MCOPSTNPP), every user who could use
credits gets the licence. E5 and Phone System + Audio Conferencing bill alike (R2) and are
written as the latter.
"""
from __future__ import annotations

import csv
from pathlib import Path

from sim.errors import InputError

CAPABILITY_LICENCES = {
    "MCOPSTN1": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"],
    "MCOPSTN2": ["PHONE_SYSTEM", "DOMESTIC_INTERNATIONAL_CALLING_PLAN"],
    "MCOPSTN5": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_120"],
    "MCOPSTN6": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN_240"],
    "MCOPSTN_PAYG": ["PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN"],
    "MCOMEETADD": ["AUDIO_CONFERENCING"],
    "MCOPSTNPP": ["COMMUNICATIONS_CREDITS"],
    "MCOEV": ["PHONE_SYSTEM"],
}
PLANS = ("DOMESTIC_CALLING_PLAN", "DOMESTIC_INTERNATIONAL_CALLING_PLAN", "DOMESTIC_CALLING_PLAN_120",
         "DOMESTIC_CALLING_PLAN_240", "PAY_AS_YOU_GO_CALLING_PLAN")

# Admin center product names (lower case, matched as the whole name) -> licences.
PRODUCT_LICENCES = {
    "microsoft teams phone standard": ["PHONE_SYSTEM"],
    "microsoft teams phone resource account": ["PHONE_SYSTEM"],
    "microsoft 365 e5": ["E5"], "office 365 e5": ["E5"], "microsoft 365 e5 (no teams)": ["E5"],
    "microsoft teams domestic calling plan": ["DOMESTIC_CALLING_PLAN"],
    "microsoft teams domestic calling plan (120 min)": ["DOMESTIC_CALLING_PLAN_120"],
    "microsoft teams domestic calling plan (240 min)": ["DOMESTIC_CALLING_PLAN_240"],
    "microsoft teams domestic and international calling plan": ["DOMESTIC_INTERNATIONAL_CALLING_PLAN"],
    "microsoft teams calling plan pay-as-you-go": ["PAY_AS_YOU_GO_CALLING_PLAN"],
    "microsoft teams phone with calling plan": ["PHONE_SYSTEM", "DOMESTIC_CALLING_PLAN"],
    "microsoft teams audio conferencing with dial-out to usa/can": ["AUDIO_CONFERENCING"],
    "microsoft teams audio conferencing select dial-out": ["AUDIO_CONFERENCING"],
    "audio conferencing": ["AUDIO_CONFERENCING"],
    "communications credits": ["COMMUNICATIONS_CREDITS"],
}


def _normalise(names: set[str]) -> list[str]:
    if "E5" in names:
        names -= {"PHONE_SYSTEM", "AUDIO_CONFERENCING"}
    plans = [p for p in PLANS if p in names]
    for extra in plans[1:]:                   # at most one plan (R2): keep the first of PLANS' order
        names.discard(extra)
    if plans and "E5" not in names:
        names.add("PHONE_SYSTEM")
    order = ["E5", "PHONE_SYSTEM", *PLANS, "AUDIO_CONFERENCING", "COMMUNICATIONS_CREDITS"]
    return [x for x in order if x in names]


def infer(user, tenant_uses_credits: bool) -> list[str]:
    names: set[str] = set()
    for cap in user.capabilities:
        names |= set(CAPABILITY_LICENCES.get(cap, []))
    if (user.kinds["user_out"] or user.kinds["user_in"]) and not any(p in names for p in PLANS):
        names |= {"PHONE_SYSTEM", "PAY_AS_YOU_GO_CALLING_PLAN"}
    if any(k.startswith("conf") for k in user.kinds if user.kinds[k]):
        names.add("AUDIO_CONFERENCING")
    if tenant_uses_credits and (names & {*PLANS, "AUDIO_CONFERENCING"}):
        names.add("COMMUNICATIONS_CREDITS")
    return _normalise(names)


def read_active_users(path: Path) -> dict[str, tuple[list[str], str, str]]:
    """Active users export -> {upn lower: (licences, display name, usage location)}."""
    try:
        f = path.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InputError(str(path), f"cannot read the licences file ({e.strerror or e})") from None
    with f:
        reader = csv.DictReader(f)
        need = {"User principal name", "Licenses"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise InputError(f"{path}:1", "expected the admin center's Active users export with the columns "
                                          "`User principal name` and `Licenses` (product names joined by +)")
        out = {}
        for row in reader:
            upn = (row["User principal name"] or "").strip()
            if not upn:
                continue
            names: set[str] = set()
            for product in (row["Licenses"] or "").split("+"):
                names |= set(PRODUCT_LICENCES.get(product.strip().lower(), []))
            out[upn.lower()] = (_normalise(names), (row.get("Display name") or "").strip(),
                                (row.get("Usage location") or "").strip().upper())
        return out
