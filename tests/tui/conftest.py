"""Fixtures for driving the real app: a fresh SQLite database, a fixed clock, and a
small deterministic set of workflows (and demo records where a screen needs them)."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.clock import FakeClock
from models import bootstrap
from models import db as dbmod
from models.settings import load_settings
from models.timeutil import UTC

FIXED_NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)  # a Friday

WORKFLOWS = [
    {
        "name": "Friday check-in", "object_type": "contact", "status": "active",
        "schedule": {"kind": "weekly", "weekdays": ["fri"], "time": "14:00", "timezone": "UTC"},
        "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]],
        "actions": [{"type": "create_task", "title": "Call {firstname}", "due_in_days": 2}],
    },
    {
        "name": "Monthly deal sweep", "object_type": "deal", "status": "paused",
        "schedule": {"kind": "monthly_days", "days": [1, 15], "time": "08:00", "timezone": "UTC"},
        "criteria": [],
    },
    {
        "name": "Quiet subscribers", "object_type": "contact", "status": "draft",
        "schedule": {"kind": "daily", "time": "07:30", "timezone": "UTC"},
        "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["subscriber"]}]],
    },
]


@pytest.fixture
def clock():
    return FakeClock(FIXED_NOW)


@pytest.fixture
def empty_db(sqlite_url):
    """An open, empty database (schema only); yields its URL."""
    bootstrap.open_database(sqlite_url)
    yield sqlite_url
    dbmod.close_database()


@pytest.fixture
def seeded_db(empty_db):
    """Three workflows (active, paused, draft) and a few contacts, saved at FIXED_NOW."""
    from engine.workflows import save_workflow
    from models.objects import create_record

    for stage in ("customer", "customer", "subscriber", "lead"):
        create_record("contact", {"firstname": "Ann", "lifecycle_stage": stage}, now=FIXED_NOW)
    for body in WORKFLOWS:
        save_workflow(body, now=FIXED_NOW, actor="test")
    return empty_db


@pytest.fixture
def make_app(clock):
    """Build a RotaApp on a database without the engine thread (tests drive time)."""
    from tui.app import RotaApp

    def make(url: str, **kwargs):
        kwargs.setdefault("run_engine", False)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("settings", load_settings())
        return RotaApp(url, **kwargs)

    return make


async def settle(pilot, app, timeout: float = 20.0) -> None:
    """Wait until no worker is pending or running and the screens have handled the
    results. (``wait_for_complete`` raises on the exclusive workers a newer reload
    cancelled, which is normal here.)"""
    import time

    from textual.worker import WorkerState

    deadline = time.monotonic() + timeout
    await pilot.pause()
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
        if time.monotonic() > deadline:
            raise AssertionError(f"workers still running: {list(app.workers)}")
        await pilot.pause(0.02)
    await pilot.pause()
    await pilot.pause()


def steady(*keys: str, select: int | None = None):
    """A snapshot's run_before: wait for the data, optionally move the table cursor to a
    row, press keys, wait again and stop cursors blinking, so the picture is the same
    every time."""
    from textual.widgets import DataTable, Input

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
