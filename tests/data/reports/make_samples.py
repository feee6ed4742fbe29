"""Writes the sample usage reports beside this file: one month of calls (every documented
Calling Plans call type, obfuscated and withheld numbers, an Operator Connect call) in every
export format, column for column from Microsoft's documentation (pstn-usage-report.md; Graph
pstnCallLogRow v1.0 and beta), and the same calls in the project's own vocabulary.

Run `python tests/data/reports/make_samples.py` after changing CALLS; the files are committed.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
# Column lists written out again from Microsoft's documentation, on purpose not imported from
# sim/: the samples are an independent oracle for the readers.
COLUMNS_2025 = ["UsageId", "Call ID", "Conference ID", "User Location", "Microsoft Entra ObjectId", "UPN",
                "User Display Name", "Caller ID", "Call Type", "Call Direction", "Number Type",
                "Domestic/International", "Destination Dialed", "Destination Number", "External Country",
                "Start Time", "End Time", "Duration Seconds", "Connection Fee", "Charge", "Currency",
                "Capability", "Operator", "Source of Call Duration", "Administrative Units"]
COLUMNS_2020 = ["UsageId", "Call ID", "Conference ID", "User Location", "AAD ObjectId", "UPN",
                "User Display Name", "Caller ID", "Call Type", "Number Type", "Domestic/International",
                "Destination Dialed", "Destination Number", "Start Time", "End Time", "Duration Seconds",
                "Connection Fee", "Charge", "Currency", "Capability"]
GRAPH = {"UsageId": "id", "Call ID": "callId", "Conference ID": "conferenceId", "User Location": "usageCountryCode",
         "Microsoft Entra ObjectId": "userId", "UPN": "userPrincipalName", "User Display Name": "userDisplayName",
         "Caller ID": "callerNumber", "Call Type": "callType", "Number Type": "inventoryType",
         "Domestic/International": "destinationContext", "Destination Dialed": "destinationName",
         "Destination Number": "calleeNumber", "External Country": "otherPartyCountryCode",
         "Start Time": "startDateTime", "End Time": "endDateTime", "Duration Seconds": "duration",
         "Connection Fee": "connectionCharge", "Charge": "charge", "Currency": "currency",
         "Capability": "licenseCapability", "Operator": "operator", "Source of Call Duration": "callDurationSource",
         "Administrative Units": "administrativeUnitInfos"}
GRAPH_NUMBER_TYPE = {"user": "Subscriber", "service": "Service", "toll-free": "TollFree"}
USERS = {"alice": ("US", "Alice Johnson", "+12125550147"), "bob": ("US", "Bob Smith", "+12025550185"),
         "carol": ("GB", "Carol White", "+442079460123"), "dave": ("US", "Dave Miller", "+16175550123")}
NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany"}

# (UsageId, call type, user or "", start, seconds, far number, far country, number type, reported fee, charge,
#  capability, tenant number for inbound calls, conference, operator, own-vocabulary call type)
CALLS = [
    ("u01", "user_out", "alice", "2026-01-05T15:00:00", 300, "+12065550123", "US", "user", "0.00", "0.00", "MCOPSTN1", "", "", "Microsoft", "user_out"),
    ("u02", "user_out", "alice", "2026-01-05T16:00:00", 125, "+442071234567", "GB", "user", "0.00", "0.11", "MCOPSTNPP", "", "", "Microsoft", "user_out"),
    ("u03", "user_out_conf", "bob", "2026-01-06T14:00:00", 60, "+4930123456", "DE", "user", "0.00", "0.04", "MCOPSTNPP", "", "", "Microsoft", "user_out"),
    ("u04", "user_out_transfer", "bob", "2026-01-06T15:00:00", 90, "+12065550188", "US", "user", "0.00", "0.06", "MCOPSTNPP", "", "", "Microsoft", "user_out"),
    ("u05", "user_out_forwarding", "carol", "2026-01-07T10:00:00", 200, "+44161496****", "GB", "user", "0.00", "0.00", "MCOPSTN1", "", "", "Microsoft", "user_out"),
    ("u06", "fmc_out", "carol", "2026-01-07T11:00:00", 61, "+12065550111", "US", "user", "0.00", "0.04", "MCOPSTNPP", "", "", "Microsoft", "user_out"),
    ("u07", "ucap_out", "", "2026-01-08T14:00:00", 120, "+12065550177", "US", "service", "0.00", "0.04", "MCOPSTNPP", "", "", "Microsoft", "user_out"),
    ("u08", "ucap_out_conf", "", "2026-01-08T15:00:00", 30, "+442071234000", "GB", "service", "0.00", "0.04", "MCOPSTNPP", "", "", "Microsoft", "user_out"),
    ("u09", "user_in", "alice", "2026-01-09T14:00:00", 240, "+17185550***", "US", "user", "0.00", "0.00", "MCOPSTN1", "+12125550147", "", "Microsoft", "user_in"),
    ("u10", "emergency_in", "alice", "2026-01-09T15:00:00", 100, "", "", "user", "0.00", "0.00", "MCOPSTN1", "+12125550147", "", "Microsoft", "user_in"),
    ("u11", "unassigned_in", "", "2026-01-12T14:00:00", 20, "+12065550199", "US", "service", "0.00", "0.00", "", "+12065550900", "", "Microsoft", "ucap_in"),
    ("u12", "fmc_in", "bob", "2026-01-12T15:00:00", 45, "+442071234999", "GB", "user", "0.00", "0.00", "MCOPSTN_PAYG", "+12025550185", "", "Microsoft", "user_in"),
    ("u13", "emergency_out", "alice", "2026-01-13T14:00:00", 180, "933", "US", "user", "0.00", "0.00", "MCOPSTN1", "", "", "Microsoft", "emergency_out"),
    ("u14", "ucap_in", "", "2026-01-14T14:00:00", 400, "+12065550144", "US", "toll-free", "0.00", "0.35", "MCOPSTNPP", "+18885550100", "", "Microsoft", "ucap_in"),
    ("u15", "ucap_in", "", "2026-01-14T15:00:00", 300, "+12065550145", "US", "service", "0.00", "0.00", "", "+12065550100", "", "Microsoft", "ucap_in"),
    ("u16", "conf_in", "dave", "2026-01-15T14:00:00", 300, "+13125550166", "US", "toll-free", "0.00", "0.25", "MCOPSTNPP", "+18005550199", "81230000", "Microsoft", "conf_in"),
    ("u17", "conf_in", "dave", "2026-01-15T14:01:00", 600, "+13125550167", "US", "service", "0.00", "0.00", "MCOMEETADD", "+12065550300", "81230000", "Microsoft", "conf_in"),
    ("u18", "conf_out", "dave", "2026-01-15T14:02:00", 240, "+442071234111", "GB", "user", "0.00", "0.00", "MCOMEETADD", "", "81230000", "Microsoft", "conf_out"),
    ("u19", "user_out", "alice", "2026-01-16T14:00:00", 300, "+12065550155", "US", "user", "0.00", "0.00", "", "", "", "Contoso Telecom", ""),
]


def row(c) -> dict:
    uid, ctype, who, start, secs, far, cc, ntype, fee, charge, cap, own, conf, operator, _ = c
    country, name, number = USERS.get(who, ("US", "", ""))
    inbound = ctype.endswith("_in")
    t0 = datetime.fromisoformat(start)
    home = USERS[who][0] if who else "US"
    domestic = "Domestic" if not cc or cc == home or {cc, home} <= {"US", "CA"} else "International"
    return {
        "UsageId": uid, "Call ID": f"call-{uid}", "Conference ID": conf, "User Location": country if who or ctype.startswith("ucap") else "",
        "Microsoft Entra ObjectId": f"00000000-0000-4000-8000-0000000000{sorted(USERS).index(who) + 10}" if who else "",
        "UPN": f"{who}@contoso.com" if who else "", "User Display Name": name, "Caller ID": far if inbound else number,
        "Call Type": ctype, "Call Direction": "Inbound" if inbound else "Outbound", "Number Type": ntype,
        "Domestic/International": domestic, "Destination Dialed": NAMES.get(cc, ""),
        "Destination Number": own if inbound else far, "External Country": cc,
        "Start Time": f"{start}Z", "End Time": f"{(t0 + timedelta(seconds=secs)).isoformat()}Z",
        "Duration Seconds": str(secs), "Connection Fee": fee, "Charge": charge, "Currency": "USD",
        "Capability": cap, "Operator": operator,
        "Source of Call Duration": "Operator" if operator != "Microsoft" else "Microsoft",
        "Administrative Units": "EMEA Sales" if who == "carol" else "",
    }


def rows(operator_connect: bool = True) -> list[dict]:
    return [row(c) for c in CALLS if operator_connect or c[13] == "Microsoft"]


def csv_text(header, data, delimiter=",", quote=csv.QUOTE_MINIMAL, rename=None) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, quoting=quote, lineterminator="\r\n")
    w.writerow([rename(h) if rename else h for h in header])
    for r in data:
        w.writerow([r.get("Microsoft Entra ObjectId" if h == "AAD ObjectId" else h, "") for h in header])
    return out.getvalue()


def graph_row(r: dict, beta: bool, fraction: bool) -> dict:
    g = {}
    for col, prop in GRAPH.items():
        v = r[col]
        if col in ("Start Time", "End Time") and fraction:
            v = v[:-1] + ".1234567Z"
        if col == "Duration Seconds":
            v = int(v)
        elif col in ("Charge", "Connection Fee"):
            v = float(v)
        elif col == "Number Type":
            v = GRAPH_NUMBER_TYPE[v]
        elif col == "Administrative Units":
            if not beta:
                continue
            v = [{"id": f"au-{x}"} for x in v.split(";") if x] if v else []
        elif col == "External Country" and not beta:
            continue
        g[prop] = v if v != "" else None
    g["callDurationSource"] = g["callDurationSource"].lower()
    g["tenantCountryCode"] = "US"
    return g


def page(data, link=None, beta=False) -> dict:
    p = {"@odata.context": f"https://graph.microsoft.com/{'beta' if beta else 'v1.0'}/$metadata#Collection(microsoft.graph.callRecords.pstnCallLogRow)",
         "@odata.count": len(data), "value": data}
    if link:
        p["@odata.nextLink"] = link
    return p


def own_vocabulary() -> list[dict]:
    """The same calls as the project writes them (cdr.csv's six call types): the reference."""
    out = []
    for c, r in zip(CALLS, rows()):
        if not c[14]:
            continue                        # Operator Connect: the carrier bills it
        r = dict(r, **{"Call Type": c[14]})
        if c[1].startswith("ucap_out"):
            r["UPN"] = "resource-account-us@contoso.com"
        out.append(r)
    return out


def main() -> None:
    (HERE / "own-vocabulary.csv").write_text(csv_text(COLUMNS_2025, own_vocabulary()), encoding="utf-8")
    (HERE / "export-2025.csv").write_text(csv_text(COLUMNS_2025, rows()), encoding="utf-8")
    aad = ["AAD ObjectId" if h == "Microsoft Entra ObjectId" else h for h in COLUMNS_2025]
    (HERE / "export-2025-aad.csv").write_text("\ufeff" + csv_text(aad, rows()), encoding="utf-8")
    (HERE / "export-2020.csv").write_text(csv_text(COLUMNS_2020, rows(False)), encoding="utf-8")
    (HERE / "export-2018.tsv").write_text(csv_text(COLUMNS_2020, rows(False), delimiter="\t"), encoding="utf-8")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("PSTN.calls.2026-01-31.csv", csv_text(COLUMNS_2025, rows()))
        z.writestr("DirectRouting.calls.2026-01-31.csv", "Correlation ID,SBC FQDN,Call type\r\n")
        z.writestr("parameters.json", json.dumps({"From": "2026-01-01", "To": "2026-01-31", "Capabilities": []}))
    (HERE / "Calls.Export.0f1e2d3c.zip").write_bytes(archive.getvalue())
    v1 = [graph_row(r, False, True) for r in rows()]
    pages = HERE / "graph-pages"
    pages.mkdir(exist_ok=True)
    link = "https://graph.microsoft.com/v1.0/communications/callRecords/getPstnCalls(fromDateTime=2026-01-01,toDateTime=2026-02-01)?$skip=10"
    (pages / "page-1.json").write_text(json.dumps(page(v1[:10], link), indent=2), encoding="utf-8")
    (pages / "page-2.json").write_text(json.dumps(page(v1[10:]), indent=2), encoding="utf-8")
    beta = [graph_row(r, True, False) for r in rows()]
    (HERE / "graph-beta.json").write_text(json.dumps(page(beta, beta=True)), encoding="utf-8")
    (HERE / "graph.jsonl").write_text("".join(json.dumps(g) + "\n" for g in v1), encoding="utf-8")
    # PowerShell 5.1: $rows | ConvertTo-Json | Out-File (UTF-16 LE with BOM); Export-Csv (#TYPE, all quoted)
    (HERE / "powershell.json").write_bytes("\ufeff".encode("utf-16-le") + json.dumps(v1, indent=4).encode("utf-16-le"))
    props = list(GRAPH.values()) + ["tenantCountryCode"]
    flat = [{k: "" if v is None else ("; ".join(a["id"] for a in v) if isinstance(v, list) else str(v))
             for k, v in graph_row(r, True, False).items()} for r in rows()]
    text = "#TYPE System.Management.Automation.PSCustomObject\r\n" + csv_text(props, [
        {p: f.get(p, "") for p in props} for f in flat], quote=csv.QUOTE_ALL)
    (HERE / "powershell-export.csv").write_text("\ufeff" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
