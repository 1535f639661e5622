"""Snapshots of the editor's sections and dialogs at 80×24: fixed clock, seeded demo
records, the cursor blink off, workers finished before the picture is taken.

Update after an intended change with ``pytest tests/tui/test_snapshots_editor.py
--snapshot-update`` and look at the pictures before committing them.
"""
from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.tui.test_editor import NOW, EditorHost, editor_host, settle

SIZE = (80, 24)

BODY = {
    "name": "Month-end customers", "object_type": "contact", "status": "active",
    "schedule": {"kind": "monthly_days", "days": [1, 15, 31], "time": "08:00", "timezone": "Europe/Stockholm"},
    "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer", "evangelist"]},
                  {"property": "createdate", "operator": "in_last_days", "value": 365}],
                 [{"property": "email", "operator": "contains", "value": "@example.com"}]],
    "suppression": [[{"property": "email", "operator": "unknown"}]],
    "unenrollment": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["other"]}]],
    "actions": [
        {"type": "create_task", "title": "Call {firstname}", "due_in_days": 2},
        {"type": "branch", "criteria": [[{"property": "country", "operator": "eq", "value": "Sweden"}]],
         "then": [{"type": "notify", "to": ["alice"], "message": "Swedish customer {email}"},
                  {"type": "delay", "days": 1}],
         "else": [{"type": "add_to_list", "list": "Abroad"}]},
        {"type": "webhook", "url": "https://example.com/hook", "headers": {"Authorization": "Bearer s3cret"},
         "timeout_s": 10, "retries": 3},
    ],
    "settings": {"pause_dates": ["2026-12-24", "2026-12-25"], "campaign": "Q4 retention"},
}


@pytest.fixture
def demo_db(sqlite_db):
    """A few hundred seeded demo contacts, created relative to the fixed clock."""
    from engine.demo import load_demo

    load_demo(contacts=300, companies=0, deals=0, tickets=0, seed=7, now=NOW, workflows=False)
    return sqlite_db


async def _steady(pilot) -> None:
    await settle(pilot)
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


def _section(keys: tuple[str, ...]):
    async def run_before(pilot) -> None:
        await _steady(pilot)
        await pilot.press(*keys)  # ctrl+n: the next section (1–4 only when no field has focus)
        await _steady(pilot)
    return run_before


@pytest.mark.parametrize("section,keys", [
    ("schedule", ()),
    ("criteria", ("ctrl+n",)),
    ("actions", ("ctrl+n", "ctrl+n", "down", "down")),
    ("settings", ("ctrl+n", "ctrl+n", "ctrl+n")),
])
def test_editor_sections(snap_compare, demo_db, section, keys):
    assert snap_compare(editor_host(BODY, BODY["name"]), terminal_size=SIZE, run_before=_section(keys))


def test_new_workflow_with_schedule_error(snap_compare, sqlite_db):
    """A new workflow whose time is wrong: the field is marked with the reason."""
    body = {**BODY, "name": "", "status": "draft",
            "schedule": {"kind": "yearly", "month": 2, "day": 29, "time": "8", "timezone": "UTC"}}
    assert snap_compare(editor_host(body), terminal_size=SIZE, run_before=_steady)


def test_filter_dialog(snap_compare, sqlite_db):
    from tui.screens.filter_dialog import FilterDialog

    initial = {"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer", "lead"]}
    assert snap_compare(EditorHost(lambda: FilterDialog("contact", initial)), terminal_size=SIZE,
                        run_before=_steady)


def test_step_dialog(snap_compare, sqlite_db):
    from tui.screens.step_dialog import StepDialog

    assert snap_compare(EditorHost(lambda: StepDialog("contact", BODY["actions"][2])), terminal_size=SIZE,
                        run_before=_steady)
