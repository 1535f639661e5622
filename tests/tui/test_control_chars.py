"""Control characters in stored text never reach the terminal raw from the app (issue
10 §6): a workflow named with an OSC sequence and a record value with ESC show as
``\\x1b``-style escapes on every screen that shows them — tables, detail lines,
titles, inputs, notifications — and nothing the app draws holds a control character.

What is checked is what the app hands to the terminal driver: every line of the
screen as the compositor renders it (text of the segments, before the driver adds its
own cursor and colour sequences).
"""
from __future__ import annotations

import re
from datetime import timedelta

from textual.widgets import DataTable, Input

from models.db import db
from models.schema import Workflow
from tests.tui.conftest import FIXED_NOW, settle
from tui.text import safe_markup, safe_text

EVIL_NAME = "Evil \x1b]0;PWNED\x07 flow"
EVIL_VALUE = "Ann\x1b[31mRed\x9b"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def screen_lines(app) -> list[str]:
    """The text of every line of the current screen as rendered for the driver."""
    strips = app.screen._compositor.render_strips()  # what the driver writes (no public API for it)
    return ["".join(segment.text for segment in strip) for strip in strips]


def assert_clean(app, *expected: str) -> str:
    lines = screen_lines(app)
    text = "\n".join(lines)
    raw = [(i, line) for i, line in enumerate(lines) if RAW.search(line)]
    assert raw == [], f"raw control characters on {type(app.screen).__name__}: {raw!r}"
    for part in expected:
        assert part in text, f"{part!r} not on {type(app.screen).__name__}:\n{text}"
    return text


def test_the_helper():
    assert safe_text(EVIL_NAME) == "Evil \\x1b]0;PWNED\\x07 flow"
    assert safe_markup("a[/b]\x1b") == "a\\[/b]\\x1b"
    assert safe_text(None) == "" and safe_text("two\nlines", keep_lines=True) == "two\nlines"
    assert safe_text("two\nlines") == "two\\x0alines"


async def test_an_escape_sequence_in_a_name_and_a_value_shows_escaped_everywhere(seeded_db, make_app):
    from engine.workflows import save_workflow
    from models.objects import create_record
    from models.store import failures

    save_workflow({"name": EVIL_NAME, "object_type": "contact", "status": "active",
                   "schedule": {"kind": "daily", "time": "07:00", "timezone": "UTC"},
                   "criteria": [[{"property": "firstname", "operator": "eq", "value": EVIL_VALUE}]],
                   "actions": [{"type": "create_task", "title": "Call " + EVIL_VALUE, "due_in_days": 1}],
                   "settings": {"campaign": "Q4\x1b[5m"}},
                  now=FIXED_NOW, actor="test")
    record_id = create_record("contact", {"firstname": EVIL_VALUE, "lastname": "Zed"}, now=FIXED_NOW)
    wf = Workflow.get(Workflow.name == EVIL_NAME)
    with db.atomic():  # a failed run names the workflow in history and in the inbox
        at = FIXED_NOW - timedelta(hours=1)
        run = failures.write_failed_run(wf, at, "bad \x1b[2J value", now=FIXED_NOW, engine_id="e1")
        failures.announce_failure(wf, run, at, "bad \x1b[2J value", now=FIXED_NOW, in_a_row=1, next_run_at=None)

    shown_name = "Evil \\x1b]0;PWNED\\x07"
    shown_value = "Ann\\x1b[31mRed"
    app = make_app(seeded_db)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:  # toasts drawn too
        await settle(pilot, app)
        # Home: the table cell and the detail line of the highlighted row.
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(wf.id)))
        await settle(pilot, app)
        assert_clean(app, shown_name, "\\x1b[2J value")

        # A notification naming it (every toast goes through the app's notify).
        app.notify(f'Saved "{EVIL_NAME}"')
        await pilot.pause(0.3)
        assert_clean(app, f'Saved "{shown_name}')

        # The editor: the name field, the header, the criteria and the actions.
        await pilot.press("enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        name_field = app.screen.query_one("#we-name", Input)
        assert name_field.value == safe_text(EVIL_NAME)
        assert_clean(app, shown_name)
        for key, shown in (("4", "Q4\\x1b[5m"), ("2", shown_value), ("3", shown_value)):  # settings, criteria, actions
            app.screen.query_one("#we-tabs Tabs").focus()  # focus off the name field first
            await pilot.pause()
            await pilot.press(key)
            await settle(pilot, app)
            assert_clean(app, shown)
        assert app.screen.collect_body()["settings"]["campaign"] == "Q4\x1b[5m"
        # The step dialog's fields (actions showing): escaped, and the stored text kept.
        app.screen.query_one("#we-actions").focus()
        app.screen.query_one("#we-actions").cursor_line = 0
        await pilot.pause()
        await pilot.press("e")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "StepDialog"
        assert_clean(app, "Call " + shown_value)
        assert app.screen.validated()["title"] == "Call " + EVIL_VALUE
        await pilot.press("escape")
        await settle(pilot, app)
        # The filter dialog's value (criteria showing).
        app.screen.query_one("#we-tabs Tabs").focus()
        await pilot.pause()
        await pilot.press("2")
        await settle(pilot, app)
        criteria = app.screen.query_one("#we-criteria")
        criteria.focus()
        criteria.highlighted = 1  # the filter under the group's heading
        await pilot.pause()
        await pilot.press("e")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "FilterDialog"
        assert_clean(app, shown_value)
        assert app.screen.filter_value()["value"] == EVIL_VALUE
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        # Saved unchanged, the stored name is kept, not its escaped form.
        assert app.screen.collect_body()["name"] == EVIL_NAME
        await pilot.press("escape")
        await settle(pilot, app)

        # History of the workflow: the title and the failed run's detail.
        await pilot.press("h")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "HistoryScreen"
        assert_clean(app, shown_name, "\\x1b[2J value")
        await pilot.press("escape")
        await settle(pilot, app)

        # The dashboard of all workflows (runs and their workflow names).
        await pilot.press("g")
        await settle(pilot, app)
        assert_clean(app, "Evil \\x1b]0;")
        await pilot.press("escape")
        await settle(pilot, app)

        # The inbox: the failure notification names the workflow.
        await pilot.press("i")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "InboxScreen"
        assert_clean(app, "\\x1b]0;PWNED")
        await pilot.press("escape")
        await settle(pilot, app)

        # Records: the value in the table, then in the record form's field.
        await pilot.press("R")
        await settle(pilot, app)
        records = app.screen.query_one("#rec-table", DataTable)
        records.move_cursor(row=records.get_row_index(str(record_id)))
        await settle(pilot, app)
        assert_clean(app, "Ann\\x1b[31m")  # the column is narrow: the cell is cut after that
        await pilot.press("e")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordFormScreen"
        assert app.screen.query_one("#f-firstname", Input).value == "Ann\\x1b[31mRed\\x9b"
        assert_clean(app, shown_value)
        # Saved without touching it, the stored value is kept as it was.
        assert app.screen.read_values()["firstname"] == EVIL_VALUE
