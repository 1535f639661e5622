"""Pilot tests of the workflow editor at 80×24, driven by keystrokes alone.

The host app pushes only the editor (no engine, no home screen) so these tests do not
depend on the rest of the app, and records what the editor dismissed with; the
keystroke helpers here are shared with the snapshot tests and the real-app test.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from textual.app import App
from textual.widgets import Input, Select

from engine.workflows import get_workflow, save_workflow, workflow_body
from models.timeutil import UTC

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class EditorHost(App):
    """Hosts one screen (the editor, or a dialog); ``result`` is what it dismissed with."""

    def __init__(self, make_screen) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.result = "not dismissed"

    def on_mount(self) -> None:
        self.push_screen(self.make_screen(), self._done)

    def _done(self, result) -> None:
        self.result = result


def editor_host(body: dict | None = None, original_name: str | None = None) -> EditorHost:
    from tui.screens.workflow_editor import WorkflowEditorScreen, new_workflow_body

    body = body or new_workflow_body("contact", "UTC")
    return EditorHost(lambda: WorkflowEditorScreen(body, original_name, clock=lambda: NOW))


async def settle(pilot, timeout: float = 30.0) -> None:
    """Let workers finish and their results reach the screen. (Not wait_for_complete:
    it raises for an exclusive count worker that a newer edit cancelled, which is normal.)"""
    import time

    from textual.worker import WorkerState

    deadline = time.monotonic() + timeout
    await pilot.pause()
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
        assert time.monotonic() < deadline, f"workers still running: {list(pilot.app.workers)}"
        await pilot.pause(0.02)
    await pilot.pause()
    await pilot.pause()


async def wait_for_text(pilot, selector: str, text: str, timeout: float = 20.0) -> str:
    """Wait until the widget shows ``text`` (a debounced count lands after its timer)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        shown = str(pilot.app.screen.query_one(selector).render())
        if text in shown or time.monotonic() > deadline:
            return shown
        await pilot.pause(0.05)


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def replace_text(pilot, text: str) -> None:
    """Clear the focused Input (ctrl+u deletes to the start; end first) and type."""
    assert isinstance(pilot.app.focused, Input), pilot.app.focused
    await pilot.press("end", "ctrl+u")
    await type_text(pilot, text)


async def choose(pilot, search: str) -> None:
    """Pick from the focused Select by keyboard: open, type to search, enter."""
    assert isinstance(pilot.app.focused, Select), pilot.app.focused
    await pilot.press("enter")
    await pilot.pause()
    await type_text(pilot, search)
    await pilot.press("enter")
    await pilot.pause()


async def to_section(pilot, tab_id: str) -> None:
    """ctrl+n until the section is showing (it focuses the section's main control)."""
    from textual.widgets import TabbedContent

    for _ in range(4):
        await pilot.press("ctrl+n")
        await pilot.pause()
        if pilot.app.screen.query_one("#we-tabs", TabbedContent).active == tab_id:
            break
    assert pilot.app.screen.query_one("#we-tabs", TabbedContent).active == tab_id
    await pilot.pause()


# ---------------------------------------------------------------------------- tests


async def fill_schedule(pilot, kind: str) -> None:
    """Drive the schedule form for one kind, from the frequency select."""
    await pilot.press("enter")                        # from the name on into the form
    await pilot.pause()
    assert pilot.app.focused.id == "sf-freq"
    if kind == "daily":
        await choose(pilot, "Dai")
        await pilot.press("tab")                      # time
        await replace_text(pilot, "07:30")
        await pilot.press("tab")                      # time zone: type, accept the suggestion
        await replace_text(pilot, "America/New_Y")
        await pilot.press("right")
    elif kind == "weekly":
        await pilot.press("tab")                      # weekday grid, Monday already on
        await pilot.press("right", "right", "right", "right", "space")   # Friday
        await pilot.press("tab")
        await replace_text(pilot, "14:00")
    elif kind == "monthly_days":
        await choose(pilot, "Mon")
        await pilot.press("tab")                      # "specific days" is the default mode
        await pilot.press("tab")                      # day grid: the 1st is on, the cursor on it
        await pilot.press("down", "down", "space", "down", "down", "right", "right", "space")
        await pilot.press("tab")
        await replace_text(pilot, "06:00")
    elif kind == "monthly_flexible":
        await choose(pilot, "Mon")
        await pilot.press("tab")
        await choose(pilot, "Flex")
        await pilot.press("tab")
        await choose(pilot, "Last")
        await pilot.press("tab")
        await choose(pilot, "Busi")
        await pilot.press("tab")
        await replace_text(pilot, "17:00")
    elif kind == "yearly":
        await choose(pilot, "Year")
        await pilot.press("tab")
        await choose(pilot, "Feb")
        await pilot.press("tab")
        await replace_text(pilot, "29")
        await pilot.press("tab")
        await replace_text(pilot, "09:15")
    elif kind == "cron":
        await choose(pilot, "Adv")
        await pilot.press("tab")
        await replace_text(pilot, "0 8 * * 5")
    await pilot.pause()


EXPECTED_SCHEDULES = {
    "daily": {"kind": "daily", "time": "07:30", "timezone": "America/New_York"},
    "weekly": {"kind": "weekly", "weekdays": ["mon", "fri"], "time": "14:00", "timezone": "UTC"},
    "monthly_days": {"kind": "monthly_days", "days": [1, 15, 31], "time": "06:00", "timezone": "UTC"},
    "monthly_flexible": {"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "weekday"},
                         "time": "17:00", "timezone": "UTC"},
    "yearly": {"kind": "yearly", "month": 2, "day": 29, "time": "09:15", "timezone": "UTC"},
    "cron": {"kind": "cron", "cron": "0 8 * * 5", "timezone": "UTC"},
}


CRITERIA_BY_KIND = {
    "daily": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["subscriber", "lead"]}]],
    "weekly": [[{"property": "createdate", "operator": "more_than_days_ago", "value": 30}]],
    "monthly_days": [[{"property": "email", "operator": "known"}]],
    "monthly_flexible": [[{"property": "city", "operator": "eq", "value": "Malmö"}]],
    "yearly": [[{"property": "lifecycle_stage", "operator": "is_none_of", "value": ["subscriber"]}]],
    "cron": [[{"property": "last_activity_date", "operator": "between", "value": ["2026-01-01", "2026-02-28"]}]],
}


async def add_filter(pilot, kind: str) -> None:
    """Criteria by keys, a different value editor per kind (checkboxes, days, none, text, pair)."""
    await pilot.press("a")
    await pilot.pause()
    if kind in ("daily", "yearly"):
        await choose(pilot, "Life")
        await pilot.press("tab")
        if kind == "yearly":
            await choose(pilot, "none")
        await pilot.press("tab")                      # the options' checkboxes
        await pilot.press("space") if kind == "yearly" else await pilot.press("space", "down", "space")
    elif kind == "weekly":
        await choose(pilot, "Create")
        await pilot.press("tab")
        await choose(pilot, "more")
        await pilot.press("tab")
        await type_text(pilot, "30")
    elif kind == "monthly_days":
        await choose(pilot, "Ema")
        await pilot.press("tab")
        await choose(pilot, "is kn")
    elif kind == "monthly_flexible":
        await choose(pilot, "City")
        await pilot.press("tab", "tab")               # "is" is the first operator
        await type_text(pilot, " Malmö ")
    elif kind == "cron":
        await choose(pilot, "Last Act")
        await pilot.press("tab")
        await choose(pilot, "betw")
        await pilot.press("tab")
        await type_text(pilot, "2026-01-01")
        await pilot.press("tab")
        await type_text(pilot, "2026-02-28")
    await pilot.press("ctrl+s")
    await pilot.pause()


STEP_BY_KIND = {
    "daily": {"type": "create_task", "title": "Call {firstname}", "due_in_days": 2},
    "weekly": {"type": "notify", "to": ["alice", "bob"], "message": "Check {email}"},
    "monthly_days": {"type": "delay", "days": 2},
    "monthly_flexible": {"type": "add_to_list", "list": "Q4 list"},
    "yearly": {"type": "webhook", "url": "https://example.com/hook", "headers": {"Authorization": "Bearer s3cret"},
               "timeout_s": 10, "retries": 3},
    "cron": {"type": "set_property", "property": "lifecycle_stage", "value": "customer"},
}


async def add_step(pilot, kind: str) -> None:
    """One step of a different type per kind, through the step dialog's form."""
    await pilot.press("a")
    await pilot.pause()
    if kind == "daily":
        await choose(pilot, "Create")
        await pilot.press("tab")
        await type_text(pilot, "Call {firstname}")
        await pilot.press("tab")
        await replace_text(pilot, "2")
    elif kind == "weekly":
        await choose(pilot, "Send int")
        await pilot.press("tab")
        await type_text(pilot, "alice, bob")
        await pilot.press("tab")
        await type_text(pilot, "Check {email}")
    elif kind == "monthly_days":
        await choose(pilot, "Delay")
        await pilot.press("tab", "tab")               # unit "Days" is the default
        await replace_text(pilot, "2")
    elif kind == "monthly_flexible":
        await choose(pilot, "Add to")
        await pilot.press("tab")
        await type_text(pilot, "Q4 list")
    elif kind == "yearly":
        await choose(pilot, "Send web")
        await pilot.press("tab")
        await type_text(pilot, "https://example.com/hook")
        await pilot.press("tab")
        await type_text(pilot, "Authorization: Bearer s3cret")
    elif kind == "cron":
        await choose(pilot, "Set prop")
        await pilot.press("tab")
        await choose(pilot, "Life")
        await pilot.press("tab")
        await type_text(pilot, "Customer")
    await pilot.press("ctrl+s")
    await pilot.pause()


async def fill_settings(pilot, suppression: bool) -> None:
    """Pause day and campaign; optionally suppression: Email is unknown."""
    await to_section(pilot, "tab-settings")
    assert pilot.app.focused.id == "st-pause"
    await type_text(pilot, "2026-12-25")
    await pilot.press("tab")
    await type_text(pilot, "Q4 retention")
    if suppression:
        await pilot.press("tab")                      # the disabled checkbox is skipped
        assert pilot.app.focused.id == "st-suppression"
        await pilot.press("a")
        await pilot.pause()
        await choose(pilot, "Ema")
        await pilot.press("tab")
        await choose(pilot, "unk")
        await pilot.press("ctrl+s")
        await pilot.pause()


@pytest.mark.parametrize("kind", list(EXPECTED_SCHEDULES))
async def test_create_and_activate_every_schedule_kind_by_keys(sqlite_db, kind):
    """Each schedule kind, by keystrokes alone: criteria, an action and settings,
    activated with ctrl+t; then the database holds exactly what was typed.
    (One test per kind, so the parallel runner can share them out.)"""
    app = editor_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused.id == "we-name"
        await type_text(pilot, f"Flow {kind}")
        await fill_schedule(pilot, kind)
        assert app.screen.query_one("#we-schedule").error is None
        await to_section(pilot, "tab-criteria")
        await add_filter(pilot, kind)
        await to_section(pilot, "tab-actions")
        await add_step(pilot, kind)
        await fill_settings(pilot, suppression=kind == "daily")
        await pilot.press("ctrl+t")               # save as active, after the confirmation
        await settle(pilot)
        assert type(app.screen).__name__ == "ActivateDialog", kind
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.saved_name == f"Flow {kind}", kind
        await pilot.press("escape")               # saved: leaves without asking
        await pilot.pause()
        assert app.result == f"Flow {kind}"
    wf = get_workflow(f"Flow {kind}")
    body = workflow_body(wf)
    assert body["status"] == "active", kind
    assert wf.next_run_at is not None, kind
    assert body["schedule"] == EXPECTED_SCHEDULES[kind]
    assert body["criteria"] == CRITERIA_BY_KIND[kind]
    assert body["actions"] == [STEP_BY_KIND[kind]]
    assert body["settings"] == {"pause_dates": ["2026-12-25"], "campaign": "Q4 retention"}
    assert body["suppression"] == ([[{"property": "email", "operator": "unknown"}]] if kind == "daily" else [])


def _error_text(screen, selector: str) -> str:
    widget = screen.query_one(selector)
    return str(widget.render()) if widget.display else ""


async def test_validation_messages_on_the_fields(sqlite_db):
    """Each mistake is marked on its field with the reason, and nothing is saved."""
    from models.schema import Workflow

    app = editor_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")                   # no name
        await settle(pilot)
        screen = app.screen
        assert "name: give the workflow a name" in _error_text(screen, "#we-name-error")
        assert screen.query_one("#we-name").has_class("-invalid")

        await type_text(pilot, "Checks")
        await pilot.press("enter", "tab")             # the weekday grid; Monday is on
        await pilot.press("space")                    # … and now off
        await pilot.pause()
        assert "no weekday chosen" in _error_text(screen, "#err-weekdays")
        assert screen.query_one("#sf-weekdays").has_class("-invalid")
        assert "Fix the schedule" in str(screen.query_one("#sf-words").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Workflow.select().count() == 0
        assert "no weekday chosen" in _error_text(screen, "#err-weekdays")
        await pilot.press("space")                    # Monday again: the mark goes
        await pilot.pause()
        assert _error_text(screen, "#err-weekdays") == ""

        await pilot.press("tab")
        await replace_text(pilot, "25:00")
        await pilot.pause()
        assert "25:00\" is out of range" in _error_text(screen, "#err-time")
        await replace_text(pilot, "08:00")
        await pilot.press("tab")
        await replace_text(pilot, "Mars/Phobos")
        await pilot.pause()
        assert "unknown time zone" in _error_text(screen, "#err-tz")
        assert screen.query_one("#sf-tz").has_class("-invalid")
        await replace_text(pilot, "Europe/Stockholm")
        await pilot.pause()
        assert _error_text(screen, "#err-tz") == ""
        assert "Every Monday at 08:00 (Europe/Stockholm)" in str(screen.query_one("#sf-words").render())

        await to_section(pilot, "tab-settings")
        await type_text(pilot, "2026-13-01")
        await to_section(pilot, "tab-schedule")       # saving shows the section with the error
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.query_one("#we-tabs").active == "tab-settings"
        assert "2026-13-01" in _error_text(screen, "#err-pause")
        assert Workflow.select().count() == 0

        await replace_text(pilot, "2026-12-24")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.saved_name == "Checks"
    wf = get_workflow("Checks")
    assert wf.status == "draft"
    assert wf.settings["pause_dates"] == ["2026-12-24"]
    assert wf.schedule["timezone"] == "Europe/Stockholm"


async def test_duplicate_name_is_refused_on_create(sqlite_db):
    save_workflow({"name": "Taken", "object_type": "contact", "schedule": {"kind": "daily", "time": "08:00"}},
                  now=NOW)
    app = editor_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_text(pilot, "Taken")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "exists already" in _error_text(app.screen, "#we-name-error")
        assert app.screen.saved_name is None


async def test_filter_dialog_validates_and_offers_operators_by_type(sqlite_db):
    from textual.widgets import Select

    from models.criteria import OPERATORS_BY_TYPE
    from tui.screens.filter_dialog import FilterDialog

    app = EditorHost(lambda: FilterDialog("contact"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(pilot, "Life")
        ops = [value for _, value in app.screen.query_one("#fd-op", Select)._options if isinstance(value, str)]
        assert ops == list(OPERATORS_BY_TYPE["enumeration"])
        await choose(pilot, "Create")                 # a datetime: "is on" first, a date input
        ops = [value for _, value in app.screen.query_one("#fd-op", Select)._options if isinstance(value, str)]
        assert ops == list(OPERATORS_BY_TYPE["datetime"])
        assert "YYYY-MM-DD" in app.screen.query_one("#fd-v1").placeholder
        await pilot.press("tab", "tab")
        await type_text(pilot, "31/02/2026")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "not dismissed"
        assert "31/02/2026" in str(app.screen.query_one("#fd-error").render())
        await replace_text(pilot, "2026-02-28")
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == {"property": "createdate", "operator": "on", "value": "2026-02-28"}


async def test_step_dialog_masks_secrets_and_validates(sqlite_db):
    from tui.screens.step_dialog import StepDialog

    step = {"type": "webhook", "url": "https://example.com/a", "headers": {"Authorization": "Bearer s3cret",
                                                                           "X-Source": "rota"},
            "timeout_s": 5, "retries": 1}
    app = EditorHost(lambda: StepDialog("contact", step))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused.id == "f-url"
        headers = app.screen.query_one("#f-headers").value
        assert "s3cret" not in headers and "Authorization: ***" in headers
        await replace_text(pilot, "ftp://example.com")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "not dismissed"
        assert "must be an http:// or https:// address" in str(app.screen.query_one("#sd-error").render())
        await replace_text(pilot, "https://example.com/b")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == {**step, "url": "https://example.com/b"}   # the secret kept, never shown


async def test_edit_active_workflow_applies_at_once_with_nested_branch(sqlite_db):
    """An active workflow stays active; the new time takes effect now; a branch is built
    and filled by keys, steps reorder and delete; the count follows the criteria."""
    from models.objects import create_record

    for stage in ("customer", "customer", "lead"):
        create_record("contact", {"firstname": "Ann", "lifecycle_stage": stage}, now=NOW)
    save_workflow({"name": "Live", "object_type": "contact", "status": "active",
                   "schedule": {"kind": "weekly", "weekdays": ["mon"], "time": "08:00", "timezone": "UTC"},
                   "actions": [{"type": "add_to_list", "list": "A"}, {"type": "add_to_list", "list": "B"}]},
                  now=NOW)
    assert get_workflow("Live").next_run_at.isoformat().startswith("2026-03-09T08:00")
    wf = get_workflow("Live")
    app = editor_host(workflow_body(wf), "Live")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#we-type").disabled      # the object type is fixed once saved
        assert screen.check_action("activate", ()) is None
        assert "3 contacts meet the criteria now" in await wait_for_text(pilot, "#we-count", "3 contacts")

        assert app.focused.id == "sf-freq"             # an existing workflow opens in its schedule
        await pilot.press("tab", "tab")                # frequency → weekday grid → time
        await replace_text(pilot, "10:00")

        await to_section(pilot, "tab-criteria")
        await pilot.press("a")
        await pilot.pause()
        await choose(pilot, "Life")
        await pilot.press("tab", "tab", "down", "down", "down", "down", "down", "space", "ctrl+s")
        await pilot.pause(0.5)
        await settle(pilot)
        assert "2 contacts meet the criteria now" in await wait_for_text(pilot, "#we-count", "2 contacts")

        await to_section(pilot, "tab-actions")         # cursor on step 1 (list A)
        await pilot.press("J")                         # A below B
        await pilot.press("a")                         # after A: an if/then branch
        await pilot.pause()
        await choose(pilot, "If")
        await pilot.press("tab")
        assert app.focused.id == "f-criteria"
        await pilot.press("a")
        await pilot.pause()
        await choose(pilot, "Ema")
        await pilot.press("tab")
        await choose(pilot, "is kn")
        await pilot.press("ctrl+s")                    # the filter …
        await pilot.pause()
        await pilot.press("ctrl+s")                    # … and the step
        await pilot.pause()
        await pilot.press("down")                      # the branch's Then arm
        await pilot.press("a")
        await pilot.pause()
        await choose(pilot, "Dela")
        await pilot.press("tab", "tab")
        await replace_text(pilot, "3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("up", "up", "up", "d")       # delete B (the first step now)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "ChangeDialog"   # a live edit shows what changes first
        assert get_workflow("Live").version == 1
        await pilot.press("enter")
        await settle(pilot)
        assert screen.saved_name == "Live"
        await pilot.press("escape")
        await pilot.pause()
    wf = get_workflow("Live")
    body = workflow_body(wf)
    assert body["status"] == "active"
    assert body["schedule"]["time"] == "10:00"
    assert wf.next_run_at.isoformat().startswith("2026-03-02T10:00")   # today, not next week
    assert body["criteria"] == [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]]
    assert body["actions"] == [
        {"type": "add_to_list", "list": "A"},
        {"type": "branch", "criteria": [[{"property": "email", "operator": "known"}]],
         "then": [{"type": "delay", "days": 3}], "else": []},
    ]
    assert wf.version == 2


async def test_escape_with_unsaved_changes_asks_first(sqlite_db):
    app = editor_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")                    # nothing typed: leaves at once
        await pilot.pause()
        assert app.result is None
    app = editor_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_text(pilot, "Draft")
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")                         # keep editing
        await pilot.pause()
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.result is None
