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
* :func:`note_skipped`, then :func:`enroll_matching` with ``skip_busy``: overlap =
  skip_in_progress inside a run's transaction — the skip notes, and the records left out
  of the run's ``INSERT … SELECT``; :func:`replace_in_progress`: overlap = replace.
  Lanes (``enrollment.lane``, models/schema.py): in lane 0 a record has at most one
  enrollment in progress per workflow, a unique index says so.
* The run's set-based writes (engine/run.py calls them in one transaction):
  :func:`enroll_matching` and :func:`note_suppressed` (one ``INSERT … SELECT`` each,
  record values never leave the database), :func:`finish_run`, :func:`add_to_rollup`
  (the per-day counts); :func:`record_misfires` for instants that do not run;
  :func:`insert_manual_run` for a manual enrollment; :func:`runs_of` reads them back.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import peewee as pw

from models.db import db
from models.enums import EnrollmentState, EventType, RunKind, RunStatus
from models.schema import IN_PROGRESS_SQL, IN_PROGRESS_WHERE, Enrollment, EnrollmentDaily, HistoryEvent, Run, SkipNote
from models.store.dialect import dialect
from models.timeutil import UTC, to_micros

_CHUNK = 500
REPLACED_DETAIL = '{"reason": "replaced by a new enrollment (overlap: replace)"}'
NULL_INSTANT = "CAST(NULL AS BIGINT)"  # typed: PostgreSQL will not guess an untyped NULL in a SELECT list


def _table(model) -> str:
    return model._meta.table_name


def _word(value: str) -> str:
    """One of Rota's own words (models/enums.py) as an SQL string constant."""
    return "'" + value.replace("'", "''") + "'"


def _instant_sql(at: datetime | None) -> str:
    """An instant as a constant written into SQL (integer microseconds, or a typed NULL)."""
    return str(to_micros(at)) if at is not None else NULL_INSTANT


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


def any_in_progress(workflow_id: int) -> bool:
    """Whether the workflow has an enrollment in progress: one probe of the partial index."""
    return Enrollment.select(pw.SQL("1")).where((Enrollment.workflow == workflow_id) & IN_PROGRESS_WHERE).exists()


def note_skipped(workflow_id: int, run_id: int, model: type[pw.Model], where: pw.Node) -> int:
    """A skip note (``run_skip``) for each record with an enrollment in progress in this
    workflow that the run matches (``model`` is the record table, ``where`` the run's
    condition on it): one ``INSERT … SELECT`` driven from the partial index of
    enrollments in progress (the few in progress, each probed by key), not from the many
    matching records. Returns how many. :func:`enroll_matching` with ``skip_busy`` then
    leaves them out.

    A note is two integers in the key's b-tree alone; engine/history.py shows it as a
    ``skipped_in_progress`` event at the run's instant. (A ``history_event`` row, with
    its three indexes, cost about a tenth of a run over a million records with a tenth of
    them in progress.)
    """
    match_sql, match_params = model.select(pw.SQL("1")).where(
        where & (model.id == pw.SQL('"busy"."record_id"'))).sql()
    e, n = _table(Enrollment), _table(SkipNote)
    cursor = db.execute_sql(
        f'INSERT INTO "{n}" ("run_id", "record_id") SELECT DISTINCT {int(run_id)}, "busy"."record_id" '
        f'FROM "{e}" AS "busy" WHERE "busy"."workflow_id" = {int(workflow_id)} AND "busy".{IN_PROGRESS_SQL} '
        f'AND EXISTS ({match_sql})', match_params)
    return max(cursor.rowcount, 0)


def _lanes_of_their_own(workflow_id: int) -> bool:
    """Whether some enrollment in progress of the workflow runs in a lane of its own
    (overlap allow, a forced manual enrollment): a covering scan of the partial index."""
    return Enrollment.select(pw.SQL("1")).where(
        (Enrollment.workflow == workflow_id) & IN_PROGRESS_WHERE & (Enrollment.lane != 0)).exists()


def _not_busy(workflow_id: int, run_id: int, model: type[pw.Model]) -> pw.Node | None:
    """The condition that leaves out the records :func:`note_skipped` noted, or None
    where the insert's conflict clause does it (SQLite, everything in lane 0).

    SQLite: ``INSERT OR IGNORE`` against the unique index of enrollments in progress
    (workflow, record, lane 0) leaves them out as part of the insert itself, at the cost
    of the index insertion it does anyway (measured on a million records with a tenth
    in progress: a ``NOT IN`` probe per matching record cost 0.07 s of a 0.55 s run).
    Only an enrollment in a lane of its own escapes that index: then the notes are
    probed. PostgreSQL: ``NOT EXISTS`` against the partial index, planned as a hash
    anti-join (which spills to disk in batches when the records in progress outgrow
    ``work_mem``); its ``ON CONFLICT`` costs a speculative insertion per row."""
    if dialect().postgres:
        prev = Enrollment.alias("prev")
        return ~pw.fn.EXISTS(prev.select(pw.SQL("1")).where(
            (prev.workflow == workflow_id) & (prev.record_id == model.id) & pw.SQL(f'"prev".{IN_PROGRESS_SQL}')))
    if _lanes_of_their_own(workflow_id):
        return model.id.not_in(SkipNote.select(SkipNote.record_id).where(SkipNote.run == run_id))
    return None


def replace_in_progress(workflow_id: int, run_id: int, model: type[pw.Model], where: pw.Node, now_us: int) -> None:
    """overlap = replace: end the older enrollments in progress of the records this run
    enrolls (``where`` on ``model``), each with an ``unenrolled`` event naming the
    reason; their runs' counters move from in progress to completed, as the executor
    keeps them. Set-based."""
    e = _table(Enrollment)
    matching, mparams = model.select(model.id).where(where).sql()
    scope = f'"workflow_id" = {int(workflow_id)} AND {IN_PROGRESS_SQL} AND "record_id" IN ({matching})'
    db.execute_sql(
        f'INSERT INTO "{_table(HistoryEvent)}" ("workflow_id", "at", "type", "run_id", "record_id", '
        f'"enrollment_id", "detail") SELECT {int(workflow_id)}, {int(now_us)}, {_word(EventType.UNENROLLED)}, '
        f'{int(run_id)}, "record_id", "id", {_word(REPLACED_DETAIL)} FROM "{e}" WHERE {scope}', mparams)
    r = _table(Run)
    ended = f'(SELECT COUNT(*) FROM "{e}" WHERE "run_id" = "{r}"."id" AND {scope})'
    db.execute_sql(f'UPDATE "{r}" SET "in_progress" = "in_progress" - {ended}, "completed" = "completed" + {ended} '
                   f'WHERE "id" IN (SELECT "run_id" FROM "{e}" WHERE {scope})', mparams * 3)
    db.execute_sql(f'UPDATE "{e}" SET "state" = {_word(EnrollmentState.UNENROLLED)}, "next_step_at" = NULL, '
                   f'"claimed_by" = NULL, "claimed_until" = NULL WHERE {scope}', mparams)


def _insert_select(target: str, columns: list[str], constants: list[str], model: type[pw.Model],
                   where: pw.Node, *, verb: str = "INSERT") -> int:
    """``INSERT INTO target (columns) SELECT constants…, id FROM rec_<type> WHERE …``.

    Constants are integers and fixed words written into the SQL (typed with CAST where
    PostgreSQL would otherwise see an untyped NULL); record values never leave the
    database. Returns the number of rows inserted.
    """
    select = model.select(*[pw.SQL(c) for c in constants], model.id).where(where)
    sql, params = select.sql()
    cols = ", ".join(f'"{c}"' for c in columns)
    cursor = db.execute_sql(f'{verb} INTO "{target}" ({cols}) {sql}', params)
    return max(cursor.rowcount, 0)


def enroll_matching(run_id: int, workflow_id: int, now_us: int, model: type[pw.Model], where: pw.Node, *,
                    has_actions: bool, own_lane: bool = False, skip_busy: bool = False) -> int:
    """Enroll every record of ``model`` that ``where`` matches in this run: one
    ``INSERT … SELECT`` (engine/run.py says why it has no ``ON CONFLICT`` clause of
    its own). With actions an enrollment is active and its first step due now, else it
    is done. ``own_lane``: the enrollments run alongside any in progress (overlap
    allow); ``skip_busy``: records with an enrollment in progress are left out (overlap
    skip_in_progress, after :func:`note_skipped`). Returns how many."""
    state, next_step = (_word(EnrollmentState.ACTIVE), str(int(now_us))) if has_actions else (
        _word(EnrollmentState.DONE), NULL_INSTANT)
    verb = "INSERT"
    if skip_busy:
        not_busy = _not_busy(workflow_id, run_id, model)
        if not_busy is None:
            verb = "INSERT OR IGNORE"
        else:
            where = where & not_busy
    return _insert_select(
        _table(Enrollment),
        ["run_id", "workflow_id", "manual", "enrolled_at", "state", "step", "next_step_at", "lane", "record_id"],
        [str(int(run_id)), str(int(workflow_id)), "FALSE", str(int(now_us)), state, "0", next_step,
         str(int(run_id)) if own_lane else "0"],
        model, where, verb=verb)


def note_suppressed(workflow_id: int, run_id: int, now_us: int, scheduled_for: datetime | None,
                    model: type[pw.Model], where: pw.Node) -> int:
    """A ``suppressed`` history event for every record ``where`` matches: one
    ``INSERT … SELECT``. Returns how many."""
    return _insert_select(
        _table(HistoryEvent),
        ["workflow_id", "at", "type", "run_id", "scheduled_for", "record_id"],
        [str(int(workflow_id)), str(int(now_us)), _word(EventType.SUPPRESSED), str(int(run_id)), _instant_sql(scheduled_for)],
        model, where)


def finish_run(run_id: int, *, matched: int, enrolled: int, suppressed: int, skipped: int, in_progress: int,
               completed: int, finished_at: datetime) -> None:
    """The run's counts, and ``succeeded``."""
    Run.update(status=RunStatus.SUCCEEDED, matched=matched, enrolled=enrolled, suppressed=suppressed,
               skipped_in_progress=skipped, in_progress=in_progress, completed=completed,
               finished_at=finished_at).where(Run.id == run_id).execute()


def add_to_rollup(workflow_id: int, day: str, enrolled: int, suppressed: int, runs: int) -> None:
    """Add to the workflow's per-day counts (``enrollment_daily``), one upsert."""
    p = dialect().param
    t = _table(EnrollmentDaily)
    db.execute_sql(
        f'INSERT INTO "{t}" ("workflow_id", "day", "enrolled", "suppressed", "runs") '
        f"VALUES ({p}, {p}, {p}, {p}, {p}) "
        f'ON CONFLICT ("workflow_id", "day") DO UPDATE SET '
        f'"enrolled" = "{t}"."enrolled" + excluded."enrolled", '
        f'"suppressed" = "{t}"."suppressed" + excluded."suppressed", '
        f'"runs" = "{t}"."runs" + excluded."runs"',
        (workflow_id, day, enrolled, suppressed, runs),
    )


def record_misfires(workflow_id: int, instants: list[datetime], status: str, detail: str, now: datetime,
                    engine_id: str | None) -> None:
    """A run row (``status``: missed or coalesced) and a history event for each instant
    that does not run; the caller has left out instants that have a run already."""
    for i in range(0, len(instants), _CHUNK):
        chunk = instants[i:i + _CHUNK]
        Run.insert_many([
            {"workflow": workflow_id, "scheduled_for": at, "kind": RunKind.SCHEDULED, "status": status,
             "started_at": None, "finished_at": now, "engine_id": engine_id, "detail": detail} for at in chunk
        ]).on_conflict_ignore().execute()
        ids = dict(Run.select(Run.scheduled_for, Run.id).where(
            (Run.workflow == workflow_id) & (Run.scheduled_for.in_([to_micros(a) for a in chunk]))).tuples())
        HistoryEvent.insert_many([
            {"workflow": workflow_id, "at": now, "type": status, "run": ids.get(at), "scheduled_for": at,
             "detail": detail} for at in chunk
        ]).execute()


def record_matches(model: type[pw.Model], record_id: int, where: pw.Node) -> bool:
    """Whether the record ``record_id`` of ``model`` meets ``where``."""
    return model.select(model.id).where((model.id == record_id) & where).exists()


def insert_manual_run(workflow_id: int, record_id: int, *, now: datetime, engine_id: str | None,
                      suppressed: bool, has_actions: bool, detail: str) -> Run:
    """A manual enrollment, inside the caller's write transaction: its run row, then
    either the enrollment or (``suppressed``) a ``suppressed`` history event, and the
    per-day counts."""
    run = Run.create(workflow=workflow_id, scheduled_for=None, kind=RunKind.MANUAL, status=RunStatus.SUCCEEDED,
                     started_at=now,
                     finished_at=now, matched=1, enrolled=0 if suppressed else 1,
                     suppressed=1 if suppressed else 0, engine_id=engine_id,
                     in_progress=int(not suppressed and has_actions),
                     completed=int(not suppressed and not has_actions), detail=detail)
    if suppressed:
        HistoryEvent.create(workflow=workflow_id, at=now, type=EventType.SUPPRESSED, record_id=record_id, run=run.id,
                            detail="manual enrollment refused: the record meets the suppression criteria")
    else:  # alongside an enrollment in progress (the operator said yes): in a lane of its own
        lane = run.id if has_actions and in_progress_count(workflow_id, record_id) else 0
        Enrollment.create(run=run.id, workflow=workflow_id, record_id=record_id, manual=True, enrolled_at=now,
                          state=EnrollmentState.ACTIVE if has_actions else EnrollmentState.DONE, step=0,
                          next_step_at=now if has_actions else None, lane=lane)
    add_to_rollup(workflow_id, now.astimezone(UTC).date().isoformat(), 0 if suppressed else 1,
                  1 if suppressed else 0, 1)
    return run


def runs_of(workflow_id: int, limit: int | None = None) -> list[Run]:
    """A workflow's runs, newest first (by scheduled instant, manual runs by start)."""
    newest = pw.fn.COALESCE(Run.scheduled_for, Run.started_at, Run.finished_at)
    query = Run.select().where(Run.workflow == workflow_id).order_by(newest.desc(), Run.id.desc())
    if limit:
        query = query.limit(limit)
    return list(query)
