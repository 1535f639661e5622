"""Workflow history and audit log driven by keys at 80×24: filters by type, record
and date against the database, a mistyped date marked on its field, keyset paging,
and restoring an audited version."""
from __future__ import annotations

from textual.widgets import DataTable, Input, Select, Static

from engine.history import history
from models.schema import AuditEntry, Workflow
from tests.tui.conftest import FIXED_NOW, settle
from tests.tui.test_dashboard import build_activity, row_keys, rows


async def open_on(pilot, app, name: str, key: str) -> None:
    await settle(pilot, app)
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(str(Workflow.get(Workflow.name == name).id)))
    await pilot.press(key)
    await settle(pilot, app)


def types_shown(app) -> set[str]:
    return {r[1] for r in rows(app, "#hist-table")}


async def test_history_filters_and_pages(seeded_db, make_app, monkeypatch):
    build_activity()
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_on(pilot, app, "Friday check-in", "h")
        assert type(app.screen).__name__ == "HistoryScreen"
        everything = history("Friday check-in")
        assert row_keys(app, "#hist-table") == [r["cursor"] for r in everything]
        assert {"enrolled", "manual enrolled", "step succeeded", "step failed", "missed"} <= types_shown(app)

        app.screen.query_one("#hist-type", Select).value = "step_failed"
        await settle(pilot, app)
        assert types_shown(app) == {"step failed"}
        assert len(rows(app, "#hist-table")) == len(history("Friday check-in", type="step_failed")) == 1

        app.screen.query_one("#hist-type", Select).value = Select.NULL
        await pilot.press("f", "3", "enter")  # record 3: its manual enrollment only
        await settle(pilot, app)
        assert [(r[1], r[2]) for r in rows(app, "#hist-table")] == [("manual enrolled", "3")]

        await pilot.press("f", "ctrl+u", "tab", "tab")
        assert app.screen.query_one("#hist-since", Input).has_focus
        before = row_keys(app, "#hist-table")
        await pilot.press(*"2026-13-45", "enter")
        await settle(pilot, app)
        since = app.screen.query_one("#hist-since", Input)
        assert since.has_class("-invalid")
        assert "since" in str(app.screen.query_one("#hist-error", Static).render())
        assert row_keys(app, "#hist-table") == before  # nothing loaded on a bad filter

        since.value = "2026-11-24"  # the last days: the missed occurrence and the recent runs, no older rows
        await pilot.press("f", "tab", "tab", "enter")
        await settle(pilot, app)
        assert not since.has_class("-invalid")
        shown = rows(app, "#hist-table")
        assert shown and all(r[0] >= "24 Nov" for r in shown) and "step failed" not in types_shown(app)

        # Keyset paging: pages of 3, "m" appends the next page without repeats.
        monkeypatch.setattr("tui.screens.history.PAGE", 3)
        since.value = ""
        await pilot.press("f", "tab", "tab", "enter")
        await settle(pilot, app)
        assert row_keys(app, "#hist-table") == [r["cursor"] for r in everything[:3]]
        await pilot.press("m")
        await settle(pilot, app)
        assert row_keys(app, "#hist-table") == [r["cursor"] for r in everything[:6]]


async def test_audit_log_shows_entries_and_restores_a_version(seeded_db, make_app):
    from engine.workflows import get_workflow, save_workflow, workflow_body

    body = workflow_body(get_workflow("Friday check-in"))
    save_workflow({**body, "schedule": {**body["schedule"], "time": "16:00"}}, now=FIXED_NOW, actor="carol")
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_on(pilot, app, "Friday check-in", "l")
        assert type(app.screen).__name__ == "AuditScreen"
        entries = list(AuditEntry.select().where(AuditEntry.workflow_name == "Friday check-in")
                       .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))
        assert row_keys(app, "#audit-entries") == [str(e.id) for e in entries]
        assert rows(app, "#audit-entries")[0][1:] == ("carol", "schedule changed")
        diff = str(app.screen.query_one("#audit-diff", Static).render())
        assert 'schedule.time: "14:00" -> "16:00"' in diff

        assert row_keys(app, "#audit-versions") == ["2", "1"]
        assert app.screen.check_action("restore", ()) is None  # the current version: nothing to restore
        await pilot.press("tab", "tab")  # past the diff box to the versions
        assert app.screen.query_one("#audit-versions", DataTable).has_focus
        await pilot.press("down", "v")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("y")
        await settle(pilot, app)
        wf = get_workflow("Friday check-in")
        assert wf.version == 3 and wf.schedule["time"] == "14:00"
        assert row_keys(app, "#audit-versions") == ["3", "2", "1"]
        assert rows(app, "#audit-entries")[0][2] == "schedule changed"


async def test_history_until_filter(seeded_db, make_app):
    from engine.history import parse_when

    build_activity()
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_on(pilot, app, "Friday check-in", "h")
        everything = history("Friday check-in")
        until = app.screen.query_one("#hist-until", Input)
        until.value = "2026-11-23"  # a date: up to the end of that day
        await pilot.press("f", "tab", "tab", "tab", "enter")
        await settle(pilot, app)
        expected = history("Friday check-in", until=parse_when("2026-11-24", "UTC"))
        assert 0 < len(expected) < len(everything)
        assert row_keys(app, "#hist-table") == [r["cursor"] for r in expected]

        app.screen.query_one("#hist-since", Input).value = "2026-11-25"  # after until: refused in words
        await pilot.press("f", "tab", "tab", "tab", "enter")
        await settle(pilot, app)
        assert "until: comes before since" in str(app.screen.query_one("#hist-error", Static).render())
        assert row_keys(app, "#hist-table") == [r["cursor"] for r in expected]
