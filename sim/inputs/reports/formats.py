"""Which export a file is, told by its content (not its name), and its text decoded.

Handled: a ZIP as downloaded from the Teams admin center (`Calls.Export.*.zip` /
`Export.callingplans.*.zip` holding `PSTN.calls.*.csv`, `parameters.json` and perhaps
`DirectRouting.calls.*.csv`); CSV exports (comma, or tab before 2019); Graph `getPstnCalls`
JSON pages, JSON arrays, JSON Lines; PowerShell `ConvertTo-Json` and `Export-Csv` saves.
Encodings: UTF-8 with or without BOM, UTF-16 (BOM, or detected from the zero bytes).
"""
from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sim.errors import InputError

from ..yamlfile import read_input

ZIP_MAGIC = b"PK\x03\x04"
RESAVE = ("re-export the report from the Teams admin center (or the Graph API) and replay the file as "
          "downloaded; from Excel, save as 'CSV UTF-8 (Comma delimited)'")


@dataclass
class Text:
    """One decoded document: a file, or a member of a ZIP (`name` says which)."""
    name: str
    text: str
    encoding: str


def is_direct_routing_name(name: str) -> bool:
    return PurePosixPath(name).name.lower().startswith("directrouting.calls")


def direct_routing_message(name: str) -> InputError:
    return InputError(name, "this is a Direct Routing usage export (DirectRouting.calls.*.csv): those calls go over "
                            "the tenant's own carrier and carry no Communications Credits charges, so there is "
                            "nothing to rebill; replay the Calling Plans export (PSTN.calls.*.csv) instead")


def skip_reason(name: str) -> str | None:
    """Why a member of an export (in its ZIP, or the folder it was unzipped into) is not read:
    the export's parameters, or the Direct Routing calls, which credits never pay."""
    base = PurePosixPath(name).name.lower()
    if base == "parameters.json":
        return "the export's parameters"
    if is_direct_routing_name(base):
        return "Direct Routing: no credit charges"
    return None


def read_texts(path: Path) -> tuple[list[Text], list[str]]:
    """A file -> its documents, and the names of members skipped (with why)."""
    data = read_input(path, "usage report")
    if not data.startswith(ZIP_MAGIC):
        if is_direct_routing_name(path.name):
            raise direct_routing_message(str(path))
        return [decode(str(path), data)], []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
        texts, skipped, unpacked = [], [], 0
        for m in sorted(members, key=lambda m: m.filename):
            name = f"{path}!{m.filename}"
            if why := skip_reason(m.filename):
                skipped.append(f"{name} ({why})")
            elif m.filename.lower().endswith((".csv", ".json", ".jsonl", ".txt", ".tsv")):
                texts.append(decode(name, _member(archive, m, name, unpacked)))
                unpacked += m.file_size
            else:
                skipped.append(f"{name} (not a usage export)")
    except zipfile.BadZipFile as e:
        raise InputError(str(path), f"a damaged ZIP archive ({e}); download the export again") from None
    if not texts:
        raise InputError(str(path), "the ZIP holds no PSTN.calls.*.csv usage export"
                         + (f" (only {', '.join(s.split('!')[-1] for s in skipped)})" if skipped else ""))
    return texts, skipped


MAX_MEMBER = 2**30        # bytes unpacked from one ZIP at most, all members: a zip bomb is refused, not unpacked


def _member(archive: zipfile.ZipFile, m: zipfile.ZipInfo, name: str, before: int) -> bytes:
    """A member's bytes, refused by its header when it, with the `before` bytes of the members
    read already, unpacks past MAX_MEMBER (zipfile reads no further than the header's size: a
    header that lies fails its CRC, a damaged ZIP)."""
    if before + m.file_size > MAX_MEMBER:
        raise InputError(name, f"the ZIP unpacks to more than {MAX_MEMBER // 2**20:,} MB: not a usage export this "
                               "program reads whole; export a shorter period")
    return archive.read(m)


def decode(name: str, data: bytes) -> Text:
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"                     # PowerShell 5.1 Out-File / ConvertTo-Json saves
    elif len(data) >= 2 and data[0] and not data[1]:
        encoding = "utf-16-le"
    elif len(data) >= 2 and not data[0] and data[1]:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8"
    try:
        return Text(name, data.decode(encoding), encoding)
    except UnicodeDecodeError as e:
        head = data[:e.start].decode(encoding, errors="replace")
        line = head.count("\n") + 1
        col = len(head) - (head.rfind("\n") + 1) + 1
        bad = data[e.start:e.end]
        guess = ""
        try:
            data.decode("cp1252")
            guess = (f" ({bad.decode('cp1252')!r} in Windows-1252: the file was saved by Excel or another program "
                     "in a legacy encoding)")
        except UnicodeDecodeError:
            pass
        raise InputError(f"{name}:{line}:{col}", f"byte 0x{bad.hex()} is not valid {encoding.upper()}{guess}; "
                                                 f"{RESAVE}") from None


def kind_of(doc: Text) -> str:
    """'json' (one document: a Graph page, an array or one row), 'jsonl', or 'csv'."""
    body = doc.text.lstrip("\ufeff \t\r\n")
    if body.startswith("["):
        return "json"
    if body.startswith("{"):
        lines = [ln for ln in body.splitlines() if ln.strip()]
        if len(lines) > 1 and all(ln.lstrip().startswith("{") and ln.rstrip().endswith("}") for ln in lines):
            return "jsonl"
        return "json"
    return "csv"
