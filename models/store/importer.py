"""Bulk inserts of record rows: the importer's and the demo generator's SQL.

SQLite: one parameterised ``executemany`` per batch (the sqlite3 module loops in C).
PostgreSQL: ``COPY … FROM STDIN`` per batch, several times faster than multi-row INSERTs
because the server parses no SQL per row. COPY runs inside the caller's transaction
like any statement, so all-or-nothing still holds.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from models.db import db
from models.store.dialect import dialect

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format (NULL is \\N; backslash escapes)."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.translate(_COPY_ESCAPES)
    return text


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, batch_rows: int,
                on_batch: Callable[[int], None] | None = None) -> int:
    """Insert driver-ready rows into ``table`` in batches; returns the number inserted.

    The caller owns the transaction. ``on_batch(count_so_far)`` is called after each
    batch (progress, cancellation: an exception from it aborts the insert).
    """
    cols = ", ".join(f'"{c}"' for c in columns)
    cursor = db.cursor()
    postgres = dialect().postgres
    if postgres:
        sql = f'COPY "{table}" ({cols}) FROM STDIN'

        def flush(batch: list) -> None:
            cursor.copy_expert(sql, io.StringIO("\n".join("\t".join([copy_text(v) for v in row])
                                                          for row in batch) + "\n"))
    else:
        sql = f'INSERT INTO "{table}" ({cols}) VALUES ({dialect().placeholders(len(columns))})'

        def flush(batch: list) -> None:
            cursor.executemany(sql, batch)

    count = 0
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_rows:
            flush(batch)
            count += len(batch)
            batch = []
            if on_batch is not None:
                on_batch(count)
    if batch:
        flush(batch)
        count += len(batch)
        if on_batch is not None:
            on_batch(count)
    return count
