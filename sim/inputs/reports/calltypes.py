"""The one table of documented Call Types and who pays for each (billing-rules.md R3, R12).

Calling Plans rows are rebilled by the scenario's rules; Direct Routing (`dr_*`, `Byot*`) rows
and rows whose Operator is not Microsoft (Operator Connect) are carried by the tenant's own
carrier: counted and reported, never charged to credits.
"""
from __future__ import annotations

from typing import NamedTuple

# billing kinds: how a row is rebilled
USER_OUT = "user_out"            # the user's outbound call: Calling Plan pool, then credits
RESOURCE_OUT = "resource_out"    # a resource account's outbound call, paid like a user's (switch)
EMERGENCY = "emergency_out"      # free, never blocked
FREE_IN = "free_in"              # inbound to a user or an unassigned number: free
SERVICE_IN = "service_in"        # inbound to an auto attendant / call queue: toll-free -> tenant's credits
CONF_IN = "conf_in"              # meeting dial-in: toll-free -> organiser's tenant's credits, else free
CONF_OUT = "conf_out"            # meeting dial-out: dial-out pool (Zone A), then credits
DIRECT_ROUTING = "direct_routing"   # the tenant's own carrier: never charged to credits
OPERATOR_CONNECT = "operator_connect"


class CallType(NamedTuple):
    billing: str
    direction: str       # Inbound / Outbound
    why: str             # the rulebook's reasoning, shown in the README table


CALL_TYPES: dict[str, CallType] = {
    "user_out": CallType(USER_OUT, "Outbound", "a user's outbound PSTN call (R3)"),
    "user_out_conf": CallType(USER_OUT, "Outbound", "a user adds a PSTN party to a call: the user's outbound leg"),
    "user_out_transfer": CallType(USER_OUT, "Outbound", "a user transfers a call to a PSTN number: the user's outbound leg"),
    "user_out_forwarding": CallType(USER_OUT, "Outbound", "a user's call forwarded to a PSTN number: the user's outbound leg"),
    "fmc_out": CallType(USER_OUT, "Outbound", "fixed-mobile convergence outbound: the user's outbound leg"),
    "ucap_out": CallType(RESOURCE_OUT, "Outbound", "an auto attendant / call queue calls out: its resource account pays"),
    "ucap_out_conf": CallType(RESOURCE_OUT, "Outbound", "a resource account adds a PSTN party: its outbound leg"),
    "user_in": CallType(FREE_IN, "Inbound", "inbound to a user's number: free (R3)"),
    "emergency_in": CallType(FREE_IN, "Inbound", "an emergency call-back: free"),
    "unassigned_in": CallType(FREE_IN, "Inbound", "inbound to an unassigned number: free"),
    "fmc_in": CallType(FREE_IN, "Inbound", "fixed-mobile convergence inbound: free"),
    "emergency_out": CallType(EMERGENCY, "Outbound", "an emergency call: free, never blocked (R3)"),
    "ucap_in": CallType(SERVICE_IN, "Inbound", "to an auto attendant / call queue: toll-free -> the tenant's credits "
                                               "at the origin's toll-free rate, otherwise free (R3)"),
    "conf_in": CallType(CONF_IN, "Inbound", "a meeting dial-in: toll-free -> credits, attributed to the organiser; "
                                            "otherwise free (R3)"),
    "conf_out": CallType(CONF_OUT, "Outbound", "a meeting dial-out: dial-out pool (Zone A), then credits (R5)"),
}

NOT_BILLED = frozenset({DIRECT_ROUTING, OPERATOR_CONNECT})


def classify(call_type: str) -> CallType | None:
    """The row's Call Type (any case) -> how it is billed; None when undocumented."""
    name = call_type.strip().lower()
    known = CALL_TYPES.get(name)
    if known is not None:
        return known
    if name.startswith(("dr_", "byot")):
        inbound = "_in" in name or name.startswith("byotin")
        return CallType(DIRECT_ROUTING, "Inbound" if inbound else "Outbound",
                        "Direct Routing: the tenant's own carrier bills it")
    return None


def operator_connect(operator: str, duration_source: str) -> bool:
    """A row carried by an Operator Connect partner: Operator is not Microsoft, or the operator
    supplied the duration (Graph callDurationSource `operator`)."""
    op = operator.strip().lower()
    return (op not in ("", "microsoft")) or duration_source.strip().lower() == "operator"
