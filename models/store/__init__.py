"""The store: the only place with SQL text, dialect branches, transactions and claiming.

After APScheduler 4's data store (``apscheduler/abc.py``: one interface, back ends
behind it): engine, services and screens call the store, or the service layer on top
of it, for plain data; they never build peewee queries or test the dialect themselves.
``DataStore`` below is that interface; SQLite and PostgreSQL sit behind it, their
differences confined to ``dialect.py``.

Modules:

- ``dialect``   the few places SQLite and PostgreSQL differ, behind one object
                (placeholders, the write transaction, skip-locked claiming, a JSON array
                as one parameter, NOTIFY/LISTEN);
- ``claims``    heartbeats, the SQLite store lease, claiming due workflows, and when a
                claim may be taken back;
- ``workflows`` workflow rows: look-ups and the service layer's writes;
- ``object_types`` creating and changing object types and properties (definition rows
                and the record tables' DDL, together);
- ``audit``     the audit log and kept versions;
- ``failures``  a run that could not be evaluated: the failed run, its history event,
                the inbox notification, the workflow's back-off;
- ``runs``, ``steps``, ``history``  the engine's set-based writes and step claims;
- read modules for the screens (plain dicts and dataclasses).

Claiming — one mechanism, one vocabulary (details in ``claims``): work is held by an
engine through ``claimed_by`` (its id) and ``claimed_until``; each engine proves it is
alive with a heartbeat row ``engine:<id>`` renewed every few seconds. A claim is free
again when its ``claimed_until`` passes or as soon as its engine's heartbeat expires.
Runs are claimed for one transaction (row lock / write lock + unique key), steps by
their ``claimed_by`` / ``claimed_until`` columns, and on SQLite the whole store by the
``store`` lease.

Transactions: every write transaction takes the write lock up front
(``write_transaction``; on SQLite every transaction is ``BEGIN IMMEDIATE``, see
``models.db``), so a writer waits for the lock within the busy timeout instead of
failing with "database is locked".
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from models.store.dialect import Dialect, dialect, write_transaction

# This package's __init__ imports only the dialect (a leaf of the store), so importing
# any store module never runs a ring of imports; ``models.store.sql`` gathers the
# modules behind the interface.
__all__ = ["DataStore", "Dialect", "dialect", "write_transaction"]


@runtime_checkable
class DataStore(Protocol):
    """What the engine and the app ask of the store (``models.store.sql.SqlStore``
    implements it)."""

    # transactions and dialect
    def write_transaction(self) -> AbstractContextManager[Any]: ...

    # claiming (claims.py)
    def take_part(self, engine_id: str, now: datetime, until: datetime) -> datetime | None: ...

    def release(self, engine_id: str) -> None: ...

    def next_due_at(self) -> datetime | None: ...

    def claim_due_workflow(self, now: datetime) -> Any: ...

    def reclaimable(self, model: Any, now: datetime) -> Any: ...

    def leases(self) -> list[dict]: ...

    # workflows (workflows.py)
    def get_workflow(self, name_or_id: str | int) -> Any: ...

    def list_workflows(self) -> list[Any]: ...

    def last_runs(self) -> dict[int, Any]: ...
