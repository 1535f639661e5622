"""Run rows and enrollments in progress: the look-ups and inserts the engine's run
and manual enrollment need, keyed as the schema keys them.

* A run is unique on (workflow, scheduled_for). :func:`insert_run` is
  ``INSERT … ON CONFLICT DO NOTHING``: an instant that has a run already yields None
  instead of an integrity error (which on PostgreSQL would also abort the transaction
  up to its savepoint, and which an engine must never retry forever).
* :func:`taken_instants` says which of a workflow's instants have a run row already
  (run, missed, coalesced or failed): such an instant is done, whatever
  ``next_run_at`` says.
* :func:`in_progress_count`: a record's enrollments in one workflow that have not
  finished, through the partial index on enrollments in progress.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from models.db import db
from models.schema import IN_PROGRESS_WHERE, Enrollment, Run
from models.store.dialect import dialect
from models.timeutil import to_micros

_CHUNK = 500


def taken_instants(workflow_id: int, instants: Iterable[datetime]) -> set[datetime]:
    """The instants among ``instants`` that already have a run row of this workflow."""
    wanted = sorted(set(instants))
    taken: set[datetime] = set()
    for i in range(0, len(wanted), _CHUNK):
        micros = [to_micros(at) for at in wanted[i:i + _CHUNK]]
        taken |= {at for (at,) in Run.select(Run.scheduled_for).where(
            (Run.workflow == workflow_id) & Run.scheduled_for.in_(micros)).tuples()}
    return taken


def insert_run(workflow_id: int, scheduled_for: datetime | None, *, kind: str, status: str,
               started_at: datetime | None, engine_id: str | None) -> int | None:
    """Insert a run row; returns its id, or None if this instant has a run already.

    One statement (``ON CONFLICT ("workflow_id", "scheduled_for") DO NOTHING RETURNING``),
    so a conflict neither raises nor spoils the caller's transaction."""
    t = Run._meta.table_name
    p = dialect().param
    cursor = db.execute_sql(
        f'INSERT INTO "{t}" ("workflow_id", "scheduled_for", "kind", "status", "started_at", "engine_id", '
        f'"matched", "enrolled", "suppressed", "steps_succeeded", "steps_failed", "in_progress", "completed", '
        f'"skipped_in_progress") VALUES ({p}, {p}, {p}, {p}, {p}, {p}, 0, 0, 0, 0, 0, 0, 0, 0) '
        f'ON CONFLICT ("workflow_id", "scheduled_for") DO NOTHING RETURNING "id"',
        (workflow_id, None if scheduled_for is None else to_micros(scheduled_for), kind, status,
         None if started_at is None else to_micros(started_at), engine_id))
    row = cursor.fetchone()
    return int(row[0]) if row else None


def in_progress_count(workflow_id: int, record_id: int) -> int:
    """How many of the record's enrollments in this workflow have not finished (active
    or waiting): one probe of the partial index on enrollments in progress."""
    return (Enrollment.select()
            .where((Enrollment.workflow == workflow_id) & (Enrollment.record_id == record_id)
                   & IN_PROGRESS_WHERE)
            .count())
