"""The workflow editor at 60×20 and 80×24 (issue 14 §1): the name keeps its room, the
week is never cut to Monday–Friday, and a step too long for its tree line is shown
whole under the tree."""
from __future__ import annotations

import pytest
from textual.widgets import Input, Label, Static

from tests.tui.test_editor import editor_host, settle
from tui.widgets.toggle_grid import ToggleGrid

LONG_STEP = {"type": "create_task", "title": "Send {firstname} a note about the anniversary of their first order",
             "due_in_days": 5}


def _body(**extra) -> dict:
    body = {"name": "Urgent ticket escalation (cron)", "object_type": "contact", "status": "draft",
            "schedule": {"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "UTC"},
            "criteria": [], "suppression": [], "unenrollment": [], "actions": [LONG_STEP], "settings": {}}
    body.update(extra)
    return body


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_name_and_week_fit(sqlite_db, size):
    app = editor_host(_body(), None)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        name = app.screen.query_one("#we-name", Input)
        assert name.content_region.width >= len("Urgent ticket escalation (cron)")
        assert app.screen.query_one("#we-type-label", Label).display == (size[0] >= 72)
        grid = app.screen.query_one("#sf-weekdays", ToggleGrid)
        lines = str(grid.render()).splitlines()
        assert all(day in " ".join(lines) for day in ("Mon", "Sat", "Sun"))  # the whole week
        assert all(len(line.rstrip()) <= grid.content_region.width for line in lines)


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_a_long_step_is_shown_whole_under_the_tree(sqlite_db, size):
    app = editor_host(_body(), None)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n", "ctrl+n")  # the Actions section
        await settle(pilot)
        await pilot.pause(0.1)
        detail = app.screen.query_one("#we-step-detail", Static)
        assert detail.display and "anniversary of their first order" in str(detail.render())
        await pilot.resize_terminal(160, 40)  # room enough: no repeat
        await pilot.pause(0.3)
        assert not detail.display
