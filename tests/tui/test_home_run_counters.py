"""Issue 10 §3 on the home screen: the last run's outcome with its failed steps and the
enrollments still in progress, at 80×24, from a real run in a real SQLite file where a
step really failed (not a hand-made run row)."""
from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, Static

from engine.workflows import save_workflow
from models.objects import create_record
from models.schema import Run, StaticList, Workflow
from tests.engine.test_actions import engine_at
from tests.tui.conftest import FIXED_NOW, settle


def _failing_run(db_url: str) -> Run:
    """Three contacts through "add to a list of companies" (fails: wrong type), then,
    as on_step_failure is continue, a 5-minute delay: 3 failed steps, 3 in progress."""
    start = FIXED_NOW - timedelta(hours=2, minutes=1)
    for name in ("Ann", "Bob", "Cy"):
        create_record("contact", {"firstname": name}, now=start)
    StaticList.create(name="Companies", object_type=2, created_at=start)
    save_workflow({
        "name": "Nightly list sync to the partner CRM", "object_type": "contact", "status": "active",
        "schedule": {"kind": "daily", "time": "07:30", "timezone": "UTC"},
        "actions": [{"type": "add_to_list", "list": "Companies"}, {"type": "delay", "minutes": 5}],
        "settings": {"on_step_failure": "continue"},
    }, actor="tester", now=start)
    engine, clock = engine_at(db_url, start=start)
    clock.set(start + timedelta(minutes=1))
    engine.run_pending()
    run = Run.get()
    assert (run.status, run.steps_failed, run.in_progress) == ("succeeded", 3, 3)
    return run


async def test_home_shows_failed_steps_and_in_progress_at_80x24(empty_db, make_app):
    _failing_run(empty_db)
    wf = Workflow.get()
    app = make_app(empty_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        assert [c.key.value for c in table.columns.values()] == ["name", "status", "next", "last", "in_progress"]
        name, status, _next, last, in_progress = table.get_row(str(wf.id))
        # the run "succeeded", but 3 steps failed: the row never reads as plain success
        assert name == "Nightly list sync to the…"  # shortened after a whole word, marked
        assert status == "active" and last == "⚠ 3 failed 2h" and in_progress == "3"
        assert "succeeded" not in last
        detail = str(app.screen.query_one("#detail", Static).render())
        assert "Nightly list sync to the partner CRM" in detail  # the whole name
        assert "succeeded, 3 steps failed" in detail and "3 in progress" in detail
        # every cell fits its column whole: nothing is cut by the table itself
        widths = [c.width for c in table.columns.values()]
        assert all(len(cell) <= width for cell, width in zip(table.get_row(str(wf.id)), widths))


async def test_home_at_60_columns_keeps_the_failure_marker_on_the_name(empty_db, make_app):
    _failing_run(empty_db)
    wf = Workflow.get()
    app = make_app(empty_db)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        assert [c.key.value for c in table.columns.values()] == ["name", "status", "next"]
        assert table.get_row(str(wf.id))[0] == "⚠ Nightly list sync to the…"
        detail = str(app.screen.query_one("#detail", Static).render())
        assert "Nightly list sync to the partner CRM" in detail and "3 steps failed" in detail
