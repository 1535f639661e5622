"""The Types screen driven by keys at 80×24: reached from home by name in the palette,
a new type and a property made from the app become a real typed column; a removal a
workflow depends on is refused in words."""
from __future__ import annotations

from textual.widgets import Checkbox, DataTable, Input, Select

from models.db import db
from models.objects import create_record, get_props, get_record, list_types
from tests.tui.conftest import settle
from tests.tui.test_dashboard import row_keys


async def test_new_type_and_property_from_the_types_screen(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p", *"Object types")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "TypesScreen"
        assert row_keys(app, "#types-table")[:4] == ["contact", "company", "deal", "ticket"]
        await pilot.press("n")
        await settle(pilot, app)
        app.screen.query_one("#type-name", Input).value = "invoice"
        app.screen.query_one("#type-label", Input).value = "Invoice"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert "invoice" in [t.name for t in list_types()]
        assert row_keys(app, "#types-table")[-1] == "invoice"
        await pilot.press("a")
        await settle(pilot, app)
        screen = app.screen
        screen.query_one("#prop-name", Input).value = "state"
        screen.query_one("#prop-label", Input).value = "State"
        screen.query_one("#prop-type", Select).value = "enumeration"
        screen.query_one("#prop-options", Input).value = "open, paid:Fully paid"
        screen.query_one("#prop-required", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        state = get_props("invoice")["state"]
        assert state.type == "enumeration" and state.required
        assert state.options == (("open", "Open"), ("paid", "Fully paid"))
        assert row_keys(app, "#props-table") == ["state"]
        rid = create_record("invoice", {"state": "Fully paid"})
        assert get_record("invoice", rid)["state"] == "paid"
        columns = [c.name for c in db.get_columns("rec_invoice")]
        assert "state" in columns
        await pilot.press("escape")  # back home: the screen leaves cleanly
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowsScreen"


async def test_removing_a_used_property_is_refused_naming_the_workflow(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("T")
        await settle(pilot, app)
        # contact's lifecycle_stage is built in; add a custom one a workflow then uses
        from engine.types import import_type
        from engine.workflows import save_workflow

        import_type({"name": "contact", "properties": [{"name": "score", "label": "Score", "type": "number"}]})
        save_workflow({"name": "Scored", "object_type": "contact", "schedule": {"kind": "daily", "time": "08:00"},
                       "criteria": [[{"property": "score", "operator": "gt", "value": 5}]]}, actor="test")
        app.screen.load()
        await settle(pilot, app)
        table = app.screen.query_one("#props-table", DataTable)
        table.focus()
        table.move_cursor(row=row_keys(app, "#props-table").index("score"))
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        assert "score" in get_props("contact")
        messages = [n.message for n in app._notifications]
        assert any('workflow "Scored" uses it' in m for m in messages), messages
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowsScreen"
