"""The Simulate panel, the editor's projected counts and the busy-schedule confirmation,
driven through the real editor and review screens with a pilot at 80×24."""
from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, Input, ProgressBar, Static

from models.objects import create_record
from tests.tui.test_editor import NOW, editor_host, settle

SIZE = (80, 24)
RELATIVE = [[{"property": "createdate", "operator": "in_last_days", "value": 1}]]


def _seed_recent() -> None:
    """One contact created on each of the 6 days before NOW (2026-03-02 09:00 UTC), at 12:00 UTC."""
    for i in range(1, 7):
        created = (NOW - timedelta(days=i)).replace(hour=12)
        create_record("contact", {"firstname": f"R{i}", "email": f"r{i}@example.com",
                                  "createdate": created.isoformat()}, now=NOW)


def _body(**extra) -> dict:
    body = {"name": "Sim", "object_type": "contact", "status": "draft",
            "schedule": {"kind": "daily", "time": "10:00", "timezone": "UTC"},
            "criteria": RELATIVE, "suppression": [], "unenrollment": [], "actions": [],
            "settings": {"pause_dates": ["2026-03-04"]}}
    body.update(extra)
    return body


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_editor_preview_shows_per_run_counts_and_pause_marks(sqlite_db):
    _seed_recent()
    app = editor_host(_body(), None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)  # the editor's debounced count starts the projection too
        await settle(pilot)
        runs = _text(app.screen, "#sf-runs")
        # "in the last 1 day" on run day D: created on D-1 or D. Only the contact of
        # 1 March qualifies on 2 March; none later (nothing was created after NOW).
        # the year only for a run in another year; the count beside its run at 80 columns
        assert "Mon 02 Mar 10:00  1 enroll" in runs
        assert "Tue 03 Mar 10:00  0 enroll" in runs
        assert "pause day: enrolls; actions wait until Thu 05 Mar 2026 10:00" in runs


async def test_editor_preview_shows_one_count_without_relative_dates(sqlite_db):
    _seed_recent()
    app = editor_host(_body(criteria=[]), None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        runs = _text(app.screen, "#sf-runs")
        assert "each would enroll 6 (today's data)" in runs
        assert " enroll\n" not in runs.replace("each would enroll", "")


async def test_busy_schedule_asks_before_saving(sqlite_db):
    app = editor_host(_body(schedule={"kind": "cron", "cron": "* * * * *", "timezone": "UTC"}), None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "runs 1,440 times a day" in str(app.screen.query_one(".dialog").render()) or \
            "1,440 times a day" in " ".join(str(w.render()) for w in app.screen.query(Static))
        await pilot.press("n")
        await settle(pilot)
        from models.schema import Workflow
        assert Workflow.select().count() == 0  # "no": nothing saved
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert Workflow.select().count() == 1


async def test_simulate_panel_from_the_editor_counts_with_progress(sqlite_db):
    _seed_recent()
    app = editor_host(_body(), None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+e")
        await settle(pilot)
        screen = app.screen
        assert type(screen).__name__ == "SimulateScreen"
        table = screen.query_one(DataTable)
        assert table.row_count == 30  # 30 days from the editor's today, one run a day
        first = table.get_row_at(0)
        assert first[0] == "Mon 2026-03-02 10:00" and first[2] == "1"
        pause = table.get_row_at(2)
        assert pause[0].startswith("Wed 2026-03-04") and "actions wait until" in pause[4]
        bar = screen.query_one(ProgressBar)
        assert bar.total and bar.progress == bar.total
        assert "30 runs" in _text(screen, "#sim-status") and "Nothing was written" in _text(screen, "#sim-status")
        # A shorter range, typed in.
        to = screen.query_one("#sim-to", Input)
        to.value = "2026-03-03"
        to.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert screen.query_one(DataTable).row_count == 2
        to.value = "03/03"
        await pilot.press("enter")
        await pilot.pause()
        assert 'To "03/03" is not a date' in _text(screen, "#sim-status")
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "WorkflowEditorScreen"


async def test_simulate_panel_from_the_review_screen(seeded_db, make_app):
    from tests.tui.conftest import FIXED_NOW
    from tests.tui.conftest import settle as app_settle
    from tests.tui.test_review_screen import open_review

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await app_settle(pilot, app)
        await open_review(pilot, app, "Quiet subscribers")
        await pilot.press("s")
        await app_settle(pilot, app)
        screen = app.screen
        assert type(screen).__name__ == "SimulateScreen"
        assert screen.query_one("#sim-from", Input).value == FIXED_NOW.date().isoformat()
        table = screen.query_one(DataTable)
        assert table.row_count > 0 and all(table.get_row_at(i)[2] == "1" for i in range(table.row_count))
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReviewScreen"


async def test_editor_preview_at_60_columns_puts_a_count_under_its_run_not_cut(sqlite_db):
    """At 60 columns the preview is narrow: a run and its count that do not fit one line
    go on two, the count whole ("  1 enroll"), never wrapped away from its number."""
    _seed_recent()
    app = editor_host(_body(schedule={"kind": "yearly", "month": 3, "day": 2, "time": "10:00", "timezone": "UTC"}),
                      None)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        runs = _text(app.screen, "#sf-runs")
        width = app.screen.query_one("#sf-preview").content_region.width
        assert "Mon 02 Mar 10:00" in runs and "Tue 02 Mar 2027 10:00\n  " in runs
        assert all(len(line) <= width for line in runs.splitlines()), runs
