"""What is due for a workflow, and what becomes of the instants that do not run.

The runner (engine/runner.py) asks this module, inside its run transaction, which of a
claimed workflow's instants are due and which of them runs; the instants that do not
run are written down here (through the store), so nothing disappears silently.

* Due instants (:func:`due_instants`): those in [``next_run_at``, now], never one at or
  before ``last_scheduled_for`` (a clock that moved backwards cannot make an instant run
  twice), at most ``MAX_INSTANTS_PER_TXN`` per transaction (a long outage is recorded in
  bounded transactions).
* Misfire policy (per workflow ``settings``, else the application settings), applied by
  :func:`plan_misfires`:

  - ``run_once_late`` (default): of the instants that came due while nobody ran them,
    the newest runs once — late — if it is within the grace window; the older ones
    within the window are recorded ``coalesced`` (their work is done by that one late
    run), those beyond it ``missed``. If even the newest is beyond the window, all are
    ``missed``.
  - ``record_missed``: only an occurrence started at most ``ON_TIME`` late runs (an
    engine busy for a few seconds is not a misfire); every other due instant is
    ``missed``.

* Instants that have a run row already (run, missed, coalesced or failed) are done
  (:func:`drop_done`); every missed or coalesced instant gets a run row and a history
  event with its ``scheduled_for`` (:func:`record_misfires`).

Also here: a workflow's schedule, time zone and business calendar as the settings make
them (used by the runner, the engine's failure handling, previews and simulation).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.schedule.base import BusinessCalendar
from engine.schedule.model import Schedule, parse_schedule
from models.enums import MisfirePolicy, RunStatus
from models.schema import Workflow
from models.settings import Settings
from models.store import runs as store_runs
from models.timeutil import iso_z

log = logging.getLogger("rota.engine")

ON_TIME = timedelta(seconds=60)  # lateness that is "the engine was busy", not a misfire
MAX_INSTANTS_PER_TXN = 2000  # a long outage is recorded in bounded transactions

MISFIRE_DETAIL = {RunStatus.MISSED: "not run: the engine was not running at that time (misfire policy)",
                  RunStatus.COALESCED: "not run separately: collapsed into one late run (misfire policy)"}


# ------------------------------------------------------------------ a workflow's schedule


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
        if policy == MisfirePolicy.RUN_ONCE_LATE and now - at <= grace:
            plan.coalesced.append(at)
        else:
            plan.missed.append(at)
    if complete:
        newest = due[-1]
        late = now - newest
        allowed = max(grace, ON_TIME) if policy == MisfirePolicy.RUN_ONCE_LATE else ON_TIME
        if late <= allowed:
            plan.run_at = newest
        else:
            plan.missed.append(newest)
    if plan.run_at is None and plan.coalesced:  # nothing runs: nothing to coalesce into
        plan.missed = sorted(plan.missed + plan.coalesced)
        plan.coalesced = []
    return plan


def due_instants(wf: Workflow, schedule: Schedule, calendar: BusinessCalendar,
                 now: datetime) -> tuple[list[datetime], bool]:
    """Instants in [next_run_at, now], none at or before last_scheduled_for; bounded.
    The flag is False when the list stops at ``MAX_INSTANTS_PER_TXN`` (more are due)."""
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


# ------------------------------------------------------------------ bookkeeping


def drop_done(wf: Workflow, plan: Plan, taken: set[datetime]) -> None:
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


def record_misfires(wf: Workflow, instants: list[datetime], status: RunStatus, now: datetime,
                    engine_id: str | None) -> None:
    """A ``status`` (missed or coalesced) run row and history event per instant."""
    if not instants:
        return
    store_runs.record_misfires(wf.id, instants, status, MISFIRE_DETAIL[status], now, engine_id)
