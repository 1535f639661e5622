"""Bulk statements over id lists: inserts, updates and reads of many rows by id.

Plain SQL, not peewee expressions: a batch is thousands of rows, and building an
expression per row costs more than the database does.
"""
from __future__ import annotations

from typing import Any

from psycopg2.extras import execute_values

from models.db import db, is_postgres


def bulk_insert(model, rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """INSERT many rows with one prepared statement (``executemany`` on SQLite,
    ``execute_values`` on PostgreSQL). A batch writes thousands of history, task and
    notification rows; building each as a peewee expression tree costs more than the
    database does. Values go through each field's ``db_value``, as peewee would."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.fields[n] for n in names]
    insert_tuples(model, names, [tuple(f.db_value(r[n]) for f, n in zip(fields, names)) for r in rows],
                  ignore_conflicts=ignore_conflicts)


def insert_tuples(model, names: list[str], values: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Like ``bulk_insert`` for values that are already what the columns store."""
    if not values:
        return
    fields = [model._meta.fields[n] for n in names]
    table = model._meta.table_name
    cols = ", ".join(f'"{f.column_name}"' for f in fields)
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    cursor = db.cursor()
    if is_postgres():
        execute_values(cursor, f'INSERT INTO "{table}" ({cols}) VALUES %s{tail}', values, page_size=1000)
    else:
        marks = ", ".join("?" for _ in fields)
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks}){tail}', values)


def update_ids(model, values: dict[str, Any], ids: list[int], *, where: dict[str, Any] | None = None) -> int:
    """``UPDATE … SET values WHERE id IN (ids) [AND col = v …]`` as plain SQL, in
    chunks; returns the rows changed. The id lists are what a batch is made of, and a
    peewee expression per id costs more than the statement itself."""
    if not ids:
        return 0
    mark = "%s" if is_postgres() else "?"
    meta = model._meta
    set_fields = [(meta.fields[k], v) for k, v in values.items()]
    sets = ", ".join(f'"{f.column_name}" = {mark}' for f, _ in set_fields)
    params = [f.db_value(v) for f, v in set_fields]
    cond_fields = [(meta.fields[k], v) for k, v in (where or {}).items()]
    conds = "".join(f' AND "{f.column_name}" = {mark}' for f, _ in cond_fields)
    cond_params = [f.db_value(v) for f, v in cond_fields]
    changed = 0
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        sql = (f'UPDATE "{meta.table_name}" SET {sets} WHERE "id" IN ({", ".join(mark for _ in chunk)}){conds}')
        cursor = db.cursor()
        cursor.execute(sql, [*params, *chunk, *cond_params])
        changed += cursor.rowcount
    return changed


def select_ids(model, ids: list[int], columns: tuple[str, ...] | None = None) -> list:
    """Whole rows for ``ids`` as dicts of Python values (each field's ``python_value``);
    with ``columns=("id",)``, just the ids that exist."""
    mark = "%s" if is_postgres() else "?"
    meta = model._meta
    fields = [meta.fields[c] for c in columns] if columns else list(meta.sorted_fields)
    cols = ", ".join(f'"{f.column_name}"' for f in fields)
    names = [f.name for f in fields]
    convert = [f.python_value for f in fields]
    out: list[dict] = []
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        cursor = db.cursor()
        cursor.execute(f'SELECT {cols} FROM "{meta.table_name}" WHERE "id" IN ({", ".join(mark for _ in chunk)})',
                       chunk)
        if columns == ("id",):
            out.extend(row[0] for row in cursor.fetchall())
            continue
        for row in cursor.fetchall():
            out.append({n: (c(v) if v is not None else None) for n, c, v in zip(names, convert, row)})
    return out


def bulk_set(model, column: str, pairs: list[tuple[Any, int]], extra: dict[str, Any]) -> None:
    """UPDATE one column to a per-row value (``(value, id)`` pairs), plus ``extra``
    constant columns, as one prepared statement run many times."""
    if not pairs:
        return
    field = model._meta.fields[column]
    extra_fields = [(model._meta.fields[k], v) for k, v in extra.items()]
    mark = "%s" if is_postgres() else "?"
    sets = ", ".join([f'"{field.column_name}" = {mark}'] + [f'"{f.column_name}" = {mark}' for f, _ in extra_fields])
    sql = f'UPDATE "{model._meta.table_name}" SET {sets} WHERE "id" = {mark}'
    consts = [f.db_value(v) for f, v in extra_fields]
    db.cursor().executemany(sql, [(field.db_value(v), *consts, rid) for v, rid in pairs])
