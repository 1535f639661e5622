"""The store over peewee: the ``DataStore`` interface implemented by the store's modules,
for SQLite and PostgreSQL alike (their differences live in ``dialect``)."""
from __future__ import annotations

from models.store import DataStore, claims, workflows
from models.store.dialect import write_transaction


class SqlStore:
    """The store over peewee: SQLite or PostgreSQL, whichever ``models.db.db`` points at.

    The functions live in the store's modules (callers may import them from there);
    this class gathers them behind the ``DataStore`` interface.
    """

    write_transaction = staticmethod(write_transaction)
    take_part = staticmethod(claims.take_part)
    release = staticmethod(claims.release)
    next_due_at = staticmethod(claims.next_due_at)
    claim_due_workflow = staticmethod(claims.claim_due_workflow)
    reclaimable = staticmethod(claims.reclaimable)
    leases = staticmethod(claims.leases)
    get_workflow = staticmethod(workflows.get_workflow)
    list_workflows = staticmethod(workflows.list_workflows)
    last_runs = staticmethod(workflows.last_runs)


store: DataStore = SqlStore()
