"""Every validation message the editor shows is in words (issue 14 §3): each body below
is refused by the service layer with a message in the workflow file's vocabulary; the
editor shows it on its field and in a toast with labels instead — no snake_case name,
no ``settings.pause_dates[1]``, no internal property name outside a template."""
from __future__ import annotations

import re

import pytest
from textual.widgets import Static

from tests.tui.test_editor import NOW, EditorHost, settle

SNAKE = re.compile(r"(?<![{\w])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![}\w])")

BASE = {"name": "Words", "object_type": "contact", "status": "draft",
        "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"}, "criteria": [], "actions": []}

BAD = {
    "days filter": {"criteria": [[{"property": "createdate", "operator": "more_than_days_ago", "value": "x"}]]},
    "unknown operator": {"criteria": [[{"property": "lifecycle_stage", "operator": "is_nearly", "value": "x"}]]},
    "bad option": {"criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["nope"]}]]},
    "pause day": {"settings": {"pause_dates": ["2026-12-24", "2026-02-30"]}},
    "task days": {"actions": [{"type": "create_task", "title": "Call", "due_in_days": -1}]},
    "set property": {"actions": [{"type": "set_property", "property": "lifecycle_stage", "value": "nope"}]},
    "webhook timeout": {"actions": [{"type": "webhook", "url": "https://example.com/h", "timeout_s": "soon",
                                      "retries": 1}]},
    "suppression": {"suppression": [[{"property": "num_employees", "operator": "between", "value": [5]}]]},
    "unenrollment": {"unenrollment": [[{"property": "last_activity_date", "operator": "in_last_days",
                                         "value": -3}]]},
    "grace": {"settings": {"grace_seconds": -5}},
}


@pytest.mark.parametrize("case", BAD)
async def test_messages_use_labels_not_internal_names(sqlite_db, case):
    from tui.screens.workflow_editor import WorkflowEditorScreen

    body = {**BASE, **BAD[case]}
    app = EditorHost(lambda: WorkflowEditorScreen(body, None, clock=lambda: NOW))
    toasts: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **k: (toasts.append(str(message)), notify(message, *a, **k))[1]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.saved_name is None, "the body should have been refused"
        shown = [str(w.render()) for w in app.screen.query(Static)
                 if w.id and ("err" in w.id or "error" in w.id) and w.display]
        errors = [t for t in toasts if t] + [t for t in shown if t.strip()]
        assert errors, "the refusal should be shown"
        for text in errors:
            assert not SNAKE.search(text), f"{case}: internal name in {text!r}"
            assert "settings." not in text and "[1]" not in text, text
