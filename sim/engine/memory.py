"""Giving freed memory back to the system between a replication's phases (glibc only).

glibc's malloc raises its mmap threshold each time a big block is freed, so that later arrays
(and Python's small objects) come from the heap, which only shrinks from its top. A tenant-year
left ~170 MiB of free heap behind once its attempts were generated, and ~350 MiB once its
pre-pass was dropped (benchmarks/README.md). A fixed threshold keeps every array of 1 MiB or
more in its own mapping, returned when freed; `release()` trims what the heap still holds.
Neither changes a result; elsewhere than glibc both do nothing. Arrow's own pool (mimalloc) keeps
what the files' tables freed for its next allocation: `release()` has it give that back too, once
files have been written (the replication's next policy then simulates without it).
"""
from __future__ import annotations

import ctypes
import gc
import sys

M_MMAP_THRESHOLD = -3          # mallopt parameter (malloc.h)
MMAP_THRESHOLD = 1 << 20
WORTH_IT = 1 << 20             # call attempts: a smaller phase frees too little for a collection


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")      # by name: find_library would run ldconfig in every worker
    except OSError:                           # not glibc (macOS, Windows, musl)
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()
if _LIBC is not None:
    _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def release(attempts: int | None = None) -> None:
    """Collect cycles, then give the heap's free pages back (after a phase that freed much).
    `attempts`: how many call attempts the phase handled; below WORTH_IT nothing is done. A full
    collection costs ~60 ms in a process that has loaded the outputs' libraries: 85 of them were
    half of `make run`'s simulate step (40 small replications), while a small run's tables are a
    few MB that the next automatic collection frees anyway."""
    if attempts is not None and attempts < WORTH_IT:
        return
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
    arrow = sys.modules.get("pyarrow")          # only once something has imported it
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
