"""Activation, live edits and manual enrollment ask first (issue 11 §5, §6), driven by
keys in the real app at 80×24: the dialog shows what will happen; Escape cancels with
nothing written; a second key press while the counts load confirms nothing."""
from __future__ import annotations

import threading

from textual.widgets import DataTable, Input, Static

import engine.preview_change as preview
from engine.workflows import save_workflow
from models.schema import AuditEntry, Run, Workflow
from tests.tui.conftest import FIXED_NOW, settle
from tests.tui.test_workflows_screen import select


def body_text(app) -> str:
    return str(app.screen.query_one("#pd-body", Static).render())


def status(name: str) -> str:
    return Workflow.get(Workflow.name == name).status


async def test_home_a_shows_the_activation_then_escape_writes_nothing(seeded_db, make_app):
    app = make_app(seeded_db)
    audits = AuditEntry.select().count()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "Quiet subscribers")  # a draft; one subscriber
        await pilot.press("a")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ActivateDialog"
        text = body_text(app)
        assert "Meeting the criteria now: 1 record" in text
        assert "Next run: Sat 28 Nov 2026 07:30 UTC" in text
        assert "Actions: none" in text
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowsScreen"
        assert status("Quiet subscribers") == "draft" and AuditEntry.select().count() == audits

        await select(pilot, app, "Friday check-in")  # active: "a" pauses, no question
        await pilot.press("a")
        await settle(pilot, app)
        assert status("Friday check-in") == "paused"
        await pilot.press("a")  # resuming asks, and says so
        await settle(pilot, app)
        assert str(app.screen.query_one("#pd-title", Static).render()) == "Resume workflow"
        assert "1. Create task \"Call {firstname}\"" in body_text(app)
        await pilot.press("y")
        await settle(pilot, app)
        assert status("Friday check-in") == "active"


async def test_keys_pressed_while_the_counts_load_confirm_nothing(seeded_db, make_app, monkeypatch):
    gate = threading.Event()
    real = preview.preview_activation

    def slow_preview(*args, **kwargs):  # the real preview, held until the test lets it go
        assert gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(preview, "preview_activation", slow_preview)
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "Quiet subscribers")
        await pilot.press("a", "a", "enter", "y")  # a double tap, then confirm keys, all while counting
        await pilot.pause(0.1)
        dialogs = [s for s in app.screen_stack if type(s).__name__ == "ActivateDialog"]
        assert len(dialogs) == 1 and app.screen is dialogs[0]
        assert "Counting" in body_text(app)
        assert app.screen.check_action("confirm", ()) is None
        assert status("Quiet subscribers") == "draft"
        gate.set()
        await settle(pilot, app)
        assert "1 record" in body_text(app) and app.screen.check_action("confirm", ()) is True
        assert status("Quiet subscribers") == "draft"  # the early keys were not kept for later
        await pilot.press("enter")
        await settle(pilot, app)
        assert status("Quiet subscribers") == "active"


async def test_editor_ctrl_t_asks_and_a_live_edit_shows_what_changes(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "Quiet subscribers")
        await pilot.press("enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        await pilot.press("ctrl+t")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ActivateDialog" and "1 record" in body_text(app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowEditorScreen" and status("Quiet subscribers") == "draft"
        await pilot.press("ctrl+t")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        assert status("Quiet subscribers") == "active"
        editor = app.screen
        assert "active" in str(editor.query_one("#we-status", Static).render())

        # now a live workflow: an edit shows its change, next run and count before saving
        editor.query_one("#sf-time", Input).value = "09:15"
        await settle(pilot, app)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ChangeDialog"
        text = body_text(app)
        assert "Schedule: Every day at 07:30 (UTC) → Every day at 09:15 (UTC)" in text
        assert "before  Sat 28 Nov 2026 07:30 UTC" in text and "after   Sat 28 Nov 2026 09:15 UTC" in text
        assert "Meeting the criteria now: 1 record (unchanged)" in text
        await pilot.press("escape")  # nothing written, the edit is kept
        await settle(pilot, app)
        wf = Workflow.get(Workflow.name == "Quiet subscribers")
        assert wf.schedule["time"] == "07:30" and app.screen is editor and editor.dirty
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        wf = Workflow.get(Workflow.name == "Quiet subscribers")
        assert wf.schedule["time"] == "09:15" and wf.next_run_at.isoformat().startswith("2026-11-28T09:15")
        assert not editor.dirty


async def test_manual_enroll_of_a_record_that_would_leave_asks(seeded_db, make_app):
    save_workflow({"name": "Leads out", "object_type": "contact", "status": "active",
                   "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"}, "criteria": [],
                   "unenrollment": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead"]}]],
                   "actions": [{"type": "create_task", "title": "Hi {firstname}", "due_in_days": 1}]},
                  now=FIXED_NOW, actor="test")
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("R")
        await settle(pilot, app)
        table = app.screen.query_one("#rec-table", DataTable)
        table.move_cursor(row=table.get_row_index("4"))  # the lead
        await pilot.pause()
        for answer in ("escape", "y"):
            await pilot.press("m")
            await settle(pilot, app)
            picker = app.screen.query_one("#pick")
            picker.highlighted = next(i for i, o in enumerate(picker._options) if o.id == "Leads out")
            await pilot.press("enter")
            await settle(pilot, app)
            assert type(app.screen).__name__ == "EnrollCheckDialog"
            assert "meets the unenrollment criteria" in body_text(app)
            assert "Lifecycle Stage is any of Lead" in body_text(app)
            await pilot.press(answer)
            await settle(pilot, app)
            assert type(app.screen).__name__ == "RecordsScreen"
            manual = Run.select().where(Run.kind == "manual").count()
            assert manual == (0 if answer == "escape" else 1), answer
        # a record with nothing to say enrolls at once, without a question
        table.move_cursor(row=table.get_row_index("3"))
        await pilot.pause()
        await pilot.press("m")
        await settle(pilot, app)
        picker = app.screen.query_one("#pick")
        picker.highlighted = next(i for i, o in enumerate(picker._options) if o.id == "Leads out")
        await pilot.press("enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"
        assert Run.select().where(Run.kind == "manual").count() == 2
