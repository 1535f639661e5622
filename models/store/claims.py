"""Claiming: who does which work, until when, and how a dead engine's work comes back.

One mechanism, one vocabulary, for everything an engine takes on:

* **Heartbeat.** Every running engine keeps a row ``engine:<engine_id>`` in
  ``engine_lease`` with ``claimed_by`` (its id), ``claimed_until`` (now + its lease
  term, 15 s by default) and ``heartbeat`` (when it last renewed). It renews every
  third of the term and deletes the row when it stops cleanly.
* **Claims** carry ``claimed_by`` (the engine id) and ``claimed_until``:
  - the SQLite store lease (row ``store``): only its holder runs workflows and steps,
    because SQLite has one writer anyway; a stand-by takes it when it expires;
  - action steps (``enrollment.claimed_by`` / ``claimed_until``, models/store/steps.py);
  - a run is claimed for the length of its transaction only: the workflow row is
    locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) and
    the unique key (workflow, instant) decides; nothing outlives the transaction.
* **Taking back.** A claim may be taken by another engine when its ``claimed_until``
  has passed, or as soon as the heartbeat of the engine named in ``claimed_by`` has
  expired (:func:`reclaimable`): a killed engine's work comes back within seconds, not
  after the claim's own, longer term. A process without a heartbeat row (``rota engine
  --once``) is protected by ``claimed_until`` alone.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import peewee as pw

from models.db import db
from models.enums import WorkflowStatus
from models.schema import EngineLease, Workflow
from models.store.dialect import dialect
from models.timeutil import from_micros, to_micros

STORE_LEASE = "store"
ENGINE_PREFIX = "engine:"
FORGET_DEAD_AFTER = timedelta(days=1)  # a dead engine's heartbeat row is removed after this


def _info() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def heartbeat(engine_id: str, now: datetime, until: datetime) -> None:
    """Insert or renew this engine's heartbeat row (one statement, autocommit)."""
    d = dialect()
    t = EngineLease._meta.table_name
    db.execute_sql(
        f'INSERT INTO "{t}" ("name", "claimed_by", "claimed_until", "heartbeat", "info") '
        f"VALUES ({d.placeholders(5)}) "
        f'ON CONFLICT ("name") DO UPDATE SET "claimed_by" = excluded."claimed_by", '
        f'"claimed_until" = excluded."claimed_until", "heartbeat" = excluded."heartbeat", '
        f'"info" = excluded."info"',
        (ENGINE_PREFIX + engine_id, engine_id, to_micros(until), to_micros(now), _info()),
    )


def take_part(engine_id: str, now: datetime, until: datetime) -> datetime | None:
    """Renew this engine's heartbeat and, on SQLite, take or renew the store lease.

    Returns None when this engine may run work until ``until`` (PostgreSQL: always;
    every engine takes part and row locks share the work), else the instant the store
    lease's holder expires, when a stand-by should try again.
    """
    d = dialect()
    if d.postgres:
        heartbeat(engine_id, now, until)
        return None
    with d.write_transaction():
        heartbeat(engine_id, now, until)
        return hold_store_lease(engine_id, now, until)


def hold_store_lease(engine_id: str, now: datetime, until: datetime) -> datetime | None:
    """SQLite: take or renew the store lease. Returns None when this engine holds it
    (until ``until``), else the instant the current holder's lease expires (when a
    stand-by should try again)."""
    with dialect().write_transaction():
        EngineLease.insert(name=STORE_LEASE, claimed_by=None, claimed_until=None,
                           heartbeat=None).on_conflict_ignore().execute()
        taken = (EngineLease.update(claimed_by=engine_id, claimed_until=until, heartbeat=now, info=_info())
                 .where((EngineLease.name == STORE_LEASE)
                        & ((EngineLease.claimed_by == engine_id) | EngineLease.claimed_by.is_null()
                           | EngineLease.claimed_until.is_null() | (EngineLease.claimed_until < now)))
                 .execute())
    if taken:
        return None
    expiry = EngineLease.select(EngineLease.claimed_until).where(EngineLease.name == STORE_LEASE).scalar()
    if isinstance(expiry, int):
        expiry = from_micros(expiry)
    return expiry or now


def release(engine_id: str) -> None:
    """A clean stop: drop the heartbeat and give up the store lease (if held)."""
    EngineLease.delete().where(EngineLease.name == ENGINE_PREFIX + engine_id).execute()
    EngineLease.update(claimed_by=None, claimed_until=None).where(
        (EngineLease.name == STORE_LEASE) & (EngineLease.claimed_by == engine_id)).execute()


def forget_dead_engines(now: datetime) -> int:
    """Remove heartbeat rows of engines dead for a day (kill -9 leaves them behind)."""
    return (EngineLease.delete()
            .where(EngineLease.name.startswith(ENGINE_PREFIX)
                   & (EngineLease.claimed_until < now - FORGET_DEAD_AFTER))
            .execute())


def dead_engines(now: datetime) -> pw.Select:
    """Sub-select of the ids of engines whose heartbeat has expired."""
    return (EngineLease.select(EngineLease.claimed_by)
            .where(EngineLease.name.startswith(ENGINE_PREFIX) & (EngineLease.claimed_until < now)))


def heartbeat_expiries() -> dict[str, datetime]:
    """When each engine's heartbeat runs out (engine id -> claimed_until): a claim held
    by that engine can be taken back from then on."""
    rows = (EngineLease.select(EngineLease.claimed_by, EngineLease.claimed_until)
            .where(EngineLease.name.startswith(ENGINE_PREFIX) & EngineLease.claimed_until.is_null(False)).tuples())
    return {holder: until for holder, until in rows if holder}


def dead_engines_sql() -> str:
    """The same sub-select as raw SQL for a statement built by hand: one placeholder,
    bound to ``to_micros(now)``. Use it as
    ``… OR e."claimed_by" IN (<this>)`` next to ``e."claimed_until" < now``."""
    t = EngineLease._meta.table_name
    # 'engine:' <= name < 'engine;' is "starts with engine:" without a % (which the
    # PostgreSQL driver would read as a placeholder).
    return (f'SELECT "claimed_by" FROM "{t}" WHERE "name" >= \'{ENGINE_PREFIX}\' '
            f'AND "name" < \'{ENGINE_PREFIX[:-1]};\' AND "claimed_until" < {dialect().param}')


def reclaimable(model: type[pw.Model], now: datetime) -> pw.Expression:
    """Rows of ``model`` (with ``claimed_by`` / ``claimed_until``) that nobody holds:
    never claimed, claim expired, or claimed by an engine whose heartbeat expired."""
    claimed_by = model.claimed_by
    claimed_until = model.claimed_until
    return (claimed_by.is_null() | claimed_until.is_null() | (claimed_until < now)
            | claimed_by.in_(dead_engines(now)))


def claim_due_workflow(now: datetime) -> Workflow | None:
    """The earliest due active workflow, locked for the caller's write transaction.

    On PostgreSQL rows another engine holds are skipped (``FOR UPDATE SKIP LOCKED``),
    so engines share the due work; on SQLite the write transaction is the claim.
    """
    query = (Workflow.select()
             .where((Workflow.status == WorkflowStatus.ACTIVE) & Workflow.next_run_at.is_null(False)
                    & (Workflow.next_run_at <= now))
             .order_by(Workflow.next_run_at, Workflow.id)
             .limit(1))
    return dialect().skip_locked(query).first()


def next_due_at() -> datetime | None:
    """The earliest next run time of any active workflow (one indexed lookup).

    Plain SQL: this runs on every wake-up, and building the query is most of its cost.
    """
    t = Workflow._meta.table_name
    row = db.execute_sql(
        f'SELECT "next_run_at" FROM "{t}" WHERE "next_run_at" IS NOT NULL AND "status" = {dialect().param} '
        f'ORDER BY "next_run_at" LIMIT 1', (WorkflowStatus.ACTIVE.value,)).fetchone()
    return from_micros(row[0]) if row else None


def leases() -> list[dict]:
    """Every lease and heartbeat row, for a status screen: name, claimed_by,
    claimed_until, heartbeat (aware UTC or None), info."""
    return [{"name": r.name, "claimed_by": r.claimed_by, "claimed_until": r.claimed_until,
             "heartbeat": r.heartbeat, "info": r.info}
            for r in EngineLease.select().order_by(EngineLease.name)]
