"""Fields put the cursor after their text when they get the focus, in every screen and
dialog (issue 14 §2): the first key adds to the value instead of replacing it. Where
replacing is the point (a proposed name, class ``-replace``) the text stays selected,
which shows it. One hook in the app covers every screen, modal dialogs included."""
from __future__ import annotations

from textual.widgets import Input

from tests.tui.conftest import settle


def at_end(field: Input) -> bool:
    return field.cursor_position == len(field.value) and field.selection.is_empty


async def focus_next_input(pilot, limit: int = 12) -> Input:
    """Tab until an Input with text has the focus (as the operator moves through a form)."""
    for _ in range(limit):
        await pilot.press("tab")
        await pilot.pause()
        if isinstance(pilot.app.focused, Input) and pilot.app.focused.value:
            return pilot.app.focused
    raise AssertionError(f"no Input with text reached; focus is on {pilot.app.focused}")


async def test_editor_name_step_dialog_and_clone_dialog(seeded_db, make_app):
    from tests.tui.test_editor import to_section

    app = make_app(seeded_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        # The clone dialog proposes a name to replace: selected, and shown so.
        await pilot.press("c")
        await settle(pilot, app)
        answer = app.screen.query_one("#answer", Input)
        assert app.focused is answer and answer.has_class("-replace")
        assert answer.selection == (0, len(answer.value)) and answer.value
        await pilot.press("escape")
        await settle(pilot, app)

        from textual.widgets import DataTable

        from models.schema import Workflow

        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(Workflow.get(Workflow.name == "Friday check-in").id)))
        await pilot.press("enter")  # Friday check-in (one create-task step), in the editor
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        name = app.screen.query_one("#we-name", Input)
        name.focus()
        await pilot.pause()
        assert app.focused is name and name.value and at_end(name)

        await to_section(pilot, "tab-actions")
        app.screen.query_one("#we-actions").cursor_line = 0
        await pilot.pause()
        await pilot.press("e")  # the first step, in the step dialog (a modal screen)
        await settle(pilot, app)
        assert type(app.screen).__name__ == "StepDialog"
        field = await focus_next_input(pilot)
        assert at_end(field), (field.id, field.value, field.cursor_position, field.selection)
        before = field.value
        await pilot.press("5")
        assert field.value == before + "5"  # added to, not replaced


async def test_record_form(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("R")
        await settle(pilot, app)
        await pilot.press("e")  # edit the highlighted record
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordFormScreen"
        field = app.focused if isinstance(app.focused, Input) and app.focused.value else await focus_next_input(pilot)
        assert at_end(field), (field.id, field.value, field.cursor_position, field.selection)
        before = field.value
        await pilot.press("z")
        assert field.value == before + "z"
