"""The home screen driven by keys at 80×24: filter, activate/pause, clone, delete,
export, create, help, the command palette, disabled actions, settings."""
from __future__ import annotations

import json

from textual.widgets import DataTable, Input

from engine.workflows import export_workflow
from models.schema import Workflow
from tests.tui.conftest import settle


def names(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [table.get_row(k)[0] for k in table.rows]


async def select(pilot, app, name: str) -> None:
    table = app.screen.query_one(DataTable)
    wf = Workflow.get(Workflow.name == name)
    table.move_cursor(row=table.get_row_index(str(wf.id)))
    await pilot.pause()


async def test_filter_by_typing_then_escape_clears(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", "d", "e", "a", "l")
        assert app.screen.query_one("#filter", Input).has_focus
        assert names(app) == ["Monthly deal sweep"]
        await pilot.press("ctrl+u", "p", "a", "u", "s")  # by status
        assert names(app) == ["Monthly deal sweep"]
        await pilot.press("enter")  # Enter in the filter goes to the list; it does not open
        await pilot.pause()
        assert type(app.screen).__name__ == "WorkflowsScreen" and app.screen.query_one(DataTable).has_focus
        await pilot.press("slash", "escape")
        assert len(names(app)) == 3 and app.screen.query_one(DataTable).has_focus


async def test_activate_pause_clone_delete_by_keys(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        await select(pilot, app, "Monthly deal sweep")  # paused → "a" resumes
        assert app.screen.check_action("set", ("active",)) is True
        assert app.screen.check_action("set", ("paused",)) is False
        await pilot.press("a")  # asks first (issue 11 §6)
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        deal = Workflow.get(Workflow.name == "Monthly deal sweep")
        assert deal.status == "active" and deal.next_run_at is not None
        assert table.get_row(str(deal.id))[1] == "active"
        await pilot.press("a")  # and pauses again
        await settle(pilot, app)
        assert Workflow.get(Workflow.name == "Monthly deal sweep").status == "paused"

        await pilot.press("c")  # clone: the proposed name is accepted with Enter
        await pilot.pause()
        assert app.screen.query_one(Input).value == "Copy of Monthly deal sweep"
        await pilot.press("enter")
        await settle(pilot, app)
        copy = Workflow.get(Workflow.name == "Copy of Monthly deal sweep")
        assert copy.status == "draft" and "Copy of Monthly deal sweep" in names(app)
        assert app.screen.selected().name == "Copy of Monthly deal sweep"  # the cursor follows the copy

        await pilot.press("d")  # delete asks first; "n" keeps it
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")
        await settle(pilot, app)
        assert Workflow.get_or_none(Workflow.name == "Copy of Monthly deal sweep") is not None
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app)
        assert Workflow.get_or_none(Workflow.name == "Copy of Monthly deal sweep") is None
        assert "Copy of Monthly deal sweep" not in names(app)


async def test_export_writes_name_json_in_the_current_directory(seeded_db, make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "Friday check-in")
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        target = tmp_path / "Friday check-in.json"
        assert json.loads(target.read_text()) == export_workflow("Friday check-in")
        assert any(str(target) in n.message for n in app._notifications)


async def test_row_actions_are_disabled_without_a_selection(empty_db, make_app):
    app = make_app(empty_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")  # decline the demo offer
        await settle(pilot, app)
        screen = app.screen
        for action in ("open", "clone", "delete", "export", "review"):
            assert screen.check_action(action, ()) is None, action
        assert screen.check_action("new", ()) is True
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is screen  # no confirmation for nothing


async def test_create_asks_type_trigger_name_then_opens_the_editor(seeded_db, make_app):
    from tui.screens.create import CreateScreen

    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, CreateScreen)
        assert [v for _, v in app.screen.types][:4] == ["contact", "company", "deal", "ticket"]
        await pilot.press(*"Friday check-in", "enter")  # a taken name is refused in place
        await pilot.pause()
        assert isinstance(app.screen, CreateScreen)
        assert any("exists already" in n.message for n in app._notifications)
        await pilot.press("ctrl+u", *"New one", "enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        assert app.screen_stack[-2].__class__.__name__ == "WorkflowsScreen"


async def test_help_lists_this_screens_keys_and_palette_runs_them(seeded_db, make_app):
    from tui.screens.confirm import AskScreen
    from tui.screens.help import HelpScreen

    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {what for _, what, _ in app.screen.keys}
        assert {"Clone", "Delete", "Export", "New", "Quit"} <= listed
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"clone")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, AskScreen)
        assert app.screen.query_one(Input).value.startswith("Copy of ")


async def test_settings_refuse_bad_values_with_the_reason_and_save_good_ones(seeded_db, make_app, isolated_env):
    from models.settings import config_path
    from tui.screens.settings import SettingsScreen

    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("ctrl+u", *"Mars/Olympus", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen) and not config_path().exists()
        assert any("Mars/Olympus" in n.message for n in app._notifications)
        app.screen.query_one("#grace_seconds", Input).value = "600"
        app.screen.query_one("#operator", Input).value = "ops"
        await pilot.press("ctrl+u", *"Europe/Stockholm", "ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "WorkflowsScreen"
        import tomllib

        saved = tomllib.loads(config_path().read_text())  # the file; ROTA_TIMEZONE overrides on load
        assert (saved["timezone"], saved["grace_seconds"], saved["operator"]) == ("Europe/Stockholm", 600, "ops")
        assert app.settings.timezone == "Europe/Stockholm"


async def test_a_wider_terminal_gives_the_name_column_the_room(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        # every column shown at its width, and the name takes the rest: 160 - 1 - 2×8 - 72
        assert [c.key.value for c in table.columns.values()] == [
            "name", "status", "type", "schedule", "next", "last", "in_progress", "enrolled"]
        assert table.columns["name"].width == 71
        assert "Monthly deal sweep" in names(app) and table.row_count == 3
        assert table.get_row_index(str(Workflow.get(Workflow.name == "Quiet subscribers").id)) == 2
