"""The results folder: written into a temporary folder and moved into place whole;
CSV writing and the guard against formula injection shared by every file."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from sim.errors import InputError

_E164 = re.compile(r"^\+\d{1,15}$")


def inert(text: str) -> str:
    """Guard a text cell against formula injection in Excel (OWASP): a leading
    = + - @ tab or CR gets a quote. E.164 numbers like +1888... are left alone."""
    if text and text[0] in "=+-@\t\r" and not _E164.match(text):
        return "'" + text
    return text


MANIFEST = "manifest.json"
WRITTEN_BY = "pstn-credits-sim"       # a manifest without it is another tool's: its files are not ours


UMASK = os.umask(0o022)     # read once, at import (no thread may create files while it is changed)
os.umask(UMASK)
FOREIGN_SHOWN = 1000       # foreign entries listed at most (`--out /` must not walk the whole disk)


def our_files(folder: Path) -> set[str] | None:
    """The files this project's manifest in `folder` lists (POSIX paths inside it); None when the
    folder holds no readable manifest written by this project (another tool's lists nothing ours)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("written_by") != WRITTEN_BY:
            return None
        return {f for f in manifest["files"] if isinstance(f, str) and not PurePosixPath(f).is_absolute()
                and ".." not in PurePosixPath(f).parts}          # never a path outside the folder
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def foreign_entries(folder: Path) -> list[str]:
    """What in an existing results folder this project did not write (per its manifest), as
    POSIX paths relative to it, sorted; the first FOREIGN_SHOWN found when there are more."""
    listed = our_files(folder) or set()
    ours = listed | {MANIFEST} if listed else set()
    dirs = {str(d) for f in ours for d in PurePosixPath(f).parents} - {"."}
    foreign: list[str] = []

    def walk(rel: str) -> None:
        try:
            children = sorted(os.scandir(folder / rel), key=lambda e: e.name)
        except OSError as e:
            if rel and rel not in dirs:
                return                  # a folder of the user's that cannot be read: named already
            raise InputError(f"--out {folder}", f"cannot read {rel or 'it'} ({e.strerror or e.__class__.__name__}); "
                                                "name another folder") from None
        for e in children:
            if len(foreign) >= FOREIGN_SHOWN:
                return
            r = f"{rel}/{e.name}" if rel else e.name
            is_dir = e.is_dir(follow_symlinks=False)
            if r not in dirs or not is_dir:
                if r not in ours or is_dir:
                    foreign.append(r)
            if is_dir:
                walk(r)

    walk("")
    return sorted(foreign)


def check_out_folder(final: Path, force: bool = False) -> None:
    """--out may be new, empty, or a folder this project wrote (every entry in its manifest).

    Anything else in it is the user's: refused, unless --force, which writes the results
    into the folder and leaves the other files alone."""
    if final.is_symlink() and not final.exists():
        raise InputError(f"--out {final}", f"is a symbolic link to {os.readlink(final)}, which does not exist; "
                                           "name a folder")
    if not final.exists():
        return
    if not final.is_dir():
        raise InputError(f"--out {final}", "exists and is not a folder; name a folder")
    foreign = foreign_entries(final)
    if foreign and not force:
        more = f"{len(foreign) - 3}{'+' if len(foreign) >= FOREIGN_SHOWN else ''}"
        shown = ", ".join(foreign[:3]) + (f" and {more} more" if len(foreign) > 3 else "")
        raise InputError(f"--out {final}", f"not a results folder this project wrote: it holds {shown}; "
                                           "nothing was changed. Name another --out, or add --force to write "
                                           "the results into it and keep those files")


@contextmanager
def atomic_folder(final: Path, force: bool = False):
    """Yield a temporary folder beside `final`; on success it replaces `final` whole and a
    manifest lists what it holds. With `force`, `final` keeps the entries it had that were
    not ours and the results are moved in beside them.

    On any failure (Ctrl-C, SIGTERM and SIGHUP included: sim.cli turns them into
    KeyboardInterrupt) the temporary folder is removed and `final` is untouched.
    """
    final = Path(final)
    check_out_folder(final, force)
    if final.is_symlink():
        final = final.resolve()          # a link to a folder: the results go into that folder
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        _TEMPORARY.add(tmp)
        tmp.chmod(0o777 & ~UMASK)        # mkdtemp's 0700 would make the results the user's alone
    except OSError as e:
        raise InputError(f"--out {final}", f"cannot create the results folder there "
                                           f"({e.strerror or e.__class__.__name__})") from None
    try:
        yield tmp
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        (tmp / MANIFEST).write_text(json.dumps({"written_by": WRITTEN_BY, "files": files}, indent=1) + "\n",
                                    encoding="utf-8")
        if final.is_symlink() or final.exists() and not final.is_dir():
            _keep_aside(tmp, final, "a file or link was put in its place during the run")
        foreign = foreign_entries(final) if final.exists() else []
        if foreign and force:
            _merge_into(tmp, final)
            return
        if foreign:                      # put there while the run went on: the user's, never replaced
            _keep_aside(tmp, final, f"{', '.join(foreign[:3])} appeared in it during the run")
        try:
            old = _swap(tmp, final)
        except OSError as e:
            raise InputError(f"--out {final}", f"cannot move the results into place "
                                               f"({e.strerror or e.__class__.__name__}); nothing was changed") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _TEMPORARY.discard(tmp)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


_TEMPORARY: set[Path] = set()        # results folders being written (`remove_temporary`)


def remove_temporary() -> None:
    """Remove every results folder still being written: for a process about to end at once."""
    for tmp in list(_TEMPORARY):
        shutil.rmtree(tmp, ignore_errors=True)


def _keep_aside(tmp: Path, final: Path, why: str) -> None:
    """The finished results moved to a new visible folder beside `final`, which is left as it is:
    an InputError says why and where they are."""
    try:
        kept = Path(tempfile.mkdtemp(prefix=f"{final.name}.results-", dir=final.parent))
        os.replace(tmp, kept)            # onto the new empty folder
        kept.chmod(0o777 & ~UMASK)
    except OSError as e:
        raise InputError(f"--out {final}", f"{why}; nothing in it was changed, and the results could not be "
                                           f"kept beside it ({e.strerror or e.__class__.__name__})") from None
    raise InputError(f"--out {final}", f"{why}; nothing in it was changed, and the results are in {kept}")


def _swap(tmp: Path, final: Path) -> Path | None:
    """Move `tmp` to `final`, what was there set aside (returned: to delete) and put back if the
    move fails."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:                # an OSError, or a signal between the two renames
        if old is not None:
            os.replace(old, final)
        raise
    return old


def _folders_of(final: Path, rel: str):
    """The folders `rel` lies in inside `final`, outermost first (`final` itself not included)."""
    parts = PurePosixPath(rel).parts
    return (final.joinpath(*parts[:k]) for k in range(1, len(parts)))


def _blocked(final: Path, rel: str, ours: set[str]) -> bool:
    """Would writing `rel` into `final` replace, or go through, something not ours: a file or a
    link where one of its folders should be, or a file (or link) of that name we did not write."""
    if any(p.is_symlink() or p.exists() and not p.is_dir() for p in _folders_of(final, rel)):
        return True
    target = final / rel
    return (target.is_symlink() or target.exists()) and (rel not in ours or target.is_symlink())


def _merge_into(tmp: Path, final: Path) -> None:
    """--force onto a folder with the user's files: drop our previous results, move the new in.
    A file of the user's with the name of one of ours (another tool's manifest.json included)
    is never replaced: the results are kept aside instead."""
    mine = our_files(final)
    previous = mine or set()
    owned = previous | {MANIFEST} if mine is not None else set()
    new = [p.relative_to(tmp).as_posix() for p in sorted(tmp.rglob("*")) if p.is_file()]
    clash = [r for r in new if _blocked(final, r, owned)]
    if clash:
        _keep_aside(tmp, final, f"its {', '.join(clash[:3])} would be replaced (not written by this program)")
    for rel in previous:
        if not any(p.is_symlink() for p in _folders_of(final, rel)):
            (final / rel).unlink(missing_ok=True)        # never through a link the user put there
    for f in sorted(p for p in tmp.rglob("*") if p.is_file()):
        target = final / f.relative_to(tmp)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(f, target)
    shutil.rmtree(tmp, ignore_errors=True)


def write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)

