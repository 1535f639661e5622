"""ctrl+t (save as active) on a body with a mistake shows the refusal where ctrl+s does:
on the offending field, its section showing, the field focused (issue 11 §6 / 9 §5);
not in the activation dialog, and nothing is saved."""
from __future__ import annotations

from models.schema import Workflow
from tests.tui.test_editor import _error_text, editor_host, replace_text, settle, to_section, type_text


async def _press_and_check(pilot, key: str) -> None:
    app = pilot.app
    await pilot.press(key)
    await settle(pilot)
    await pilot.pause(0.2)
    screen = app.screen
    assert type(screen).__name__ == "WorkflowEditorScreen", f"{key}: {type(screen).__name__} is showing"
    assert screen.query_one("#we-tabs").active == "tab-settings", key
    assert "2026-13-01" in _error_text(screen, "#err-pause"), key
    assert app.focused is not None and app.focused.id == "st-pause", (key, app.focused)
    assert Workflow.select().count() == 0


async def test_ctrl_t_puts_the_error_on_its_field_as_ctrl_s_does(sqlite_db):
    app = editor_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_text(pilot, "Checks")
        await to_section(pilot, "tab-settings")
        await type_text(pilot, "2026-13-01")          # not a date
        await to_section(pilot, "tab-schedule")       # away from the field: the refusal brings us back
        await _press_and_check(pilot, "ctrl+s")
        await to_section(pilot, "tab-criteria")
        await _press_and_check(pilot, "ctrl+t")
        # Fixed, ctrl+t goes on to the confirmation as before.
        await to_section(pilot, "tab-settings")
        await replace_text(pilot, "2026-12-24")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert type(app.screen).__name__ == "ActivateDialog"


async def test_a_live_edit_with_a_mistake_shows_it_on_the_field(sqlite_db):
    """Saving an active workflow first shows what changes; a refused body goes to its
    field the same way, not into that dialog."""
    from engine.workflows import get_workflow, save_workflow, workflow_body
    from tests.tui.test_snapshots_editor import BODY

    save_workflow({**BODY, "status": "active"})
    body = workflow_body(get_workflow(BODY["name"]))
    app = editor_host(body, BODY["name"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await to_section(pilot, "tab-settings")
        await replace_text(pilot, "2026-13-01")
        await to_section(pilot, "tab-schedule")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.pause(0.2)
        screen = app.screen
        assert type(screen).__name__ == "WorkflowEditorScreen"
        assert "2026-13-01" in _error_text(screen, "#err-pause")
        assert app.focused is not None and app.focused.id == "st-pause"
        assert get_workflow(BODY["name"]).version == 1
