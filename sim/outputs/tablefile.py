"""Writing a per-call table (cdr, ledger, disruptions) as CSV and / or Parquet, whole columns
at a time (pyarrow's writers, C speed).

The table is typed: times are UTC timestamps, money is decimal128 (exact), counts are
integers. Parquet keeps those types (pandas, Polars and DuckDB read them as such); the CSV
shows times as '2026-01-05T14:03:00Z' and money with its scale's decimals, and is byte for
byte what Python's csv module writes (minimal quoting, CRLF line ends): pyarrow writes every
row that needs no quotes; the rare row with a comma, quote or line break in a text cell is
written by the csv module, in its place.
"""
from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .columns import iso_times

FORMATS = ("csv", "parquet", "both")
_SPECIAL = '[",\r\n]'            # what makes Python's csv module quote a cell (QUOTE_MINIMAL)
_PLAIN = pa_csv.WriteOptions(include_header=False, quoting_style="none", eol="\r\n")


def as_text(table: pa.Table) -> pa.Table:
    """The table as the CSV shows it: timestamps as ISO text, decimals as text; ints stay ints."""
    cols = []
    for col in table.columns:
        if isinstance(col, pa.ChunkedArray):            # one chunk: no copy (combine_chunks copies)
            col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
        if pa.types.is_timestamp(col.type):
            col = iso_times(col)
        elif pa.types.is_decimal(col.type):
            col = col.cast(pa.string())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _may_need_quotes(col: pa.Array) -> bool:
    """False when no cell of a string column can need quotes: a byte search (memchr) over its
    whole text (most columns: ids, times, codes), instead of a per-cell search."""
    data = col.buffers()[2]
    if data is None:
        return False
    text = data.to_pybytes()
    return any(c in text for c in (b'"', b",", b"\r", b"\n"))


def _write_csv_rows(f, table: pa.Table) -> None:
    """The table's rows (no header) as Python's csv module writes them, mostly by pyarrow."""
    text = as_text(table)
    quoted = np.zeros(text.num_rows, dtype=bool)
    for col in text.columns:
        col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
        if pa.types.is_string(col.type) and text.num_rows and _may_need_quotes(col):
            quoted |= np.asarray(pc.match_substring_regex(col, _SPECIAL).fill_null(False), dtype=bool)
    start = 0
    for i in np.flatnonzero(quoted).tolist() + [text.num_rows]:
        if i > start:
            pa_csv.write_csv(text.slice(start, i - start), f, _PLAIN)
        if i < text.num_rows:
            row = io.StringIO()
            csv.writer(row).writerow(["" if v is None else v for v in text.slice(i, 1).to_pylist()[0].values()])
            f.write(row.getvalue().encode("utf-8"))
        start = i + 1


def write_csv_table(path: Path, table: pa.Table) -> None:
    write_table(Path(path).parent, Path(path).stem, table, "csv")


def write_table(folder: Path, name: str, tables: pa.Table | Iterable[pa.Table], fmt: str = "csv") -> None:
    """folder/name.csv and / or folder/name.parquet, as `fmt` ('csv', 'parquet' or 'both') says,
    from one table or from its blocks of rows in order (bounded memory: at most two blocks at a
    time). A block is written by a writer thread while the next one is built: pyarrow's writers
    and most of numpy run without the GIL, so building and writing overlap on two cores."""
    blocks = [tables] if isinstance(tables, pa.Table) else tables
    folder = Path(folder)
    with contextlib.ExitStack() as stack:
        f = stack.enter_context((folder / f"{name}.csv").open("wb")) if fmt in ("csv", "both") else None
        parquet = []

        def write(table: pa.Table) -> None:
            if f is not None:
                if f.tell() == 0:
                    header = io.StringIO()
                    csv.writer(header).writerow(table.column_names)
                    f.write(header.getvalue().encode("utf-8"))
                _write_csv_rows(f, table)
            if fmt in ("parquet", "both"):
                if not parquet:
                    import pyarrow.parquet as pq
                    parquet.append(stack.enter_context(pq.ParquetWriter(folder / f"{name}.parquet", table.schema)))
                parquet[0].write_table(table)

        writer = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix=f"write-{name}"))
        pending = None
        for table in blocks:
            if pending is not None:
                pending.result()          # in order, one block behind; raises the writer's error
            pending = writer.submit(write, table)
        if pending is not None:
            pending.result()
    pa.default_memory_pool().release_unused()      # give the blocks' memory back (mimalloc keeps it)


def head_rows(folder: Path, name: str, limit: int | None = None) -> tuple[list[str], Iterator[list[str]]]:
    """(header, rows as CSV text) of a per-call table as written, its CSV or else its Parquet;
    at most `limit` rows when given."""
    folder = Path(folder)
    path = folder / f"{name}.csv"
    if path.is_file() or not (folder / f"{name}.parquet").is_file():
        def rows():
            with path.open(newline="", encoding="utf-8") as f:
                reader = csv.reader(f)
                next(reader, None)
                yield from itertools.islice(reader, limit)
        with path.open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), None) or []
        return header, rows()
    import pyarrow.parquet as pq
    pf = pq.ParquetFile(folder / f"{name}.parquet")
    header = pf.schema_arrow.names

    def parquet_rows():
        left = limit
        for batch in pf.iter_batches(batch_size=min(limit or 65_536, 65_536)):
            text = as_text(pa.Table.from_batches([batch]))
            if left is not None:
                text = text.slice(0, left)
                left -= text.num_rows
            for values in zip(*(c.to_pylist() for c in text.columns)):
                yield ["" if v is None else str(v) for v in values]
            if left == 0:
                return
    return header, parquet_rows()
