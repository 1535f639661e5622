"""Exceptions that come from bad input or a bad database, put in words for ``rota``.

``tui.cli.main`` (tui.commandline.entry) turns a RotaError into exit status 2 and one line. Some bad input
reaches deeper code and surfaces as a Python or database exception instead: a date
that overflows, JSON or TOML nested past the parser's stack, a file that is not UTF-8,
a database file that is not a database, read-only, locked or full. ``explain`` says
what such an exception means to the person at the terminal; anything it does not
recognise stays an internal error (exit 1, traceback in the log).
"""
from __future__ import annotations

import sqlite3

import peewee as pw

from models.text import shorten

try:  # the PostgreSQL driver is optional at import time
    import psycopg2
except ImportError:  # pragma: no cover - psycopg2 is a dependency
    psycopg2 = None

_DB_ERRORS: tuple[type[BaseException], ...] = (pw.DatabaseError, sqlite3.DatabaseError) + (
    (psycopg2.Error,) if psycopg2 is not None else ())

# SQLite's own words → what the operator should know or do. The first match wins.
_DB_MEANINGS = (
    ("file is not a database", "{db} is not a database file (SQLite: file is not a database); check --db"),
    ("malformed", "the database {db} is corrupt (SQLite: database disk image is malformed); restore a backup"),
    ("database or disk is full", "database or disk is full: nothing was written; free some space, try again"),
    ("readonly", "the database {db} is read-only: nothing was written; check the file's permissions"),
    ("read-only", "the database {db} is read-only: nothing was written"),
    ("database is locked", "the database {db} stayed locked by another process: nothing was written; retry"),
    ("unable to open database", "cannot open the database {db}: check the path and its permissions"),
    ("disk i/o error", "disk I/O error on the database {db}: nothing was written"),
    ("no transaction is active", "the database {db} failed mid-write (often a full disk): nothing was written"),
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def explain(exc: BaseException, db_label: str) -> str | None:
    """One line for an exception caused by input or the database, or None (a bug)."""
    if isinstance(exc, _DB_ERRORS):
        # A failed write's rollback can fail too ("cannot rollback - no transaction is
        # active") and hide the cause; the cause is the oldest database error in the chain.
        chain: list[BaseException] = []
        seen: BaseException | None = exc
        while seen is not None and seen not in chain:
            chain.append(seen)
            seen = seen.__cause__ or seen.__context__
        for cause in reversed(chain):
            if not isinstance(cause, _DB_ERRORS):
                continue
            low = _first_line(cause).lower()
            for needle, message in _DB_MEANINGS:
                if needle in low:
                    return message.format(db=db_label)
        return f"database error on {db_label}: {shorten(_first_line(exc), 200)}"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read; flatten it (at most 64 levels)"
    if isinstance(exc, OverflowError):
        return f"a number or date is out of range ({shorten(_first_line(exc), 80)}); dates must lie " \
               f"between the years 0001 and 9999 and whole numbers must fit in 64 bits"
    if isinstance(exc, UnicodeError):
        return f"a file is not UTF-8 text ({shorten(_first_line(exc), 80)}); save it as UTF-8"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "a number has too many digits; whole numbers must fit in 64 bits"
    return None
