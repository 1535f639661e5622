"""A run that could not be evaluated: what the engine writes, and when the workflow runs next.

A run fails for a reason of its own (criteria the database cannot run, a schedule that
no longer parses, …), never for the database's state (locked, full, read-only), which
every workflow shares and the engine loop retries. Then, in one write transaction
(the statements are models/store/failures.py's):

* the ``failed`` run for its instant (unless the runner wrote it already), a
  ``run_failed`` history event and an inbox notification;
* the workflow's next run, after a back-off that grows with the failures in a row
  (:func:`failure_backoff`), for this workflow alone;
* when the run transaction rolled back, the instants before the failed one that it
  would have recorded as misfires, recorded as ``missed`` here.

The engine (engine/engine.py) logs the failure and announces it (``RunFailed``).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.due import calendar_of, workflow_schedule
from models.errors import RotaError
from models.schema import Workflow
from models.settings import Settings
from models.store import failures
from models.store.dialect import write_transaction

FAILURE_BACKOFF_FIRST = timedelta(minutes=1)  # a workflow's second failure in a row
FAILURE_BACKOFF_MAX = timedelta(hours=1)
MAX_SKIPPED = 2000  # instants recorded as missed in one failure transaction


@dataclass(frozen=True)
class Written:
    """What :func:`write_failure` recorded."""

    in_a_row: int = 1
    next_run_at: datetime | None = None
    run_id: int | None = None


def failure_backoff(in_a_row: int) -> timedelta:
    """How long a workflow that failed ``in_a_row`` times waits before its next run:
    nothing after one failure (the next instant), then 1, 2, 4 … minutes, at most an
    hour. A saved change to the workflow ends the wait."""
    if in_a_row <= 1:
        return timedelta(0)
    return min(FAILURE_BACKOFF_FIRST * (2 ** min(in_a_row - 2, 16)), FAILURE_BACKOFF_MAX)


def write_failure(workflow_id: int, at: datetime | None, message: str, now: datetime, *,
                  horizon: datetime | None, engine_id: str, settings: Settings) -> Written:
    """Record a failed run of this workflow and move the workflow on, in one write
    transaction. ``horizon`` is set when the run transaction rolled back: the workflow
    must still be due by then (re-read), else nothing is written (it was fixed, paused
    or deleted meanwhile)."""
    with write_transaction():
        if horizon is not None:
            wf = failures.due_workflow(workflow_id, horizon)
        else:
            wf = failures.workflow_row(workflow_id) if at is not None else None
        if wf is None:
            return Written()
        run = failures.write_failed_run(wf, at, message, now=now, engine_id=engine_id)
        in_a_row = max(failures.consecutive_failures(wf.id), 1)
        nxt, last, skipped = after_failure(wf, at, in_a_row, now, settings, rolled_back=horizon is not None)
        failures.move_on(wf, nxt, last, skipped, now=now, engine_id=engine_id)
        failures.announce_failure(wf, run, at, message, now=now, in_a_row=in_a_row, next_run_at=nxt)
    return Written(in_a_row, nxt, run.id if run is not None else None)


def after_failure(wf: Workflow, at: datetime | None, in_a_row: int, now: datetime, settings: Settings, *,
                  rolled_back: bool) -> tuple[datetime | None, datetime | None, list[tuple[datetime, str]]]:
    """(next_run_at, last_scheduled_for, skipped instants with the reason) after a failure."""
    known = [x for x in (at, wf.last_scheduled_for) if x is not None]
    last = max(known) if known else None
    try:
        schedule = workflow_schedule(wf, settings)
    except RotaError:
        return None, last, []  # a schedule that does not parse waits for an edit (which sets next_run_at)
    calendar = calendar_of(settings)
    skipped: list[tuple[datetime, str]] = []
    start = wf.next_run_at
    if rolled_back and at is not None and start is not None and start < at:
        why = "not run: the run transaction that covered it failed and was rolled back"
        earlier = [start, *itertools.islice(schedule.between(start, at, calendar=calendar), MAX_SKIPPED)]
        skipped += [(x, why) for x in earlier if x < at and (wf.last_scheduled_for is None
                                                              or x > wf.last_scheduled_for)]
    # Back-off: the first instant at or after now + the back-off (the next one after
    # a single failure). Instants inside it are not written ahead; see failures.py.
    not_before = max(now, at or now, now + failure_backoff(in_a_row) - timedelta(microseconds=1))
    nxt = schedule.next_after(not_before, calendar=calendar)
    if skipped:
        last = max([x for x, _ in skipped] + ([last] if last else []))
    return nxt, last, skipped
