"""A run: one occurrence of a workflow, written whole in one transaction.

For a due workflow the engine calls :func:`process_next_due`, which in ONE transaction

1. claims the earliest due active workflow (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
   engines on several machines share the due work; on SQLite the transaction is
   ``BEGIN IMMEDIATE``, so writers are serialised and the re-read below is current);
2. re-reads its ``next_run_at`` / ``last_scheduled_for`` and lists the due instants
   (never one at or before ``last_scheduled_for``: a clock that moved backwards cannot
   make an instant run twice);
3. applies the misfire policy (:func:`plan_misfires`): older instants become ``missed``
   or ``coalesced`` run rows plus history events, the newest runs if it may;
4. runs it (:func:`execute_run`): the run row (unique on (workflow, scheduled_for)), one
   ``INSERT … SELECT`` of every matching, unsuppressed record into ``enrollment`` (no
   ``ON CONFLICT`` clause: the run row is new in this transaction and the ``SELECT``
   names each record once, so no (run, record) pair can exist already; the unique key
   still refuses one, rolling the run back whole; PostgreSQL's speculative insertion
   for ``ON CONFLICT`` cost 40 % of the statement), one ``INSERT … SELECT`` of every
   suppressed record into ``history_event``, the counts and the per-day rollup;
5. moves ``next_run_at`` to the next instant after now.

A kill at any moment leaves either all of it or none of it. Unique keys (run per
instant, enrollment per (run, record)) are the last line of defence against a second
engine doing the same work.

Misfire policy (per workflow ``settings``, else the application settings):

* ``run_once_late`` (default): of the instants that came due while nobody ran them, the
  newest runs once — late — if it is within the grace window; the older ones within the
  window are recorded ``coalesced`` (their work is done by that one late run), those
  beyond it ``missed``. If even the newest is beyond the window, all are ``missed``.
* ``record_missed``: only an occurrence started at most ``ON_TIME`` late runs (an engine
  busy for a few seconds is not a misfire); every other due instant is ``missed``.

Every missed or coalesced instant has a run row and a history event with its
``scheduled_for``: nothing disappears silently.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import peewee as pw

from engine.changes import notify_changed
from engine.schedule.base import BusinessCalendar
from engine.schedule.model import Schedule, parse_schedule
from models import criteria as crit
from models.db import db
from models.errors import RotaError
from models.objects import record_model
from models.schema import IN_PROGRESS_SQL, IN_PROGRESS_WHERE, Enrollment, EnrollmentDaily, HistoryEvent, Run, Workflow
from models.settings import Settings, load_settings
from models.store.claims import claim_due_workflow
from models.store.dialect import write_transaction
from models.store.runs import insert_run, not_skipped, note_skipped, taken_instants
from models.store.workflows import get_workflow
from models.timeutil import UTC, from_micros, iso_z, to_micros, utcnow

log = logging.getLogger("rota.engine")

ON_TIME = timedelta(seconds=60)  # lateness that is "the engine was busy", not a misfire
MAX_INSTANTS_PER_TXN = 2000  # a long outage is recorded in bounded transactions


# ------------------------------------------------------------------ small helpers


def workflow_timezone(wf: Workflow, settings: Settings) -> str:
    return (wf.schedule or {}).get("timezone") or settings.timezone


def workflow_schedule(wf: Workflow, settings: Settings) -> Schedule:
    return parse_schedule(wf.schedule, default_timezone=settings.timezone)


def calendar_of(settings: Settings) -> BusinessCalendar:
    return BusinessCalendar.from_settings(settings)


def misfire_policy(wf: Workflow, settings: Settings) -> tuple[str, timedelta]:
    own = wf.settings or {}
    policy = own.get("misfire_policy") or settings.misfire_policy
    grace = own.get("grace_seconds")
    if grace is None:
        grace = settings.grace_seconds
    return policy, timedelta(seconds=int(grace))


def _table(model) -> str:
    return model._meta.table_name


# ------------------------------------------------------------------ misfire planning


@dataclass
class Plan:
    run_at: datetime | None
    coalesced: list[datetime] = field(default_factory=list)
    missed: list[datetime] = field(default_factory=list)


def plan_misfires(due: list[datetime], now: datetime, policy: str, grace: timedelta,
                  *, complete: bool = True) -> Plan:
    """Decide what happens to the due instants (ascending). Pure, so it is tested alone.

    ``complete`` is False when ``due`` is only the first chunk of a longer outage: then
    none of them is the newest, and none runs.
    """
    plan = Plan(run_at=None)
    if not due:
        return plan
    older = due[:-1] if complete else due
    for at in older:
        if policy == "run_once_late" and now - at <= grace:
            plan.coalesced.append(at)
        else:
            plan.missed.append(at)
    if complete:
        newest = due[-1]
        late = now - newest
        allowed = max(grace, ON_TIME) if policy == "run_once_late" else ON_TIME
        if late <= allowed:
            plan.run_at = newest
        else:
            plan.missed.append(newest)
    if plan.run_at is None and plan.coalesced:  # nothing runs: nothing to coalesce into
        plan.missed = sorted(plan.missed + plan.coalesced)
        plan.coalesced = []
    return plan


# ------------------------------------------------------------------------ the run


def _rollup(workflow_id: int, day: str, enrolled: int, suppressed: int, runs: int) -> None:
    p = db.obj.param
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


def _insert_select(target: str, columns: list[str], constants: list[str], model, where, tail: str = "") -> int:
    """``INSERT INTO target (columns) SELECT constants…, id FROM rec_<type> WHERE …``.

    Constants are integers and fixed words written into the SQL (typed with CAST where
    PostgreSQL would otherwise see an untyped NULL); record values never leave the
    database. Returns the number of rows inserted.
    """
    select = model.select(*[pw.SQL(c) for c in constants], model.id).where(where)
    sql, params = select.sql()
    cols = ", ".join(f'"{c}"' for c in columns)
    cursor = db.execute_sql(f'INSERT INTO "{target}" ({cols}) {sql} {tail}', params)
    return max(cursor.rowcount, 0)


class RunExists(pw.IntegrityError):
    """This (workflow, instant) has a run row already: the instant is done."""


REPLACED_DETAIL = '{"reason": "replaced by a new enrollment (overlap: replace)"}'


def _any_in_progress(workflow_id: int) -> bool:
    return Enrollment.select(pw.SQL("1")).where((Enrollment.workflow == workflow_id) & IN_PROGRESS_WHERE).exists()


def _note_skipped(workflow: Workflow, run: Run, model, where, now_us: int, sched_sql: str) -> int:
    """overlap = skip_in_progress: a ``skipped_in_progress`` event per matching record
    with an enrollment in progress (models/store/runs.py). Returns how many."""
    match, mparams = model.select(pw.SQL("1")).where(where & (model.id == pw.SQL('"busy"."record_id"'))).sql()
    return note_skipped(workflow.id, run.id, now_us, sched_sql, match, mparams)


def _replace_in_progress(workflow: Workflow, run: Run, model, where, now_us: int) -> None:
    """overlap = replace: end the older enrollments in progress of the records this run
    enrolls, each with an ``unenrolled`` event naming the reason. Set-based."""
    e = _table(Enrollment)
    matching, mparams = model.select(model.id).where(where).sql()
    scope = f'"workflow_id" = {int(workflow.id)} AND {IN_PROGRESS_SQL} AND "record_id" IN ({matching})'
    detail = REPLACED_DETAIL.replace("'", "''")
    db.execute_sql(
        f'INSERT INTO "{_table(HistoryEvent)}" ("workflow_id", "at", "type", "run_id", "record_id", '
        f'"enrollment_id", "detail") SELECT {int(workflow.id)}, {now_us}, \'unenrolled\', {int(run.id)}, '
        f'"record_id", "id", \'{detail}\' FROM "{e}" WHERE {scope}', mparams)
    r = _table(Run)  # the older runs' counters: in progress -> completed (unenrolled), as the executor keeps them
    ended = f'(SELECT COUNT(*) FROM "{e}" WHERE "run_id" = "{r}"."id" AND {scope})'
    db.execute_sql(f'UPDATE "{r}" SET "in_progress" = "in_progress" - {ended}, "completed" = "completed" + {ended} '
                   f'WHERE "id" IN (SELECT "run_id" FROM "{e}" WHERE {scope})', mparams * 3)
    db.execute_sql(f'UPDATE "{e}" SET "state" = \'unenrolled\', "next_step_at" = NULL, "claimed_by" = NULL, '
                   f'"claimed_until" = NULL WHERE {scope}', mparams)


def execute_run(workflow: Workflow, scheduled_for: datetime | None, *, now: datetime,
                engine_id: str | None = None, settings: Settings | None = None,
                kind: str = "scheduled") -> Run:
    """Run one occurrence: run row, enrollments, suppressed history, counts, rollup.

    Set-based whatever the number of records. Runs inside the caller's transaction if
    there is one (a savepoint), else in its own. ``next_run_at`` is the caller's
    business (:func:`process_next_due`). Raises :class:`RunExists` (an
    ``IntegrityError``) if this instant has a run already (another engine got there
    first): the unique key decides, without a failed statement (the run row is
    ``INSERT … ON CONFLICT DO NOTHING``), so the caller's transaction stays usable.
    """
    settings = settings or load_settings()
    type_name = workflow.object_type.name
    tz = workflow_timezone(workflow, settings)
    model = record_model(type_name)
    where = crit.compile_criteria(workflow.criteria or [], type_name, now=now, tz=tz, empty=True)
    supp = (crit.compile_criteria(workflow.suppression, type_name, now=now, tz=tz, empty=False)
            if workflow.suppression else None)
    has_actions = bool(workflow.actions)
    now_us = to_micros(now)
    overlap = (workflow.settings or {}).get("overlap") or "skip_in_progress"
    enroll_where = where if supp is None else (where & ~supp)
    with db.atomic():
        run_id = insert_run(workflow.id, scheduled_for, kind=kind, status="running", started_at=now,
                            engine_id=engine_id)
        if run_id is None:
            raise RunExists(f"run of {workflow.name} at {iso_z(scheduled_for)} exists already")
        run = Run(id=run_id, workflow=workflow.id, scheduled_for=scheduled_for, kind=kind, status="running",
                  started_at=now, engine_id=engine_id, steps_succeeded=0, steps_failed=0)
        sched_sql = str(to_micros(scheduled_for)) if scheduled_for is not None else "CAST(NULL AS BIGINT)"
        state, next_step = ("'active'", str(now_us)) if has_actions else ("'done'", "CAST(NULL AS BIGINT)")
        skipped = 0
        # One probe of the partial index first: with nothing in progress (no actions, or
        # all finished) the run is the plain INSERT … SELECT and costs nothing more.
        if overlap != "allow" and _any_in_progress(workflow.id):
            if overlap == "skip_in_progress":  # noted before enrolling, while "in progress" means the older ones
                skipped = _note_skipped(workflow, run, model, enroll_where, now_us, sched_sql)
                if skipped:  # else the records in progress are not matched: nothing to leave out
                    enroll_where = enroll_where & not_skipped(workflow.id, model.id)
            else:
                _replace_in_progress(workflow, run, model, enroll_where, now_us)
        enrolled = _insert_select(
            _table(Enrollment),
            ["run_id", "workflow_id", "manual", "enrolled_at", "state", "step", "next_step_at", "record_id"],
            [str(run.id), str(workflow.id), "FALSE", str(now_us), state, "0", next_step],
            model, enroll_where,
        )
        suppressed = 0
        if supp is not None:
            suppressed = _insert_select(
                _table(HistoryEvent),
                ["workflow_id", "at", "type", "run_id", "scheduled_for", "record_id"],
                [str(workflow.id), str(now_us), "'suppressed'", str(run.id), sched_sql],
                model, where & supp,
            )
        finished = now  # the transaction's own instant: commit time is not knowable inside it
        matched = enrolled + suppressed + skipped
        Run.update(status="succeeded", matched=matched, enrolled=enrolled, suppressed=suppressed,
                   skipped_in_progress=skipped, in_progress=enrolled if has_actions else 0,
                   completed=0 if has_actions else enrolled, finished_at=finished).where(Run.id == run.id).execute()
        _rollup(workflow.id, now.astimezone(UTC).date().isoformat(), enrolled, suppressed, 1)
    run.status, run.matched, run.enrolled, run.suppressed, run.skipped_in_progress, run.finished_at = (
        "succeeded", matched, enrolled, suppressed, skipped, finished)
    run.in_progress, run.completed = (enrolled, 0) if has_actions else (0, enrolled)
    return run


def _record_misfires(wf: Workflow, instants: list[datetime], status: str, now: datetime, engine_id: str | None) -> None:
    if not instants:
        return
    detail = {"missed": "not run: the engine was not running at that time (misfire policy)",
              "coalesced": "not run separately: collapsed into one late run (misfire policy)"}[status]
    for i in range(0, len(instants), 500):
        chunk = instants[i:i + 500]
        Run.insert_many([
            {"workflow": wf.id, "scheduled_for": at, "kind": "scheduled", "status": status, "started_at": None,
             "finished_at": now, "engine_id": engine_id, "detail": detail} for at in chunk
        ]).on_conflict_ignore().execute()  # the caller left out instants that have a run
        ids = dict(Run.select(Run.scheduled_for, Run.id).where(
            (Run.workflow == wf.id) & (Run.scheduled_for.in_([to_micros(a) for a in chunk]))).tuples())
        HistoryEvent.insert_many([
            {"workflow": wf.id, "at": now, "type": status, "run": ids.get(at), "scheduled_for": at,
             "detail": detail} for at in chunk
        ]).execute()


# ----------------------------------------------------------------- claiming due work


@dataclass
class Outcome:
    """What one claimed workflow produced in one transaction (for events and tests)."""

    workflow_id: int
    workflow_name: str
    run: Run | None = None
    missed: list[datetime] = field(default_factory=list)
    coalesced: list[datetime] = field(default_factory=list)
    failed: str | None = None
    scheduled_for: datetime | None = None  # the instant run (or attempted)
    lag_ms: float | None = None
    duration_ms: float = 0.0


_claim_due = claim_due_workflow  # FOR UPDATE SKIP LOCKED on PostgreSQL (models/store/claims.py)


def _due_instants(wf: Workflow, schedule: Schedule, calendar: BusinessCalendar,
                  now: datetime) -> tuple[list[datetime], bool]:
    """Instants in [next_run_at, now], none at or before last_scheduled_for; bounded."""
    start = wf.next_run_at
    last = wf.last_scheduled_for
    due: list[datetime] = []
    if start is not None and (last is None or start > last):
        due.append(start)
        after = start
    else:
        after = last if last is not None else now
    for at in schedule.between(after, now, calendar=calendar):
        if len(due) >= MAX_INSTANTS_PER_TXN:
            return due, False
        due.append(at)
    return due, True


def process_next_due(now: datetime, engine_id: str | None = None, *, settings: Settings | None = None,
                     clock_now=None, lead: timedelta = timedelta(0), sleep_until=None,
                     on_start=None) -> Outcome | None:
    """Claim one due workflow and process everything due for it, in one transaction.

    Returns None when nothing is due (or every due workflow is held by another engine).
    ``lead`` lets the engine claim an instant that is due within ``lead`` of ``now`` and
    do the preparation (claim, misfire planning) before it; ``sleep_until(instant)`` then
    waits for the instant itself, so the run starts on time rather than one preparation
    later. A run never starts before its instant. ``on_start(outcome, started)`` is
    called just before the enrollment statement (for "run started" reports).

    A run that fails for a reason that retrying will not fix (criteria on a deleted
    property, …) is recorded as a ``failed`` run and the workflow moves on; database
    errors (locked, read-only, disk full, connection lost) propagate after a whole
    rollback so that the engine backs off and retries.
    """
    settings = settings or load_settings()
    calendar = calendar_of(settings)
    clock_now = clock_now or (lambda: now)
    failure: tuple[Workflow, datetime, str] | None = None
    try:
        with write_transaction():
            horizon = now + lead
            wf = _claim_due(horizon)
            if wf is None:
                return None
            outcome = Outcome(wf.id, wf.name)
            try:
                schedule = workflow_schedule(wf, settings)
            except RotaError as exc:
                failure = (wf, wf.next_run_at, f"schedule: {exc}")
                raise _Abandon() from None
            due, complete = _due_instants(wf, schedule, calendar, horizon)
            policy, grace = misfire_policy(wf, settings)
            plan = plan_misfires(due, now, policy, grace, complete=complete)
            _drop_done(wf, plan, taken_instants(wf.id, due))
            _record_misfires(wf, plan.missed, "missed", now, engine_id)
            _record_misfires(wf, plan.coalesced, "coalesced", now, engine_id)
            outcome.missed, outcome.coalesced = plan.missed, plan.coalesced
            if plan.run_at is not None:
                started = clock_now()
                if started < plan.run_at and sleep_until is not None:
                    sleep_until(plan.run_at)
                    started = clock_now()
                started = max(started, plan.run_at)
                outcome.lag_ms = (started - plan.run_at).total_seconds() * 1000
                outcome.scheduled_for = plan.run_at
                if on_start is not None:
                    on_start(outcome, started)
                try:
                    with db.atomic():
                        outcome.run = execute_run(wf, plan.run_at, now=started, engine_id=engine_id,
                                                  settings=settings)
                except RunExists:
                    # Another engine ran this instant already: the unique key said no.
                    log.info("run of %s at %s exists already", wf.name, iso_z(plan.run_at))
                except (RotaError, ValueError, KeyError, TypeError, pw.ProgrammingError) as exc:
                    failure = (wf, plan.run_at, str(exc) or type(exc).__name__)
                    raise _Abandon() from None
                outcome.duration_ms = (clock_now() - started).total_seconds() * 1000
            newest = due[-1] if due else wf.last_scheduled_for
            nxt = schedule.next_after(max(now, newest) if newest else now, calendar=calendar) if complete \
                else schedule.next_after(newest, calendar=calendar)
            Workflow.update(next_run_at=nxt, last_scheduled_for=newest).where(Workflow.id == wf.id).execute()
            return outcome
    except _Abandon:
        pass
    assert failure is not None
    return _record_failure(*failure, now=now, horizon=now + lead, engine_id=engine_id, settings=settings,
                           calendar=calendar)


def _drop_done(wf: Workflow, plan: Plan, taken: set[datetime]) -> None:
    """Instants that have a run row already (run, missed, coalesced or failed) are
    done: nothing is recorded or run for them again. ``next_run_at`` still moves past
    them, so a workflow whose ``next_run_at`` was left on such an instant (an edit, a
    restored backup, an older engine) moves on instead of failing on the unique key."""
    if not taken:
        return
    plan.missed = [at for at in plan.missed if at not in taken]
    plan.coalesced = [at for at in plan.coalesced if at not in taken]
    if plan.run_at is not None and plan.run_at in taken:
        log.info("run of %s at %s exists already: moving on", wf.name, iso_z(plan.run_at))
        plan.run_at = None


class _Abandon(Exception):
    """Roll the run transaction back whole; a failed run is recorded on its own."""


def _record_failure(wf: Workflow, at: datetime | None, message: str, *, now: datetime, horizon: datetime,
                    engine_id: str | None, settings: Settings, calendar: BusinessCalendar) -> Outcome:
    """Record a run that cannot succeed as ``failed`` and move the workflow past it."""
    log.error("run of %s at %s failed: %s", wf.name, iso_z(at), message)
    outcome = Outcome(wf.id, wf.name, failed=message)
    with write_transaction():
        fresh = Workflow.get_or_none(Workflow.id == wf.id)
        if fresh is None or fresh.next_run_at is None or fresh.next_run_at > horizon:
            return outcome  # changed meanwhile (fixed, paused, deleted): nothing to record
        try:
            nxt = workflow_schedule(fresh, settings).next_after(max(now, at or now), calendar=calendar)
        except RotaError:
            nxt = None  # an unparseable schedule waits for an edit, which sets next_run_at
        if at is not None and not Run.select().where((Run.workflow == wf.id) & (Run.scheduled_for == at)).exists():
            outcome.run = Run.create(workflow=wf.id, scheduled_for=at, kind="scheduled", status="failed",
                                     started_at=now, finished_at=now, engine_id=engine_id, detail=message[:2000])
        known = [a for a in (at, fresh.last_scheduled_for) if a is not None]
        last = max(known) if known else None
        Workflow.update(next_run_at=nxt, last_scheduled_for=last).where(Workflow.id == wf.id).execute()
    return outcome


def next_due_at() -> datetime | None:
    """The earliest next run time of any active workflow (one indexed lookup).

    Plain SQL: this runs on every wake-up, and building the query is most of its cost.
    """
    t = _table(Workflow)
    row = db.execute_sql(
        f'SELECT "next_run_at" FROM "{t}" WHERE "next_run_at" IS NOT NULL AND "status" = {db.obj.param} '
        f'ORDER BY "next_run_at" LIMIT 1', ("active",)).fetchone()
    return from_micros(row[0]) if row else None


# ------------------------------------------------------------- manual enrollment


def enroll_manual(workflow_name: str, record_id: int, *, now: datetime | None = None,
                  engine_id: str | None = None) -> Run:
    """Enroll one record now, outside the schedule, whatever the criteria say.

    Suppression wins: a suppressed record gets a run with ``suppressed=1`` and a
    ``suppressed`` history event, and no enrollment. Raises RotaError for an unknown
    workflow or record, or a workflow that is not active.
    """
    now = now or utcnow()
    settings = load_settings()
    wf = get_workflow(workflow_name)
    if wf.status != "active":
        raise RotaError(f'workflow "{wf.name}" is {wf.status}: activate it before enrolling records manually')
    try:
        rid = int(record_id)
    except (TypeError, ValueError):
        raise RotaError(f'record id "{record_id}" is not a number') from None
    type_name = wf.object_type.name
    model = record_model(type_name)
    if not model.select(model.id).where(model.id == rid).exists():
        raise RotaError(f"no {type_name} with id {rid}")
    tz = workflow_timezone(wf, settings)
    suppressed = False
    if wf.suppression:
        supp = crit.compile_criteria(wf.suppression, type_name, now=now, tz=tz, empty=False)
        suppressed = model.select(model.id).where((model.id == rid) & supp).exists()
    with write_transaction():
        run = Run.create(workflow=wf.id, scheduled_for=None, kind="manual", status="succeeded", started_at=now,
                         finished_at=now, matched=1, enrolled=0 if suppressed else 1,
                         suppressed=1 if suppressed else 0, engine_id=engine_id,
                         in_progress=int(not suppressed and bool(wf.actions)),
                         completed=int(not suppressed and not wf.actions),
                         detail=json.dumps({"record_id": rid}))
        if suppressed:
            HistoryEvent.create(workflow=wf.id, at=now, type="suppressed", record_id=rid, run=run.id,
                                detail="manual enrollment refused: the record meets the suppression criteria")
        else:
            has_actions = bool(wf.actions)
            Enrollment.create(run=run.id, workflow=wf.id, record_id=rid, manual=True, enrolled_at=now,
                              state="active" if has_actions else "done", step=0,
                              next_step_at=now if has_actions else None)
        _rollup(wf.id, now.astimezone(UTC).date().isoformat(), 0 if suppressed else 1, 1 if suppressed else 0, 1)
    notify_changed(wf.id)  # wakes this process's engine and others: the steps are due now
    return run


# ----------------------------------------------------------------------- reading


def run_as_dict(run: Run) -> dict:
    return {
        "id": run.id,
        "kind": run.kind,
        "scheduled_for": iso_z(run.scheduled_for),
        "started_at": iso_z(run.started_at),
        "finished_at": iso_z(run.finished_at),
        "status": run.status,
        "matched": run.matched,
        "enrolled": run.enrolled,
        "suppressed": run.suppressed,
        "skipped_in_progress": run.skipped_in_progress,
        "steps_succeeded": run.steps_succeeded,
        "steps_failed": run.steps_failed,
        "in_progress": run.in_progress,
        "completed": run.completed,
        "engine_id": run.engine_id,
        "detail": run.detail,
    }


def runs_query(workflow_id: int):
    """A workflow's runs, newest first (by scheduled instant, manual runs by start)."""
    newest = pw.fn.COALESCE(Run.scheduled_for, Run.started_at, Run.finished_at)
    return Run.select().where(Run.workflow == workflow_id).order_by(newest.desc(), Run.id.desc())


def runs_as_json(workflow_name: str, limit: int | None = None) -> list[dict]:
    """SPEC §9 ``rota runs NAME --json``: newest first."""
    wf = get_workflow(workflow_name)
    query = runs_query(wf.id)
    if limit:
        query = query.limit(limit)
    return [run_as_dict(r) for r in query]
