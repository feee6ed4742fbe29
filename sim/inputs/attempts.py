"""Call attempts as typed columns (numpy), sorted by start instant.

The attempt's position is its number: R6 ties at one instant go to the lower
number (the earlier call). Synthetic traffic and replayed reports both produce
this, so one engine bills both.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TENANT = -1          # payer of toll-free inbound to auto attendants / call queues


@dataclass
class Attempts:
    t: np.ndarray            # int64 start, seconds since scenario start
    kind: np.ndarray         # int8 models.calls.CallKind
    payer: np.ndarray        # int32 user index, or TENANT
    country: np.ndarray      # int16 index into `countries`: destination (out) or origin (in)
    duration: np.ndarray     # int32 intended seconds
    conf: np.ndarray         # int32 conference number, -1 when not a meeting call
    tf: np.ndarray           # int16 index of the tenant's toll-free / service number, -1 if none
    countries: list[str]
    numbers: list[str] | None = None        # the far end's number, when known (replay)
    usage_ids: list[str] | None = None      # replay keeps the report's ids
    call_ids: list[str] | None = None
    lines: list[str] | None = None          # "file:line" of each attempt in the report (replay)
    conference_ids: list[str] | None = None  # the report's Conference ID of each `conf` number (replay)
    duplicates: list[tuple[str, int, str]] = field(default_factory=list)   # (file, line, UsageId) not billed twice
    service_numbers: list[str] = field(default_factory=list)         # numbers `tf` indexes
    # replay: the input columns the rebilling does not decide, per attempt (the CDR keeps them)
    passthrough: list[dict[str, str]] | None = None
    reported: list[tuple] | None = None     # replay: (fee, charge, capability) as the report had them
    import_report: object | None = None     # replay: sim.inputs.reports.ImportReport

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def from_rows(cls, rows: list[tuple], countries: list[str], **extra) -> "Attempts":
        """rows: (t, kind, payer, country_idx, duration, conf, tf, extra_index); sorted stably by t."""
        order = sorted(range(len(rows)), key=lambda i: rows[i][0])
        cols = list(zip(*(rows[i] for i in order))) if rows else [()] * 7
        a = cls(np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int8),
                np.array(cols[2], dtype=np.int32), np.array(cols[3], dtype=np.int16),
                np.array(cols[4], dtype=np.int32), np.array(cols[5], dtype=np.int32),
                np.array(cols[6], dtype=np.int16), countries)
        for name, values in extra.items():
            setattr(a, name, [values[i] for i in order] if isinstance(values, list) and len(values) == len(rows)
                    else values)
        return a
