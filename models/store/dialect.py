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
from dataclasses import dataclass
from typing import Any, Callable, Iterable

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

    # ------------------------------------------------------------------ claiming

    def skip_locked(self, query: pw.Select) -> pw.Select:
        """``query`` locking the rows it returns for this transaction, skipping rows that
        another transaction holds (PostgreSQL). On SQLite the write transaction already
        holds the only write lock, so the query is unchanged."""
        if self.postgres:
            return query.for_update("FOR UPDATE SKIP LOCKED")
        return query

    def skip_locked_sql(self) -> str:
        """The same, as a clause to append to a raw ``SELECT``."""
        return " FOR UPDATE SKIP LOCKED" if self.postgres else ""

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


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")


def dialect(database: pw.Database | None = None) -> Dialect:
    """The dialect of ``database`` (default: the one ``db`` points at)."""
    return POSTGRESQL if is_postgres(database) else SQLITE


def write_transaction() -> Any:
    """``dialect().write_transaction()``: the one write-transaction helper."""
    return dialect().write_transaction()
