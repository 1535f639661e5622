"""Read models for the screens: plain, frozen data from bounded queries.

Screens never build a peewee query; they call these functions (in a worker) and show
what comes back. Every function here costs a handful of queries whatever the data
size: row caps, the (workflow, id) and (run, record_id) indexes, and the
``enrollment_daily`` rollup instead of counting enrollments.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import peewee as pw

from models.objects import list_types, record_model
from models.schema import Enrollment, EnrollmentDaily, Run, Workflow
from models.timeutil import from_micros


@dataclass(frozen=True)
class TypeChoice:
    name: str
    label: str
    builtin: bool


@dataclass(frozen=True)
class LastRun:
    """The newest run of a workflow, as the home screen shows it."""

    at: datetime | None  # its occurrence (scheduled) or start (manual)
    status: str
    kind: str
    enrolled: int
    detail: str | None
    steps_failed: int = 0
    in_progress: int = 0  # its enrollments not finished yet


@dataclass(frozen=True)
class WorkflowSummary:
    id: int
    name: str
    status: str
    object_type: str  # the type's name ("contact")
    schedule: dict
    next_run_at: datetime | None
    last_run: LastRun | None


def object_types() -> list[TypeChoice]:
    return [TypeChoice(t.name, t.label, bool(t.builtin)) for t in list_types()]


def home_rows(limit: int) -> list[WorkflowSummary]:
    """Every workflow by name (at most ``limit``) with its newest run: three queries."""
    types = {t.id: t.name for t in list_types()}
    newest = Run.select(pw.fn.MAX(Run.id)).group_by(Run.workflow)
    runs = {r.workflow_id: r for r in Run.select().where(Run.id.in_(newest))}
    out = []
    for wf in Workflow.select().order_by(Workflow.name).limit(limit):
        run = runs.get(wf.id)
        last = None if run is None else LastRun(
            at=run.scheduled_for or run.started_at, status=run.status, kind=run.kind, enrolled=run.enrolled,
            detail=run.detail, steps_failed=run.steps_failed, in_progress=run.in_progress)
        out.append(WorkflowSummary(
            id=wf.id, name=wf.name, status=wf.status, object_type=types.get(wf.object_type_id, "?"),
            schedule=dict(wf.schedule or {}), next_run_at=wf.next_run_at, last_run=last))
    return out


def any_records() -> bool:
    """Whether any object type has a record (the first-run demo offer asks on empty)."""
    return any(record_model(t).select().limit(1).exists() for t in list_types())


def workflow_timezone(name: str, default: str) -> str:
    """The zone a workflow's schedule is in (``default`` when it names none or the
    workflow is gone)."""
    wf = Workflow.get_or_none(Workflow.name == name)
    return ((wf.schedule or {}).get("timezone") if wf else None) or default


# ------------------------------------------------------------------------ dashboard

@dataclass(frozen=True)
class RunRow:
    id: int
    workflow: str
    kind: str
    status: str
    when: datetime | None
    matched: int
    enrolled: int
    suppressed: int
    steps_succeeded: int = 0
    steps_failed: int = 0
    in_progress: int = 0
    completed: int = 0

    @property
    def status_text(self) -> str:
        return status_text(self.status, self.steps_failed)


def status_text(status: str, steps_failed: int) -> str:
    """A run's status in words: a run with failed steps never reads as plain
    "succeeded" ("succeeded, 3 steps failed")."""
    if not steps_failed:
        return status
    return f"{status}, {steps_failed:,} step{'s' if steps_failed != 1 else ''} failed"


@dataclass(frozen=True)
class EnrollRow:
    id: int
    workflow: str
    record_id: int
    at: datetime
    manual: bool


@dataclass(frozen=True)
class DashboardData:
    days: list[tuple[date, int]]
    enrolled: int
    suppressed: int
    runs_count: int
    runs: list[RunRow]
    enrollments: list[EnrollRow]


def dashboard(workflow_id: int | None, today: date, *, days: int, run_cap: int, enroll_cap: int) -> DashboardData:
    """Enrollments per UTC day for ``days`` days from the rollup, the newest ``run_cap``
    runs, and the latest ``enroll_cap`` enrollments taken run by run from those runs."""
    first = today - timedelta(days=days - 1)
    D = EnrollmentDaily
    q = (D.select(D.day, pw.fn.SUM(D.enrolled), pw.fn.SUM(D.suppressed), pw.fn.SUM(D.runs))
         .where(D.day >= first).group_by(D.day))
    if workflow_id is not None:
        q = q.where(D.workflow == workflow_id)
    per_day: dict[date, int] = {}
    enrolled = suppressed = runs_count = 0
    for day, e, s, r in q.tuples():
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        per_day[day] = int(e or 0)
        enrolled, suppressed, runs_count = enrolled + int(e or 0), suppressed + int(s or 0), runs_count + int(r or 0)
    series = [(first + timedelta(days=i), per_day.get(first + timedelta(days=i), 0)) for i in range(days)]

    names = {wid: name for wid, name in Workflow.select(Workflow.id, Workflow.name).tuples()}
    rq = Run.select()
    if workflow_id is not None:
        rq = rq.where(Run.workflow == workflow_id)
    runs = [RunRow(id=r.id, workflow=names.get(r.workflow_id, "?"), kind=r.kind, status=r.status,
                   when=r.started_at or r.scheduled_for, matched=r.matched, enrolled=r.enrolled,
                   suppressed=r.suppressed, steps_succeeded=r.steps_succeeded, steps_failed=r.steps_failed,
                   in_progress=r.in_progress, completed=r.completed)
            for r in rq.order_by(Run.id.desc()).limit(run_cap)]

    E = Enrollment
    enrollments: list[EnrollRow] = []
    for run in runs:
        if len(enrollments) >= enroll_cap:
            break
        if run.enrolled <= 0:
            continue
        for eid, rid, at, manual in (E.select(E.id, E.record_id, E.enrolled_at, E.manual)
                                     .where(E.run == run.id).order_by(E.record_id.desc())
                                     .limit(enroll_cap - len(enrollments)).tuples()):
            enrollments.append(EnrollRow(eid, run.workflow, rid, _instant(at), bool(manual)))
    return DashboardData(series, enrolled, suppressed, runs_count, runs, enrollments)


def _instant(value) -> datetime:
    """enrolled_at is never NULL: an int of microseconds, or a datetime already."""
    at = from_micros(value) if isinstance(value, int) else value
    assert at is not None
    return at
