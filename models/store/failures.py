"""A run that could not be evaluated: written down, announced, and moved past.

The engine (engine/run_failure.py) calls these inside one write transaction when a run
fails for a reason of its own (criteria the database cannot run, a schedule that no
longer parses, …), never for the database's state (locked, full, read-only), which
every workflow shares and the engine retries:

* the ``failed`` run row, keyed on its instant like any other run (unique
  (workflow, scheduled_for)), with the error in words in ``detail``;
* one ``run_failed`` history event and one inbox notification (to ``everyone``) per
  failed run;
* the workflow moves on: ``next_run_at`` to the next instant, later still when it has
  failed several times in a row (back-off for that workflow alone; the event and the
  notification say when it runs next). Instants the failed transaction would have
  recorded as misfires are ``missed`` runs with a history event. Instants inside a
  back-off are not written in advance: any saved change to the workflow ends the
  back-off (engine/workflows.py), and its next run is then the next instant.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.enums import EventType, NotificationTarget, RunKind, RunStatus, WorkflowStatus
from models.schema import HistoryEvent, Notification, Run, Workflow
from models.timeutil import iso_z, to_micros

RUN_FAILED = EventType.RUN_FAILED
NOTIFY_EVERYONE = NotificationTarget.EVERYONE
MAX_DETAIL = 2000
_STREAK_WINDOW = 64  # consecutive failures are counted among this many newest runs


@dataclass(frozen=True)
class FailedRun:
    workflow_id: int
    workflow_name: str
    run_id: int | None
    scheduled_for: datetime | None
    message: str
    in_a_row: int  # failed scheduled runs in a row, this one included
    next_run_at: datetime | None


def due_workflow(workflow_id: int, horizon: datetime) -> Workflow | None:
    """The workflow if it is still active and due by ``horizon`` (re-read inside the
    caller's write transaction), else None: it was fixed, paused or deleted meanwhile."""
    wf = Workflow.get_or_none(Workflow.id == workflow_id)
    if wf is None or wf.status != WorkflowStatus.ACTIVE or wf.next_run_at is None or wf.next_run_at > horizon:
        return None
    return wf


def workflow_row(workflow_id: int) -> Workflow | None:
    return Workflow.get_or_none(Workflow.id == workflow_id)


def write_failed_run(wf: Workflow, at: datetime | None, message: str, *, now: datetime,
                     engine_id: str | None) -> Run | None:
    """The failed run for ``at`` (created unless one exists for that instant: the
    runner may have written it). Returns the run row (None without an instant)."""
    if at is None:
        return None
    Run.insert(workflow=wf.id, scheduled_for=at, kind=RunKind.SCHEDULED, status=RunStatus.FAILED, started_at=now,
               finished_at=now, engine_id=engine_id, detail=message[:MAX_DETAIL]).on_conflict_ignore().execute()
    return Run.get_or_none((Run.workflow == wf.id) & (Run.scheduled_for == at))


def create_failed_run(workflow_id: int, at: datetime, message: str, *, now: datetime,
                      engine_id: str | None) -> Run | None:
    """The failed run for ``at``, unless that instant has a run already (then None):
    the runner's own record of a run that could not start (engine/runner.py)."""
    if Run.select().where((Run.workflow == workflow_id) & (Run.scheduled_for == at)).exists():
        return None
    return Run.create(workflow=workflow_id, scheduled_for=at, kind=RunKind.SCHEDULED, status=RunStatus.FAILED,
                      started_at=now, finished_at=now, engine_id=engine_id, detail=message[:MAX_DETAIL])


def announce_failure(wf: Workflow, run: Run | None, at: datetime | None, message: str, *, now: datetime,
                     in_a_row: int, next_run_at: datetime | None) -> bool:
    """The ``run_failed`` history event and the inbox notification, once per failed
    run; both say when the workflow runs next. Returns False if already announced."""
    run_id = run.id if run is not None else None
    seen = HistoryEvent.select().where((HistoryEvent.workflow == wf.id) & (HistoryEvent.type == RUN_FAILED)
                                       & (HistoryEvent.run == run_id if run_id is not None
                                          else HistoryEvent.scheduled_for == at))
    if seen.exists():
        return False
    if next_run_at is None:
        after = "it will not run again until it is edited"
    elif in_a_row > 1:
        after = f"{in_a_row} failures in a row: backing off, next run {iso_z(next_run_at)}"
    else:
        after = f"next run {iso_z(next_run_at)}"
    detail = f"{message} ({after})"
    HistoryEvent.create(workflow=wf.id, at=now, type=RUN_FAILED, run=run_id, scheduled_for=at,
                        detail=detail[:MAX_DETAIL])
    when = f" for {iso_z(at)}" if at is not None else ""
    Notification.create(operator=NOTIFY_EVERYONE, workflow=wf.id, created_at=now,
                        message=f'Run of "{wf.name}"{when} failed: {detail}'[:MAX_DETAIL])
    return True


def consecutive_failures(workflow_id: int) -> int:
    """How many of the workflow's newest scheduled runs failed, in a row (missed and
    coalesced instants neither break nor extend the streak)."""
    statuses = (Run.select(Run.status)
                .where((Run.workflow == workflow_id) & (Run.kind == RunKind.SCHEDULED)
                       & Run.status.not_in((RunStatus.MISSED, RunStatus.COALESCED)))
                .order_by(Run.scheduled_for.desc(), Run.id.desc())
                .limit(_STREAK_WINDOW).tuples())
    count = 0
    for (status,) in statuses:
        if status != RunStatus.FAILED:
            break
        count += 1
    return count


def move_on(wf: Workflow, next_run_at: datetime | None, last_scheduled_for: datetime | None,
            skipped: list[tuple[datetime, str]], *, now: datetime, engine_id: str | None) -> None:
    """Set the workflow's next run; record each skipped (instant, why) as a missed run
    with its history event (an instant that has a run already is left alone)."""
    for i in range(0, len(skipped), 500):
        chunk = skipped[i:i + 500]
        micros = [to_micros(at) for at, _ in chunk]
        taken = {r for (r,) in Run.select(Run.scheduled_for).where(
            (Run.workflow == wf.id) & Run.scheduled_for.in_(micros)).tuples()}
        fresh = [(at, why) for at, why in chunk if at not in taken]
        if not fresh:
            continue
        Run.insert_many([
            {"workflow": wf.id, "scheduled_for": at, "kind": RunKind.SCHEDULED, "status": RunStatus.MISSED,
             "started_at": None,
             "finished_at": now, "engine_id": engine_id, "detail": why} for at, why in fresh
        ]).execute()
        ids = dict(Run.select(Run.scheduled_for, Run.id).where(
            (Run.workflow == wf.id) & Run.scheduled_for.in_([to_micros(a) for a, _ in fresh])).tuples())
        HistoryEvent.insert_many([
            {"workflow": wf.id, "at": now, "type": EventType.MISSED, "run": ids.get(at), "scheduled_for": at,
             "detail": why} for at, why in fresh
        ]).execute()
    Workflow.update(next_run_at=next_run_at, last_scheduled_for=last_scheduled_for).where(
        Workflow.id == wf.id).execute()
