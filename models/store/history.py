"""SQL for reading history: the ``history_event`` page, the enrollments read as
``enrolled`` events, the skip notes (``run_skip``) read as ``skipped_in_progress``
events, and grouped step history (``history_group`` / ``history_value``).

A group row stands for the enrollments ``first``..``last`` of its run; these reads
expand it page by page, through the enrollment primary key, never by a scan.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from models.db import db
from models.schema import Enrollment, HistoryEvent, Run, SkipNote
from models.store.dialect import dialect


def _p() -> str:
    return dialect().param


def _rows(sql: str, params=()) -> list[tuple]:
    cursor = db.cursor()
    cursor.execute(sql, tuple(params))
    return cursor.fetchall()


def group_page(wf_id: int, type_: str | None, lo: int | None, hi: int | None, cursor, limit: int) -> list[tuple]:
    """Group rows of a workflow, newest first (``at`` then id), after ``cursor``; up to
    ``limit`` of them (each stands for at least one per-record row)."""
    p = _p()
    where: list[str] = ['"workflow_id" = ' + p]
    params: list[Any] = [wf_id]
    if type_ is not None:
        where.append('"type" = ' + p)
        params.append(type_)
    if lo is not None:
        where.append('"at" >= ' + p)
        params.append(lo)
    if hi is not None:
        where.append('"at" < ' + p)
        params.append(hi)
    if cursor is not None:
        at, src, a, b, _c = cursor
        if src == 1:  # events and groups share one order at an instant (2*seq+1 against 2*event id)
            where.append(f'("at" < {p} OR ("at" = {p} AND (2 * "seq" + 1 < {p} OR (2 * "seq" + 1 = {p} '
                         f'AND "id" <= {p}))))')
            params += [at, at, a, a, b]
        else:  # at an instant enrollments come last: only older instants remain
            where.append(f'"at" < {p}')
            params.append(at)
    sql = ('SELECT "id", "at", "type", "run_id", "step", "detail", "first", "last", "varies", "seq" '
           f'FROM "history_group" WHERE {" AND ".join(where)} ORDER BY "at" DESC, "seq" DESC, "id" DESC '
           f'LIMIT {int(limit) + 1}')  # + the cursor's own group, which may have no member left
    return _rows(sql, params)


def group_members(gid: int, run_id: int, first: int, last: int, below: int | None, limit: int) -> list[tuple]:
    """``(enrollment id, record id)`` of a group, highest enrollment first."""
    p = _p()
    hi = last if below is None else min(last, below - 1)
    return _rows(f'SELECT "id", "record_id" FROM "enrollment" WHERE "id" BETWEEN {p} AND {p} AND "run_id" = {p} '
                 f'ORDER BY "id" DESC LIMIT {int(max(limit, 0))}', (first, hi, run_id))


def group_values(gid: int, enrollment_ids: list[int]) -> dict[int, str]:
    if not enrollment_ids:
        return {}
    lo, hi = min(enrollment_ids), max(enrollment_ids)
    p = _p()
    return dict(_rows(f'SELECT "enrollment", "detail" FROM "history_value" WHERE "group_id" = {p} '
                      f'AND "enrollment" BETWEEN {p} AND {p}', (gid, lo, hi)))


def run_scheduled_for(run_id: int) -> Any:
    rows = _rows(f'SELECT "scheduled_for" FROM "run" WHERE "id" = {_p()}', (run_id,))
    return rows[0][0] if rows else None


def record_enrollments(wf_id: int, record_id: int) -> list[tuple]:
    """A record's enrollments in a workflow: ``(id, run id, scheduled_for)``, one probe
    of the (run, record) key per run."""
    p = _p()
    return _rows(f'SELECT e."id", e."run_id", r."scheduled_for" FROM "run" AS r JOIN "enrollment" AS e '
                 f'ON e."run_id" = r."id" AND e."record_id" = {p} WHERE r."workflow_id" = {p}', (record_id, wf_id))


def groups_of(run_id: int, enrollment_id: int) -> list[tuple]:
    """The group rows of a run that include an enrollment."""
    p = _p()
    return _rows(f'SELECT "id", "at", "type", "step", "detail", "varies", "seq" FROM "history_group" '
                 f'WHERE "run_id" = {p} AND "first" <= {p} AND "last" >= {p}', (run_id, enrollment_id, enrollment_id))


def _within(q, column, lo: int | None, hi: int | None, at_most: int | None = None):
    """``q`` limited to ``lo <= column < hi`` (and ``column <= at_most``), each bound optional."""
    if lo is not None:
        q = q.where(column >= lo)
    if hi is not None:
        q = q.where(column < hi)
    if at_most is not None:
        q = q.where(column <= at_most)
    return q


def events_page(wf_id: int, record_id, type_, lo, hi, cursor, limit):
    """The ``history_event`` page: one index range scan, newest first, LIMITed."""
    H = HistoryEvent
    q = (H.select(H.id, H.at, H.type, H.record_id, H.scheduled_for, H.step, H.detail, H.run, H.enrollment)
         .where(H.workflow == wf_id))
    if record_id is not None:
        q = q.where(H.record_id == record_id)
    if type_ is not None:
        q = q.where(H.type == type_)
    q = _within(q, H.at, lo, hi)
    if cursor is not None:
        at, src, a = cursor[:3]
        # events (a = 2 * id) and grouped rows (a = 2 * seq + 1) share one order
        q = q.where((H.at < at) | ((H.at == at) & (H.id < (a + 1) // 2))) if src == 1 else q.where(H.at < at)
    return q.order_by(H.at.desc(), H.id.desc()).limit(limit)


def record_enrollments_page(wf_id: int, record_id: int, manual: bool | None, lo: int | None, hi: int | None,
                            at_most: int | None, limit: int) -> list[tuple]:
    """One record's enrollments in the workflow, newest first: (enrolled_at, run id,
    manual, record id, enrollment id, the run's scheduled_for). Few rows per record
    (one per occurrence): the workflow's runs, each probed through the unique
    (run, record_id) key."""
    E = Enrollment
    q = (E.select(E.enrolled_at, E.run, E.manual, E.record_id, E.id, Run.scheduled_for)
         .join(Run, on=(E.run == Run.id))
         .where((Run.workflow == wf_id) & (E.record_id == record_id)))
    if manual is not None:
        q = q.where(E.manual == manual)
    q = _within(q, E.enrolled_at, lo, hi, at_most)
    return list(q.order_by(E.enrolled_at.desc(), E.run.desc()).limit(limit).tuples())


def runs_before(wf_id: int, before_id: int | None, limit: int) -> list[tuple]:
    """(id, kind, scheduled_for, started_at, skipped_in_progress) of the workflow's runs
    older than ``before_id``, newest first."""
    rq = (Run.select(Run.id, Run.kind, Run.scheduled_for, Run.started_at, Run.skipped_in_progress)
          .where(Run.workflow == wf_id))
    if before_id is not None:
        rq = rq.where(Run.id < before_id)
    return list(rq.order_by(Run.id.desc()).limit(limit).tuples())


def first_enrolled_at(run_id: int) -> datetime | int | None:
    """When the run enrolled (all its enrollments share the instant), or None if it enrolled none."""
    row = Enrollment.select(Enrollment.enrolled_at).where(Enrollment.run == run_id).limit(1).tuples().first()
    return None if row is None else row[0]


def run_records_page(run_id: int, below_record: int | None, limit: int) -> list[tuple]:
    """(record id, enrollment id) of the run's enrollments, highest record id first."""
    E = Enrollment
    q = E.select(E.record_id, E.id).where(E.run == run_id)
    if below_record is not None:
        q = q.where(E.record_id < below_record)
    return list(q.order_by(E.record_id.desc()).limit(limit).tuples())


def run_skips_page(run_id: int, below_record: int | None, limit: int) -> list[int]:
    """The records the run left out (overlap skip_in_progress), highest id first: a
    range of the ``run_skip`` key."""
    q = SkipNote.select(SkipNote.record_id).where(SkipNote.run == run_id)
    if below_record is not None:
        q = q.where(SkipNote.record_id < below_record)
    return [rid for (rid,) in q.order_by(SkipNote.record_id.desc()).limit(max(int(limit), 0)).tuples()]


def record_skips_page(wf_id: int, record_id: int, lo: int | None, hi: int | None, at_most: int | None,
                      limit: int) -> list[tuple]:
    """The runs of the workflow that left the record out, newest first: (the run's
    started_at, run id, record id, scheduled_for). Only runs that skipped anything,
    each probed through the ``run_skip`` key."""
    q = (SkipNote.select(Run.started_at, SkipNote.run, SkipNote.record_id, Run.scheduled_for)
         .join(Run, on=(SkipNote.run == Run.id))
         .where((Run.workflow == wf_id) & (Run.skipped_in_progress > 0) & (SkipNote.record_id == record_id)))
    q = _within(q, Run.started_at, lo, hi, at_most)
    return list(q.order_by(Run.started_at.desc(), SkipNote.run.desc()).limit(limit).tuples())
