"""A run: one occurrence of a workflow, written whole in one transaction.

:func:`execute_run` writes the run row (unique on (workflow, scheduled_for)), one
``INSERT … SELECT`` of every matching, unsuppressed record into ``enrollment`` (no
``ON CONFLICT`` clause: the run row is new in this transaction and the ``SELECT`` names
each record once, so no (run, record) pair can exist already; the unique key still
refuses one, rolling the run back whole; PostgreSQL's speculative insertion for ``ON
CONFLICT`` cost 40 % of the statement), one ``INSERT … SELECT`` of every suppressed
record into ``history_event``, the counts and the per-day rollup. The statements are
the store's (models/store/runs.py); this module decides what they are asked to do.

Overlap (per workflow ``settings``): with records still in progress from an older run,
``skip_in_progress`` (default) leaves them out and notes each (``run_skip``, read back as
``skipped_in_progress`` events), ``replace`` ends the older enrollments, ``allow``
enrolls them again, each run's enrollments in a lane of their own (models/schema.py).

:func:`enroll_manual` is a run of one record outside the schedule; :func:`runs_as_json`
reads a workflow's runs back.
"""
from __future__ import annotations

import json
from datetime import datetime

import peewee as pw

from engine.changes import notify_changed
from engine.due import workflow_timezone
from models import criteria as crit
from models.enums import Overlap, RunKind, RunStatus, WorkflowStatus
from models.errors import RotaError
from models.objects import record_model
from models.schema import Run, Workflow
from models.settings import Settings, load_settings
from models.store import runs as store_runs
from models.store.dialect import write_transaction
from models.store.records import get_record_exists
from models.store.workflows import get_workflow
from models.timeutil import UTC, iso_z, to_micros, utcnow


class RunExists(pw.IntegrityError):
    """This (workflow, instant) has a run row already: the instant is done."""


def execute_run(workflow: Workflow, scheduled_for: datetime | None, *, now: datetime,
                engine_id: str | None = None, settings: Settings | None = None,
                kind: str = RunKind.SCHEDULED) -> Run:
    """Run one occurrence: run row, enrollments, suppressed history, counts, rollup.

    Set-based whatever the number of records. Runs inside the caller's transaction if
    there is one (a savepoint), else in its own. ``next_run_at`` is the caller's
    business (``engine.runner.process_next_due``). Raises :class:`RunExists` (an
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
    overlap = (workflow.settings or {}).get("overlap") or Overlap.SKIP_IN_PROGRESS
    enroll_where = where if supp is None else (where & ~supp)
    with write_transaction():
        run_id = store_runs.insert_run(workflow.id, scheduled_for, kind=kind, status=RunStatus.RUNNING,
                                       started_at=now, engine_id=engine_id)
        if run_id is None:
            raise RunExists(f"run of {workflow.name} at {iso_z(scheduled_for)} exists already")
        run = Run(id=run_id, workflow=workflow.id, scheduled_for=scheduled_for, kind=kind, status=RunStatus.RUNNING,
                  started_at=now, engine_id=engine_id, steps_succeeded=0, steps_failed=0)
        skipped = 0
        # One probe of the partial index first: with nothing in progress (no actions, or
        # all finished) the run is the plain INSERT … SELECT and costs nothing more.
        if overlap != Overlap.ALLOW and store_runs.any_in_progress(workflow.id):
            if overlap == Overlap.SKIP_IN_PROGRESS:  # noted before enrolling, while "in progress" means the older ones
                skipped = store_runs.note_skipped(workflow.id, run_id, model, enroll_where)
            else:
                store_runs.replace_in_progress(workflow.id, run_id, model, enroll_where, now_us)
        # skip_busy only when something was noted: else the records in progress are not
        # matched, and there is nothing to leave out.
        enrolled = store_runs.enroll_matching(run_id, workflow.id, now_us, model, enroll_where,
                                              has_actions=has_actions, own_lane=overlap == Overlap.ALLOW,
                                              skip_busy=skipped > 0)
        suppressed = 0
        if supp is not None:
            suppressed = store_runs.note_suppressed(workflow.id, run_id, now_us, scheduled_for, model, where & supp)
        finished = now  # the transaction's own instant: commit time is not knowable inside it
        matched = enrolled + suppressed + skipped
        store_runs.finish_run(run_id, matched=matched, enrolled=enrolled, suppressed=suppressed, skipped=skipped,
                              in_progress=enrolled if has_actions else 0, completed=0 if has_actions else enrolled,
                              finished_at=finished)
        store_runs.add_to_rollup(workflow.id, now.astimezone(UTC).date().isoformat(), enrolled, suppressed, 1)
    run.status, run.matched, run.enrolled, run.suppressed, run.skipped_in_progress, run.finished_at = (
        RunStatus.SUCCEEDED, matched, enrolled, suppressed, skipped, finished)
    run.in_progress, run.completed = (enrolled, 0) if has_actions else (0, enrolled)
    return run


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
    if wf.status != WorkflowStatus.ACTIVE:
        raise RotaError(f'workflow "{wf.name}" is {wf.status}: activate it before enrolling records manually')
    try:
        rid = int(record_id)
    except (TypeError, ValueError):
        raise RotaError(f'record id "{record_id}" is not a number') from None
    type_name = wf.object_type.name
    if not get_record_exists(type_name, rid):
        raise RotaError(f"no {type_name} with id {rid}")
    tz = workflow_timezone(wf, settings)
    suppressed = False
    if wf.suppression:
        supp = crit.compile_criteria(wf.suppression, type_name, now=now, tz=tz, empty=False)
        suppressed = store_runs.record_matches(record_model(type_name), rid, supp)
    with write_transaction():
        run = store_runs.insert_manual_run(wf.id, rid, now=now, engine_id=engine_id, suppressed=suppressed,
                                           has_actions=bool(wf.actions), detail=json.dumps({"record_id": rid}))
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


def runs_as_json(workflow_name: str, limit: int | None = None) -> list[dict]:
    """SPEC §9 ``rota runs NAME --json``: newest first."""
    wf = get_workflow(workflow_name)
    return [run_as_dict(r) for r in store_runs.runs_of(wf.id, limit)]
