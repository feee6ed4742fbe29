"""Column names: every export's spelling -> the 2025 export's name (the rows' one vocabulary)."""
from __future__ import annotations

import re

COLUMNS_2025 = ["UsageId", "Call ID", "Conference ID", "User Location", "Microsoft Entra ObjectId", "UPN",
                "User Display Name", "Caller ID", "Call Type", "Call Direction", "Number Type",
                "Domestic/International", "Destination Dialed", "Destination Number", "External Country",
                "Start Time", "End Time", "Duration Seconds", "Connection Fee", "Charge", "Currency",
                "Capability", "Operator", "Source of Call Duration", "Administrative Units"]
COLUMNS_2020 = ["UsageId", "Call ID", "Conference ID", "User Location", "AAD ObjectId", "UPN",
                "User Display Name", "Caller ID", "Call Type", "Number Type", "Domestic/International",
                "Destination Dialed", "Destination Number", "Start Time", "End Time", "Duration Seconds",
                "Connection Fee", "Charge", "Currency", "Capability"]

# Graph getPstnCalls property (pstnCallLogRow, v1.0 and beta) -> export column
GRAPH_PROPERTIES = {
    "id": "UsageId", "callId": "Call ID", "conferenceId": "Conference ID", "usageCountryCode": "User Location",
    "userId": "Microsoft Entra ObjectId", "userPrincipalName": "UPN", "userDisplayName": "User Display Name",
    "callerNumber": "Caller ID", "callType": "Call Type", "inventoryType": "Number Type",
    "destinationContext": "Domestic/International", "destinationName": "Destination Dialed",
    "calleeNumber": "Destination Number", "otherPartyCountryCode": "External Country",
    "startDateTime": "Start Time", "endDateTime": "End Time", "duration": "Duration Seconds",
    "connectionCharge": "Connection Fee", "charge": "Charge", "currency": "Currency",
    "licenseCapability": "Capability", "operator": "Operator", "callDurationSource": "Source of Call Duration",
    "administrativeUnitInfos": "Administrative Units", "tenantCountryCode": "Tenant Country",
}
REQUIRED = ["UsageId", "Call Type", "Start Time", "Duration Seconds"]


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).lower()


ALIASES = {_key(c): c for c in COLUMNS_2025}
ALIASES.update({_key(g): c for g, c in GRAPH_PROPERTIES.items()})
ALIASES[_key("AAD ObjectId")] = "Microsoft Entra ObjectId"


def canonical(name: str) -> str | None:
    """'AAD ObjectId', 'userPrincipalName', 'upn ' -> the 2025 column; None if not a report column."""
    return ALIASES.get(_key(name.strip().strip('"').lstrip("\ufeff")))
