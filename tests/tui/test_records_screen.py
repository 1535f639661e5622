"""The records screen driven by keys at 80×24: a page against the database, keyset
paging, add and edit through the form (a refused value shown in the form), manual
enrollment (a run is created; a suppressed record says so)."""
from __future__ import annotations

from textual.widgets import DataTable, Input, Select, Static

from models.objects import get_record, record_model
from models.schema import Run
from tests.tui.conftest import settle
from tests.tui.test_dashboard import build_activity, row_keys


async def test_records_page_add_edit_and_refused_value(seeded_db, make_app, monkeypatch):
    monkeypatch.setattr("tui.screens.record_page.PAGE", 3)
    app = make_app(seeded_db)
    model = record_model("contact")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("R")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"
        ids = [str(r.id) for r in model.select(model.id).order_by(model.id)]
        assert row_keys(app, "#rec-table") == ids[:3]
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert row_keys(app, "#rec-table") == ids[3:6]
        await pilot.press("left_square_bracket")
        await settle(pilot, app)
        assert row_keys(app, "#rec-table") == ids[:3]

        await pilot.press("a")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordFormScreen"
        await pilot.press(*"Zoe", "tab", *"Ng")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"
        new = model.select().order_by(model.id.desc()).first()
        assert (new.firstname, new.lastname) == ("Zoe", "Ng") and str(new.id) not in ids

        # Edit the first record; a mistyped date-time is refused in the form.
        await pilot.press("e")
        await settle(pilot, app)
        form = app.screen
        first = int(ids[0])
        box = form.query_one("#f-last_activity_date", Input)
        box.value = "next tuesday-ish"
        form.query_one("#f-city", Input).value = "Lund"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert app.screen is form and box.has_class("-invalid")
        assert "last_activity_date" in str(form.query_one("#form-error", Static).render())
        assert get_record("contact", first)["city"] is None
        box.value = "2026-11-01 10:00"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"
        saved = get_record("contact", first)
        assert saved["city"] == "Lund" and saved["last_activity_date"].isoformat().startswith("2026-11-01T10:00")


async def test_manual_enrollment_creates_a_run_and_reports_suppression(seeded_db, make_app):
    build_activity()
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p", *"Records")  # the palette lists the home keys by name
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"
        runs_before = Run.select().count()
        await pilot.press("m")  # record 1 (a customer): pick the first active workflow
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowPickScreen"
        await pilot.press("enter")
        await settle(pilot, app)
        # Record 1 is still in progress from the scheduled runs: the app says so and asks.
        assert type(app.screen).__name__ == "EnrollCheckDialog"
        assert "in progress" in str(app.screen.query_one("#pd-body").render())
        await pilot.press("y")
        await settle(pilot, app)
        run = Run.select().order_by(Run.id.desc()).first()
        assert Run.select().count() == runs_before + 1 and run.kind == "manual" and run.enrolled == 1
        assert run.workflow.name == "Friday check-in"
        assert any("Enrolled contact 1" in n.message for n in app._notifications)

        # Record 4 is a lead: "Lead watch" suppresses leads.
        table = app.screen.query_one("#rec-table", DataTable)
        table.move_cursor(row=table.get_row_index("4"))
        await pilot.press("m")
        await settle(pilot, app)
        await pilot.press("down", "enter")  # Friday check-in, then Lead watch
        await settle(pilot, app)
        run = Run.select().order_by(Run.id.desc()).first()
        assert run.workflow.name == "Lead watch" and run.suppressed == 1 and run.enrolled == 0
        assert any("suppressed" in n.message and "contact 4" in n.message and n.severity == "warning"
                   for n in app._notifications)

        # Search: a text property by "contains" (any case), an enumeration by its label.
        app.screen.query_one("#rec-prop", Select).value = "firstname"
        await pilot.press("slash", *"aN", "enter")
        await settle(pilot, app)
        assert row_keys(app, "#rec-table") == ["1", "2", "3", "4"]
        app.screen.query_one("#rec-prop", Select).value = "lifecycle_stage"
        await pilot.press("slash", "ctrl+u", *"Lead", "enter")
        await settle(pilot, app)
        assert row_keys(app, "#rec-table") == ["4"]
        # Another object type: its own columns and records (none here).
        app.screen.query_one("#rec-type", Select).value = "deal"
        await settle(pilot, app)
        table = app.screen.query_one("#rec-table", DataTable)
        assert [c.label.plain for c in table.columns.values()][1] == "Deal Name" and table.row_count == 0
        assert "No records" in str(app.screen.query_one("#rec-status", Static).render())


async def test_escape_in_the_record_form_asks_before_discarding_what_was_typed(seeded_db, make_app):
    app = make_app(seeded_db)
    model = record_model("contact")
    before = model.select().count()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("R")
        await settle(pilot, app)
        await pilot.press("a")
        await settle(pilot, app)
        form = app.screen
        assert type(form).__name__ == "RecordFormScreen"
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"

        await pilot.press("a")
        await settle(pilot, app)
        form = app.screen
        await pilot.press(*"Zoe")
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("escape")  # "Keep editing": the form and its text are still there
        await settle(pilot, app)
        assert app.screen is form and form.query_one("#f-firstname", Input).value == "Zoe"
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("y")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"
    assert model.select().count() == before  # discarded: nothing written
