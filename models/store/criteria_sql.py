"""The few places criteria SQL differs between SQLite and PostgreSQL, in one module:
folding text, substring tests, a JSON array bound as one parameter and asking the
planner for a plan (the index catalog is ``Dialect.indexes``). ``models/criteria.py``
and ``models/indexes.py`` call these and never test the dialect themselves.
"""
from __future__ import annotations

import json

import peewee as pw

from models.db import db, is_postgres


def fold_column(col):
    """Text folded the way Python's ``models.db.fold`` folds it."""
    return pw.fn.lower(col) if is_postgres() else pw.fn.rota_fold(col)


def fold_index_expression(quoted_column: str) -> str:
    """The index expression that matches ``fold_column`` (so the index is usable)."""
    return f"(lower({quoted_column}))" if is_postgres() else f"rota_fold({quoted_column})"


def contains_position(col, needle: str):
    """Substring position (0: absent): exact, no LIKE wildcards to escape."""
    return pw.fn.strpos(col, needle) if is_postgres() else pw.fn.instr(col, needle)


def json_values(values: list) -> pw.Node:
    """``SELECT value FROM <one JSON array parameter>``: a list of any length bound as a
    single parameter (``json_each`` / ``jsonb_array_elements_text``), never as one
    placeholder per value. Values are text or numbers (one kind per list)."""
    text = json.dumps(list(values), ensure_ascii=False)
    if is_postgres():
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return pw.SQL("(SELECT CAST(value AS DOUBLE PRECISION) FROM jsonb_array_elements_text(CAST(%s AS jsonb)))",
                          (text,))
        return pw.SQL("(SELECT value FROM jsonb_array_elements_text(CAST(%s AS jsonb)))", (text,))
    return pw.SQL("(SELECT value FROM json_each(?))", (text,))


def explain(query) -> None:
    """Ask the database to plan ``query`` (EXPLAIN, nothing is run); raises what the
    database raises when it cannot (too deep, too many terms, …)."""
    sql, params = query.sql()
    prefix = "EXPLAIN " if is_postgres() else "EXPLAIN QUERY PLAN "
    with db.atomic():
        db.execute_sql(prefix + sql, params).fetchall()
