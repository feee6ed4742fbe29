"""Call kinds and how the usage report names them (R3, R12)."""
from __future__ import annotations

from enum import IntEnum


class CallKind(IntEnum):
    USER_OUT = 0          # user outbound, domestic or international
    USER_IN = 1           # inbound to a user's own number: free
    EMERGENCY = 2         # always free, never blocked
    UCAP_IN = 3           # toll-free inbound to an auto attendant / call queue: tenant pays
    CONF_IN_TOLL_FREE = 4  # toll-free dial-in to a meeting: organiser's tenant pays
    CONF_IN_TOLL = 5      # toll dial-in to a meeting: free
    CONF_OUT = 6          # meeting dial-out: Zone A pool, then credits
    UCAP_IN_TOLL = 7      # inbound to a (non toll-free) service number: free


CALL_TYPE = {
    CallKind.USER_OUT: "user_out",
    CallKind.USER_IN: "user_in",
    CallKind.EMERGENCY: "emergency_out",
    CallKind.UCAP_IN: "ucap_in",
    CallKind.CONF_IN_TOLL_FREE: "conf_in",
    CallKind.CONF_IN_TOLL: "conf_in",
    CallKind.CONF_OUT: "conf_out",
    CallKind.UCAP_IN_TOLL: "ucap_in",
}

# Short names used in scenario traffic, disruptions.csv and metrics.
KIND_NAME = {
    CallKind.USER_OUT: "user_out",
    CallKind.USER_IN: "user_in",
    CallKind.EMERGENCY: "emergency",
    CallKind.UCAP_IN: "toll_free_in",
    CallKind.CONF_IN_TOLL_FREE: "conf_in_toll_free",
    CallKind.CONF_IN_TOLL: "conf_in_toll",
    CallKind.CONF_OUT: "conf_out",
    CallKind.UCAP_IN_TOLL: "service_in",
}

INBOUND = frozenset({CallKind.USER_IN, CallKind.UCAP_IN, CallKind.CONF_IN_TOLL_FREE,
                     CallKind.CONF_IN_TOLL, CallKind.UCAP_IN_TOLL})
FREE = frozenset({CallKind.USER_IN, CallKind.EMERGENCY, CallKind.CONF_IN_TOLL, CallKind.UCAP_IN_TOLL})
TENANT_PAID = frozenset({CallKind.UCAP_IN, CallKind.UCAP_IN_TOLL})
TOLL_FREE_INBOUND = frozenset({CallKind.UCAP_IN, CallKind.CONF_IN_TOLL_FREE})


class Reason:
    """Block and cut reasons (R6), in the order the rules are tried."""

    NO_LICENCE = "no_licence"
    DIALOUT_POLICY = "dialout_policy"
    POOL_EXHAUSTED = "pool_exhausted"
    NO_CREDITS_LICENCE = "no_credits_licence"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    NO_RATE = "no_rate"


# R11: the disruptions a funding policy causes (its pools and balance ran short), as against those
# no funding can change (no licence, a dial-out policy, no credits licence).
FUNDING_REASONS = frozenset({Reason.POOL_EXHAUSTED, Reason.INSUFFICIENT_FUNDS})
