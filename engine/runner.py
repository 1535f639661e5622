"""Processing due work: claim a due workflow, plan its instants, run, move on.

For a due workflow the engine calls :func:`process_next_due`, which in ONE transaction

1. claims the earliest due active workflow (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
   engines on several machines share the due work; on SQLite the transaction is
   ``BEGIN IMMEDIATE``, so writers are serialised and the re-read below is current);
2. re-reads its ``next_run_at`` / ``last_scheduled_for`` and lists the due instants
   (never one at or before ``last_scheduled_for``: a clock that moved backwards cannot
   make an instant run twice) — engine/due.py;
3. applies the misfire policy (``engine.due.plan_misfires``): older instants become
   ``missed`` or ``coalesced`` run rows plus history events, the newest runs if it may;
4. runs it (``engine.run.execute_run``): the run row, one ``INSERT … SELECT`` of every
   matching, unsuppressed record into ``enrollment``, the suppressed records' history,
   the counts and the per-day rollup;
5. moves ``next_run_at`` to the next instant after now.

A kill at any moment leaves either all of it or none of it. Unique keys (run per
instant, enrollment per (run, record)) are the last line of defence against a second
engine doing the same work. Every missed or coalesced instant has a run row and a
history event with its ``scheduled_for``: nothing disappears silently.

The names of engine/due.py and engine/run.py that callers have always imported from
here (the CLI, the records screen) stay importable from here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import peewee as pw

from engine.due import (
    calendar_of,
    drop_done,
    due_instants,
    misfire_policy,
    plan_misfires,
    record_misfires,
    workflow_schedule,
    workflow_timezone,
)
from engine.run import RunExists, enroll_manual, execute_run, runs_as_json
from engine.schedule.base import BusinessCalendar
from models.enums import RunStatus
from models.errors import RotaError
from models.schema import Run, Workflow
from models.settings import Settings, load_settings
from models.store import failures as store_failures
from models.store.claims import claim_due_workflow
from models.store.dialect import write_transaction
from models.store.runs import taken_instants
from models.store.workflows import set_next_run
from models.timeutil import iso_z

# Re-exported for the callers that import them from here (tui/cli, tui/screens).
__all__ = ["Outcome", "RunExists", "calendar_of", "enroll_manual", "execute_run", "plan_misfires",
           "process_next_due", "runs_as_json", "workflow_schedule", "workflow_timezone"]

log = logging.getLogger("rota.engine")


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
            wf = claim_due_workflow(horizon)  # FOR UPDATE SKIP LOCKED on PostgreSQL (models/store/claims.py)
            if wf is None:
                return None
            outcome = Outcome(wf.id, wf.name)
            try:
                schedule = workflow_schedule(wf, settings)
            except RotaError as exc:
                failure = (wf, wf.next_run_at, f"schedule: {exc}")
                raise _Abandon() from None
            due, complete = due_instants(wf, schedule, calendar, horizon)
            policy, grace = misfire_policy(wf, settings)
            plan = plan_misfires(due, now, policy, grace, complete=complete)
            drop_done(wf, plan, taken_instants(wf.id, due))
            record_misfires(wf, plan.missed, RunStatus.MISSED, now, engine_id)
            record_misfires(wf, plan.coalesced, RunStatus.COALESCED, now, engine_id)
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
                    with write_transaction():  # a savepoint: the run's own statements roll back alone
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
            set_next_run(wf.id, nxt, newest)
            return outcome
    except _Abandon:
        pass
    assert failure is not None
    return _record_failure(*failure, now=now, horizon=now + lead, engine_id=engine_id, settings=settings,
                           calendar=calendar)


class _Abandon(Exception):
    """Roll the run transaction back whole; a failed run is recorded on its own."""


def _record_failure(wf: Workflow, at: datetime | None, message: str, *, now: datetime, horizon: datetime,
                    engine_id: str | None, settings: Settings, calendar: BusinessCalendar) -> Outcome:
    """Record a run that cannot succeed as ``failed`` and move the workflow past it."""
    log.error("run of %s at %s failed: %s", wf.name, iso_z(at), message)
    outcome = Outcome(wf.id, wf.name, failed=message)
    with write_transaction():
        fresh = store_failures.workflow_row(wf.id)
        if fresh is None or fresh.next_run_at is None or fresh.next_run_at > horizon:
            return outcome  # changed meanwhile (fixed, paused, deleted): nothing to record
        try:
            nxt = workflow_schedule(fresh, settings).next_after(max(now, at or now), calendar=calendar)
        except RotaError:
            nxt = None  # an unparseable schedule waits for an edit, which sets next_run_at
        if at is not None:
            outcome.run = store_failures.create_failed_run(wf.id, at, message, now=now, engine_id=engine_id)
        known = [a for a in (at, fresh.last_scheduled_for) if a is not None]
        last = max(known) if known else None
        set_next_run(wf.id, nxt, last)
    return outcome
