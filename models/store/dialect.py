"""The few places SQLite and PostgreSQL differ, behind one object.

Everything else in the store is written once, in SQL both databases accept (``ON
CONFLICT``, ``CAST``, integer instants). What differs:

=====================  ==============================  =================================
                       SQLite                          PostgreSQL
=====================  ==============================  =================================
placeholder            ``?``                           ``%s``
write transaction      ``BEGIN IMMEDIATE`` (the write  ``BEGIN`` (row locks are taken by
                       lock up front, so the busy      the statements themselves)
                       timeout applies)
claiming a row         the write lock serialises       ``FOR UPDATE SKIP LOCKED``: rows
                       writers: nothing to skip        another engine holds are skipped
a JSON array bound as  ``json_each(?)``                ``jsonb_array_elements_text(%s)``
one parameter
cross-process wake-up  none (engines re-read on lease  ``NOTIFY`` / ``LISTEN``
                       renewal)
=====================  ==============================  =================================

``dialect()`` returns the object for the database ``db`` points at now.
"""
from __future__ import annotations

import json
import logging
import select
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import peewee as pw
import psycopg2

from models.db import db, is_postgres

log = logging.getLogger("rota.store")

# What a JSON array element becomes on PostgreSQL (jsonb_array_elements_text gives text).
_PG_CASTS = {"text": None, "int": "BIGINT", "bigint": "BIGINT", "real": "DOUBLE PRECISION", "bool": "BOOLEAN"}


@dataclass(frozen=True)
class Dialect:
    name: str  # "sqlite" or "postgresql"

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    @property
    def param(self) -> str:
        """The placeholder for one bound value in raw SQL."""
        return "%s" if self.postgres else "?"

    @property
    def without_rowid(self) -> bool:
        """A table may be kept in its key's b-tree alone (SQLite ``WITHOUT ROWID``);
        PostgreSQL has no such clause."""
        return not self.postgres

    def placeholders(self, n: int) -> str:
        return ", ".join([self.param] * n)

    # ------------------------------------------------------------------ transactions

    def write_transaction(self) -> Any:
        """A transaction that takes the write lock at once on SQLite (``BEGIN IMMEDIATE``):
        no lock upgrade later, so two writers never meet in SQLITE_BUSY mid-transaction,
        and a writer that finds the lock held waits up to the busy timeout. Nested
        inside another transaction it is a savepoint."""
        if self.postgres:
            return db.atomic()
        return db.atomic("IMMEDIATE")

    def tune_sqlite(self, pragmas: dict[str, int]) -> None:
        """Apply integer PRAGMAs to this thread's connection (SQLite only; PostgreSQL
        has no per-connection equivalent worth setting)."""
        if self.postgres:
            return
        for name, value in pragmas.items():
            if not name.isidentifier():
                raise ValueError(f"bad PRAGMA name {name!r}")
            db.execute_sql(f"PRAGMA {name} = {int(value)}")

    # ------------------------------------------------------------------ claiming

    def skip_locked(self, query: pw.Select) -> pw.Select:
        """``query`` locking the rows it returns for this transaction, skipping rows that
        another transaction holds (PostgreSQL). On SQLite the write transaction already
        holds the only write lock, so the query is unchanged."""
        if self.postgres:
            return query.for_update("FOR UPDATE SKIP LOCKED")
        return query

    def skip_locked_sql(self, of: str | None = None) -> str:
        """The same, as a clause to append to a raw ``SELECT`` (``of``: lock only the
        rows of that table alias in a join)."""
        if not self.postgres:
            return ""
        return f" FOR UPDATE OF {of} SKIP LOCKED" if of else " FOR UPDATE SKIP LOCKED"

    # ------------------------------------------------------------------ statements

    @staticmethod
    def upsert_ignore() -> str:
        """The tail of an ``INSERT`` that skips rows a unique key already holds (both
        databases accept it; one spelling for the store)."""
        return "ON CONFLICT DO NOTHING"

    def json_array(self, values: Iterable[Any], element: str = "text") -> pw.SQL:
        """A sub-select over ``values`` bound as ONE JSON parameter, for ``column IN (…)``.

        ``element`` is the type of the elements (text, int, real, bool). A list of
        100,000 values is one parameter, never 100,000 placeholders (SQLite allows
        32,766 variables; PostgreSQL 65,535).
        """
        payload = json.dumps(list(values), ensure_ascii=False)
        if self.postgres:
            cast = _PG_CASTS.get(element)
            if element not in _PG_CASTS:
                raise ValueError(f"unknown JSON array element type {element!r}")
            value = f"CAST(value AS {cast})" if cast else "value"
            return pw.SQL(f"(SELECT {value} FROM jsonb_array_elements_text(CAST(%s AS JSONB)))", [payload])
        return pw.SQL("(SELECT value FROM json_each(?))", [payload])

    @property
    def percent(self) -> str:
        """A literal ``%`` in raw SQL that is executed with parameters (the PostgreSQL
        driver reads a lone ``%`` as a placeholder)."""
        return "%%" if self.postgres else "%"

    def lock_table(self, table: str) -> None:
        """Inside a write transaction: keep other writers off ``table`` until commit
        (PostgreSQL ``LOCK TABLE … IN EXCLUSIVE MODE``; SQLite's write transaction holds
        the database's only write lock already)."""
        if self.postgres:
            db.execute_sql(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')

    # ------------------------------------------------------------------ catalog

    def indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE statement) of every index on ``table`` that has a definition."""
        if self.postgres:
            rows = db.execute_sql("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                  "AND tablename = %s", (table,)).fetchall()
        else:
            rows = db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                                  (table,)).fetchall()
        return [(r[0], r[1]) for r in rows if r[1]]

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the table's plain indexes: not the primary key,
        not unique (those a bulk load may drop and rebuild)."""
        if self.postgres:
            rows = db.execute_sql(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary AND NOT x.indisunique",
                (f'"{table}"',)).fetchall()
            return [(r[0], r[1]) for r in rows]
        return [(name, sql) for name, sql in self.indexes(table)
                if not sql.lstrip().upper().startswith("CREATE UNIQUE")]

    # ------------------------------------------------------------------ wake-ups

    def notify(self, channel: str) -> None:
        """Tell other processes listening on ``channel`` that something changed.

        PostgreSQL ``NOTIFY`` (delivered at commit, or at once outside a transaction);
        nothing on SQLite, whose engines re-read the due work whenever they renew their
        lease. A wake-up is an optimisation: a failure is logged, never raised.
        """
        if not self.postgres:
            return
        try:
            db.execute_sql(f"NOTIFY {channel}")
        except pw.DatabaseError:
            log.debug("NOTIFY failed", exc_info=True)

    def listen(self, channel: str, on_notify: Callable[[], None], stopping: threading.Event,
               dsn: str | None = None) -> threading.Thread | None:
        """PostgreSQL: a daemon thread holding ``LISTEN channel`` on its own connection;
        it calls ``on_notify()`` for every notification until ``stopping`` is set. The
        one-second poll only lets the thread see ``stopping``; it reads no work.
        Returns None on SQLite (nothing to listen to)."""
        if not self.postgres:
            return None
        dsn = db.obj.connect_params.get("dsn") or dsn

        def run() -> None:
            conn = None
            while not stopping.is_set():
                try:
                    if conn is None:
                        conn = psycopg2.connect(dsn)
                        conn.autocommit = True
                        conn.cursor().execute(f"LISTEN {channel}")
                    if select.select([conn], [], [], 1.0)[0]:
                        conn.poll()
                        if conn.notifies:
                            conn.notifies.clear()
                            on_notify()
                except (psycopg2.Error, OSError, ValueError):
                    conn = None
                    stopping.wait(1.0)
            if conn is not None:
                conn.close()

        thread = threading.Thread(target=run, name=f"rota-listen-{channel}", daemon=True)
        thread.start()
        return thread


# ---------------------------------------------------------------------- errors

# SQLite primary result codes (sqlite3.Error.sqlite_errorcode & 0xff) that say the
# database, not the statement, is in trouble; and what to call them.
_SQLITE_PROBLEMS = {
    5: "database is locked by another process",  # SQLITE_BUSY
    6: "database is locked by another process",  # SQLITE_LOCKED
    7: "out of memory",  # SQLITE_NOMEM
    8: "database is read-only",  # SQLITE_READONLY
    9: "interrupted",  # SQLITE_INTERRUPT
    10: "disk I/O error",  # SQLITE_IOERR
    11: "database file is corrupt",  # SQLITE_CORRUPT
    13: "database or disk is full",  # SQLITE_FULL
    14: "cannot open the database file",  # SQLITE_CANTOPEN
    15: "database is locked by another process",  # SQLITE_PROTOCOL
    26: "file is not a database",  # SQLITE_NOTADB
}
# PostgreSQL SQLSTATE classes that say the same (connection, resources, operator
# intervention, system error, transaction rollback such as deadlock); plus a few codes.
_PG_CLASSES = {"08": "connection to the database lost", "53": "database out of resources (disk or memory)",
               "57": "database shut down or the statement was cancelled", "58": "database system error (I/O)",
               "40": "transaction rolled back by the database (deadlock or serialization); retrying"}
_PG_CODES = {"25006": "database is read-only", "55P03": "database is locked by another process",
             "53100": "database or disk is full", "53200": "database out of memory"}


# The same, recognised by the driver's words when there is no code.
_PROBLEM_WORDS = (
    ("database or disk is full", "database or disk is full"),
    ("database is locked", "database is locked by another process"),
    ("database table is locked", "database is locked by another process"),
    ("readonly database", "database is read-only"),
    ("read-only", "database is read-only"),
    ("disk i/o error", "disk I/O error"),
    ("file is not a database", "file is not a database"),
    ("database disk image is malformed", "database file is corrupt"),
    ("unable to open database", "cannot open the database file"),
    ("no transaction is active", "the database failed mid-write (often a full disk)"),
    ("server closed the connection", "connection to the database lost"),
)


@dataclass(frozen=True)
class Problem:
    """What went wrong, in words, and whether it is the database's state (``transient``:
    locked, full, read-only, disconnected — retry later, for every workflow alike) or
    the statement's (a workflow's criteria the database cannot run)."""

    message: str
    transient: bool


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in out:
        out.append(seen)
        orig = getattr(seen, "orig", None)  # peewee keeps the driver's exception here
        if isinstance(orig, BaseException) and orig not in out:
            out.append(orig)
        seen = seen.__cause__ or seen.__context__
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def classify_error(exc: BaseException) -> Problem:
    """Put a database (or evaluation) error in words and say whose problem it is.

    Looks through the exception chain: a failed write's rollback can fail too
    ("cannot rollback - no transaction is active") and hide the real cause (a full
    disk). Errors that are not the database's state (syntax, "too many SQL variables",
    "parser stack overflow", stack depth, a value out of range, RecursionError) are
    the statement's: ``transient`` False.
    """
    chain = _chain(exc)
    for cause in reversed(chain):  # the oldest cause first
        code = getattr(cause, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE_PROBLEMS:
            return Problem(_SQLITE_PROBLEMS[code & 0xFF], True)
        pgcode = getattr(cause, "pgcode", None)
        if isinstance(pgcode, str) and pgcode:
            if pgcode in _PG_CODES:
                return Problem(_PG_CODES[pgcode], True)
            if pgcode[:2] in _PG_CLASSES:
                if pgcode == "57014":  # query_canceled: a statement timeout is the statement's
                    return Problem(f"statement cancelled: {_first_line(cause)}", False)
                return Problem(f"{_PG_CLASSES[pgcode[:2]]}: {_first_line(cause)}", True)
    for cause in reversed(chain):  # no code (an older driver, a wrapped error): the words
        low = _first_line(cause).lower()
        for needle, words in _PROBLEM_WORDS:
            if needle in low:
                return Problem(words, True)
    for cause in chain:
        if isinstance(cause, (psycopg2.OperationalError, psycopg2.InterfaceError, pw.InterfaceError)) \
                and not getattr(cause, "pgcode", None):
            return Problem(f"connection to the database lost: {_first_line(cause)}", True)
        if isinstance(cause, OSError):
            return Problem(f"{cause.strerror or _first_line(cause)}", True)
    if isinstance(exc, RecursionError):
        return Problem("the criteria are nested too deeply for the database to evaluate", False)
    return Problem(_first_line(exc), False)


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")


def dialect(database: pw.Database | None = None) -> Dialect:
    """The dialect of ``database`` (default: the one ``db`` points at)."""
    return POSTGRESQL if is_postgres(database) else SQLITE


def write_transaction() -> Any:
    """``dialect().write_transaction()``: the one write-transaction helper."""
    return dialect().write_transaction()
