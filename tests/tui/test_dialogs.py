"""Where input goes (issue 14 §2, §4): dialog titles name their target, Escape with
changes asks first, fields put the cursor at the end, section keys leave fields alone,
Enter on a Select opens it."""
from __future__ import annotations

from textual.widgets import Input, Select, TabbedContent

from tests.tui.conftest import settle as app_settle
from tests.tui.test_editor import choose, editor_host, settle, to_section, type_text
from tests.tui.test_snapshots_editor import BODY


def title(app) -> str:
    return str(app.screen.query_one(".form-box").border_title)


async def test_dialog_titles_name_their_target(sqlite_db):
    async with editor_host(BODY, BODY["name"]).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await to_section(pilot, "tab-criteria")
        await pilot.press("a")
        await settle(pilot)
        assert title(pilot.app) == "Add filter to the enrollment criteria, group 1"
        await pilot.press("escape")
        await settle(pilot)
        await to_section(pilot, "tab-settings")
        pilot.app.screen.query_one("#st-suppression").focus()
        await pilot.press("a")
        await settle(pilot)
        assert title(pilot.app) == "Add filter to suppression"
        await pilot.press("escape")
        await settle(pilot)
        await to_section(pilot, "tab-actions")
        await pilot.press("down", "down", "down")  # step 2 (the branch) → its Then arm
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert title(pilot.app) == "Add step to branch 2 · then"


async def test_escape_in_a_filter_dialog_asks_when_something_was_typed(sqlite_db):
    async with editor_host(BODY, BODY["name"]).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await to_section(pilot, "tab-criteria")
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("escape")  # nothing changed: closes at once
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "WorkflowEditorScreen"
        await pilot.press("a")
        await settle(pilot)
        await choose(pilot, "City")
        await pilot.press("tab", "tab")
        await type_text(pilot, "Malmö")
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")  # keep editing: the dialog and the text are still there
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "FilterDialog"
        assert "Malmö" in [w.value for w in pilot.app.screen.query(Input)]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "WorkflowEditorScreen"


async def test_fields_keep_their_text_and_section_keys_leave_them_alone(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await app_settle(pilot, app)
        await pilot.press("enter")  # the first workflow, in the editor
        await app_settle(pilot, app)
        name = app.screen.query_one("#we-name", Input)
        before = name.value
        name.focus()
        await pilot.pause()
        await type_text(pilot, " 2")  # appended at the end, not replacing the name
        assert name.value == before + " 2"
        tabs = app.screen.query_one("#we-tabs", TabbedContent)
        assert tabs.active == "tab-schedule" and app.screen.check_action("section", (1,)) is False
        app.screen.query_one("#we-tabs Tabs").focus()  # the tab strip: not a field
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        assert tabs.active == "tab-criteria"


async def test_enter_on_a_select_opens_it(sqlite_db):
    async with editor_host(BODY, BODY["name"]).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        select = pilot.app.screen.query_one("#sf-freq", Select)
        select.focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert select.expanded
