"""The live enrollment dashboard driven by keys at 80×24: its numbers against the
database (rollup, runs, newest enrollments), the per-workflow view, and live updates
from engine events."""
from __future__ import annotations

from datetime import timedelta

import peewee as pw
from textual.widgets import DataTable, Static

from engine.events import EngineStatus, RunFinished
from models.schema import Enrollment, EnrollmentDaily, HistoryEvent, Notification, Run, Task, Workflow
from tests.tui.conftest import FIXED_NOW, settle
from tui.messages import engine_message
from tui.widgets.chart import BarChart

LEAD_WATCH = {
    "name": "Lead watch", "object_type": "contact", "status": "active",
    "schedule": {"kind": "daily", "time": "06:00", "timezone": "UTC"},
    "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead", "subscriber"]}]],
    "suppression": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead"]}]],
}


def build_activity() -> None:
    """Small, deterministic activity on top of ``seeded_db`` (4 contacts, 3 workflows):
    scheduled runs a week and a day ago, a suppression, a manual enrollment, step
    results, a missed occurrence, a notification and a task — all at fixed instants."""
    from engine.runner import enroll_manual, execute_run
    from engine.workflows import get_workflow, save_workflow
    from models.settings import load_settings

    settings = load_settings()
    save_workflow(LEAD_WATCH, now=FIXED_NOW - timedelta(days=8), actor="test")
    # Runs back to back without the executor between them: the fixture keeps both Friday
    # runs' enrollments, as before the overlap setting existed (issue 11.3).
    Workflow.update(settings={**(get_workflow("Friday check-in").settings or {}), "overlap": "allow"}).where(
        Workflow.name == "Friday check-in").execute()
    friday, watch = get_workflow("Friday check-in"), get_workflow("Lead watch")
    week_ago = FIXED_NOW - timedelta(days=7, hours=-4, minutes=30)  # Fri 20 Nov 14:00
    for wf, at in ((friday, week_ago), (watch, FIXED_NOW - timedelta(days=1, hours=3, minutes=30)),
                   (friday, FIXED_NOW - timedelta(hours=2))):
        execute_run(wf, at, now=at, settings=settings)
    enroll_manual("Friday check-in", 3, now=FIXED_NOW - timedelta(hours=1))
    run = Run.select().where(Run.workflow == friday).order_by(Run.id).first()
    for step, kind in ((1, "step_succeeded"), (1, "step_failed")):
        HistoryEvent.create(workflow=friday, at=week_ago + timedelta(minutes=step), type=kind, record_id=1,
                            run=run, step=step, detail='{"description": "Create task"}')
    HistoryEvent.create(workflow=friday, at=FIXED_NOW - timedelta(days=3), type="missed",
                        scheduled_for=FIXED_NOW - timedelta(days=3))
    Notification.create(operator="tester", message="Call Ann today", workflow=friday, record_id=1,
                        created_at=FIXED_NOW - timedelta(minutes=20))
    Notification.create(operator="someone else", message="Not yours", created_at=FIXED_NOW)
    Task.create(workflow=friday, object_type=friday.object_type, record_id=1, title="Call Ann",
                due_date=FIXED_NOW.date() + timedelta(days=2), owner="tester", created_at=FIXED_NOW)


def rows(app, selector: str) -> list[tuple]:
    table = app.screen.query_one(selector, DataTable)
    return [tuple(table.get_row(k)) for k in table.rows]


def row_keys(app, selector: str) -> list[str]:
    return [k.value for k in app.screen.query_one(selector, DataTable).rows]


def rollup_totals(workflow_id=None) -> tuple[int, int, int]:
    D = EnrollmentDaily
    q = D.select(pw.fn.SUM(D.enrolled), pw.fn.SUM(D.suppressed), pw.fn.SUM(D.runs))
    if workflow_id is not None:
        q = q.where(D.workflow == workflow_id)
    return tuple(int(v or 0) for v in q.tuples().first())


async def test_dashboard_shows_the_rollup_runs_and_newest_enrollments_then_updates_live(seeded_db, make_app):
    build_activity()
    app = make_app(seeded_db)
    async with app.run_test(size=(120, 30)) as pilot:  # wide enough for every run column
        await settle(pilot, app)
        await pilot.press("g")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "DashboardScreen"
        enrolled, suppressed, runs = rollup_totals()
        assert (enrolled, suppressed, runs) == (6, 1, 4)  # Friday 2 + 2 + manual 1; Lead watch 1 (and 1 suppressed)
        totals = str(app.screen.query_one("#dash-totals", Static).render())
        assert f"{enrolled} enrolled" in totals and f"{suppressed} suppressed" in totals and f"{runs} runs" in totals
        chart = app.screen.query_one(BarChart)
        assert len(chart.data) == 30 and sum(v for _, v in chart.data) == enrolled
        assert chart.data[-1][0] == FIXED_NOW.date()

        newest = list(Run.select().order_by(Run.id.desc()))
        assert row_keys(app, "#dash-runs") == [str(r.id) for r in newest]
        assert [(r[3], r[4], r[5], r[6]) for r in rows(app, "#dash-runs")] == [
            (r.status, str(r.matched), str(r.enrolled), str(r.suppressed)) for r in newest]
        manual = newest[0]
        assert rows(app, "#dash-runs")[0][2] == "manual"
        # Latest enrollments: the newest run's first, newest record first.
        first_keys = row_keys(app, "#dash-latest")
        expected = [str(e.id) for e in Enrollment.select().where(Enrollment.run == manual.id)]
        assert first_keys[:len(expected)] == expected and rows(app, "#dash-latest")[0][3] == "manual"

        # Live: the engine finishes a run and reports it; then a status arrives.
        from engine.runner import execute_run
        from engine.workflows import get_workflow

        now = FIXED_NOW
        run = execute_run(get_workflow("Lead watch"), now, now=now)
        app.post_message(engine_message(RunFinished(
            at=now, workflow_id=run.workflow_id, workflow_name="Lead watch", run_id=run.id, scheduled_for=now,
            status="succeeded", matched=run.matched, enrolled=run.enrolled, suppressed=run.suppressed,
            duration_ms=3.0, lag_ms=0.0)))
        await settle(pilot, app)
        assert row_keys(app, "#dash-runs")[0] == str(run.id)
        assert rows(app, "#dash-runs")[0][1:7] == ("Lead watch", "sched", "succeeded", "2", "1", "1")
        assert f"{rollup_totals()[0]} enrolled" in str(app.screen.query_one("#dash-totals", Static).render())
        today = EnrollmentDaily.select().where(EnrollmentDaily.day == FIXED_NOW.date())
        assert chart.data[-1][1] == sum(d.enrolled for d in today) == 4  # Friday 2 + manual 1 + Lead watch 1

        app.post_message(engine_message(EngineStatus(
            at=now, engine_id="e1", running=True, active=False, next_wake_at=now + timedelta(hours=1),
            lag_ms=1500.0)))
        await settle(pilot, app)
        line = str(app.screen.query_one("#dash-engine", Static).render())
        assert "standby" in line and "next wake 27 Nov 10:30" in line and "lag 1.5 s" in line

        await pilot.press("escape")
        assert type(app.screen).__name__ == "WorkflowsScreen"


async def test_workflow_dashboard_shows_only_that_workflow(seeded_db, make_app):
    build_activity()
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        wf = Workflow.get(Workflow.name == "Lead watch")
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(wf.id)))
        await pilot.press("D")
        await settle(pilot, app)
        assert "Lead watch" in str(app.screen.query_one("#dash-title", Static).render())
        assert row_keys(app, "#dash-runs") == [str(r.id) for r in Run.select().where(Run.workflow == wf)
                                               .order_by(Run.id.desc())]
        enrolled, suppressed, runs = rollup_totals(wf.id)
        assert (enrolled, suppressed, runs) == (1, 1, 1)
        assert "1 enrolled · 1 suppressed · 1 run" in str(app.screen.query_one("#dash-totals", Static).render())
        # A run of another workflow does not appear here.
        other = Run.select().where(Run.workflow != wf).first()
        app.post_message(engine_message(RunFinished(
            at=FIXED_NOW, workflow_id=other.workflow_id, workflow_name="x", run_id=other.id, scheduled_for=None,
            status="succeeded", matched=1, enrolled=1, suppressed=0, duration_ms=1.0, lag_ms=0.0)))
        await settle(pilot, app)
        assert str(other.id) not in row_keys(app, "#dash-runs")


def test_bars_scale_to_the_peak_and_never_hide_a_small_day():
    from tui.widgets.chart import bar_rows, compact

    assert bar_rows([0, 1, 8, 4], 1) == [" ▁█▄"]  # 1 of 8 still shows the lowest block
    top, bottom = bar_rows([0, 16, 8], 2)
    assert (top, bottom) == (" █ ", " ██")
    assert bar_rows([0, 0], 2) == ["  ", "  "]
    assert [compact(n) for n in (950, 12_345, 250_000, 4_500_000)] == ["950", "12.3k", "250k", "4.5M"]
