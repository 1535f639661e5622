"""What the dashboard, history, audit log, records, record form and inbox look like
at 80×24, with a fixed clock and the small deterministic activity of
``test_dashboard.build_activity`` (update with ``pytest --snapshot-update`` and review
the SVGs under ``__snapshots__`` before committing)."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from tests.tui.conftest import FIXED_NOW, WORKFLOWS, settle
from tests.tui.test_dashboard import build_activity

SIZE = (80, 24)


@pytest.fixture
def activity_db(tmp_path, monkeypatch):
    """The seeded workflows and contacts plus the activity, in a relative database path
    (the header names the database, so it must be the same on every machine)."""
    from engine.workflows import save_workflow
    from models import db as dbmod
    from models.objects import create_record

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROTA_OPERATOR", "tester")
    dbmod.open_database("rota.db")
    for stage in ("customer", "customer", "subscriber", "lead"):
        create_record("contact", {"firstname": "Ann", "lastname": stage.title(), "lifecycle_stage": stage},
                      now=FIXED_NOW)
    for body in WORKFLOWS:
        save_workflow(body, now=FIXED_NOW, actor="test")
    build_activity()
    yield "rota.db"
    dbmod.close_database()


def steady(*keys: str, select: int | None = None):
    """Wait for the data, optionally move to a home row, press keys, wait again and
    stop cursors blinking, so the picture is the same every time."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot, app)
        if select is not None:
            app.screen.query_one(DataTable).move_cursor(row=select)
            await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await settle(pilot, app)
        for box in app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()

    return run_before


# Home rows are sorted by name: 0 Friday check-in, 1 Lead watch, 2 Monthly deal sweep, …
@pytest.mark.parametrize("keys,select", [
    (("g",), None),
    (("h",), 0),
    (("l",), 0),
    (("R",), None),
    (("R", "a"), None),
    (("i",), None),
], ids=["dashboard", "history", "audit", "records", "record_form", "inbox"])
def test_screens(snap_compare, activity_db, make_app, keys, select):
    assert snap_compare(make_app(activity_db), terminal_size=SIZE, run_before=steady(*keys, select=select))
