"""The app shell: start-up, the engine thread and its status line, the demo offer,
errors as toasts (never a traceback), the command-line entry point."""
from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import DataTable, Static

from engine.events import EngineStatus, RunFinished
from models.schema import Run, Workflow
from tests.tui.conftest import FIXED_NOW, settle
from tui.messages import EngineStatusMessage, RunFinishedMessage, WorkflowsChanged, engine_message


async def test_opens_on_the_workflows_table_keyed_by_id(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        ids = {str(w.id) for w in Workflow.select()}
        assert {k.value for k in table.rows} == ids
        friday = Workflow.get(Workflow.name == "Friday check-in")
        # at 80 columns: the last run's outcome and what is in progress before the
        # schedule (the detail line says it in words); Type and Enrolled give way too
        assert table.get_row(str(friday.id)) == ["Friday check-in", "active", "27 Nov 14:00", "—", "—"]
        assert "Engine off (viewer)" in str(app.screen.query_one("#engine-status", Static).render())


async def test_engine_thread_starts_reports_status_and_stops(seeded_db, make_app):
    app = make_app(seeded_db, run_engine=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):  # the engine's first pass posts an EngineStatus
            await pilot.pause(0.05)
            if app.engine_status is not None:
                break
        await pilot.pause()
        engine = app.engine
        assert engine is not None and engine._thread.is_alive()
        line = str(app.screen.query_one("#engine-status", Static).render())
        assert line.startswith("Engine running") or line.startswith("Engine standby"), line
        assert "next wake" in line
    assert app.engine is None and not engine._thread.is_alive()


async def test_engine_status_messages_replace_each_other_but_runs_do_not():
    status = EngineStatus(at=FIXED_NOW, engine_id="e", running=True, active=True, next_wake_at=None, lag_ms=None)
    run = RunFinished(at=FIXED_NOW, workflow_id=1, workflow_name="w", run_id=1, scheduled_for=FIXED_NOW,
                      status="succeeded", matched=1, enrolled=1, suppressed=0, duration_ms=1, lag_ms=1)
    assert EngineStatusMessage(status).can_replace(EngineStatusMessage(status))
    assert not RunFinishedMessage(run).can_replace(RunFinishedMessage(run))
    assert not engine_message(status).can_replace(engine_message(run))
    assert WorkflowsChanged(1).can_replace(WorkflowsChanged(2))


async def test_run_finished_event_updates_the_row_in_place(seeded_db, make_app, clock):
    app = make_app(seeded_db)
    async with app.run_test(size=(120, 30)) as pilot:  # wide enough for the Last run column
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        wf = Workflow.get(Workflow.name == "Friday check-in")
        row_index = table.get_row_index(str(wf.id))
        table.move_cursor(row=row_index)
        run_at = FIXED_NOW - timedelta(hours=3)
        Run.create(workflow=wf, scheduled_for=run_at, status="succeeded", started_at=run_at, finished_at=run_at,
                   matched=1234, enrolled=1200, suppressed=34)
        app.post_message(engine_message(RunFinished(
            at=FIXED_NOW, workflow_id=wf.id, workflow_name=wf.name, run_id=1, scheduled_for=run_at,
            status="succeeded", matched=1234, enrolled=1200, suppressed=34, duration_ms=5, lag_ms=1)))
        await settle(pilot, app)
        assert table.get_row(str(wf.id))[5:] == ["✓ 3h ago", "0", "1,200"]
        assert table.cursor_row == row_index  # updated in place: the cursor did not move
        assert "1,200 enrolled" in str(app.screen.query_one("#detail", Static).render())


async def test_empty_database_offers_demo_and_declining_leaves_it_empty(empty_db, make_app):
    from tui.screens.demo_offer import DemoOfferScreen

    app = make_app(empty_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, DemoOfferScreen)
        await pilot.press("n")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowsScreen"
        assert Workflow.select().count() == 0
        assert "No workflows yet" in str(app.screen.query_one("#detail", Static).render())


async def test_accepting_the_demo_offer_loads_workflows(empty_db, make_app, monkeypatch):
    monkeypatch.setattr("tui.screens.workflow_actions.DEMO_SIZE", {"contacts": 50, "companies": 5, "deals": 5, "tickets": 5})
    app = make_app(empty_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        await settle(pilot, app)
        assert Workflow.select().count() > 0
        assert app.screen.query_one(DataTable).row_count == Workflow.select().count()


async def test_a_failing_action_is_a_toast_and_the_app_carries_on(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.screen.clone("Friday check-in", "Monthly deal sweep")  # name taken → RotaError in the worker
        await settle(pilot, app)
        messages = [n.message for n in app._notifications]
        assert any("exists already" in m for m in messages), messages
        assert app.is_running and app.return_code is None


async def test_an_unexpected_exception_exits_with_one_line_not_a_traceback(seeded_db, make_app):
    app = make_app(seeded_db)

    def boom() -> None:
        raise ValueError("kaboom")

    with pytest.raises(ValueError):
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            app.screen.action_boom = boom
            app.screen.call_later(boom)
            await pilot.pause(0.2)
    assert app.internal_error == "ValueError: kaboom"
    assert app.return_code == 1
    assert not app._exit_renderables  # nothing (no traceback) is printed on exit


def test_bad_database_is_one_line_and_exit_2_before_the_screen(capsys, tmp_path):
    from tui.cli import main

    code = main(["--db", "mysql://somewhere/rota"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("rota: ") and err.count("\n") == 1 and "Traceback" not in err


def test_settings_database_is_used_when_no_flag_or_env(tmp_path):
    import argparse

    from models.settings import Settings
    from tui.commandline.app_cmd import target_db

    settings = Settings(db=str(tmp_path / "from-settings.db"))
    assert target_db(argparse.Namespace(db=None), settings) == str(tmp_path / "from-settings.db")
    assert target_db(argparse.Namespace(db="x.db"), settings) == "x.db"
