"""The results folder: written into a temporary folder and moved into place whole;
CSV writing and the guard against formula injection shared by every file."""
from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

_E164 = re.compile(r"^\+\d{1,15}$")


def inert(text: str) -> str:
    """Guard a text cell against formula injection in Excel (OWASP): a leading
    = + - @ tab or CR gets a quote. E.164 numbers like +1888... are left alone."""
    if text and text[0] in "=+-@\t\r" and not _E164.match(text):
        return "'" + text
    return text


@contextmanager
def atomic_folder(final: Path):
    """Yield a temporary folder beside `final`; on success it replaces `final` whole.

    On any failure the temporary folder is removed and `final` is untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)

