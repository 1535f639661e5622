"""Database work from the UI (tui/workers.py), driven through the real app: quick
actions one after the other each report their outcome, in the order they were asked
for; a write outlives the screen that asked for it; a newer read supersedes an older one.
"""
from __future__ import annotations

import threading

from textual.screen import Screen
from textual.widgets import Static
from textual.worker import WorkerState

from models.schema import Workflow
from tests.tui.conftest import settle
from tui.workers import WorkerReports, db_read, db_write


def record_toasts(app) -> list[tuple[str, str]]:
    """Keep (severity, message) of every toast the app shows, and still show it."""
    shown: list[tuple[str, str]] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        shown.append((kwargs.get("severity", "information"), str(message)))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return shown


async def test_two_quick_clones_one_failing_both_report(seeded_db, make_app):
    """The old exclusive mutation group cancelled the first clone's report while its
    thread still committed; now both outcomes are shown."""
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        toasts = record_toasts(app)
        home = app.screen
        home.clone("Friday check-in", "Friday copy")
        home.clone("Quiet subscribers", "Monthly deal sweep")  # taken: refused
        await settle(pilot, app)
        assert ("information", 'Cloned "Friday check-in" as "Friday copy" (a draft).') in toasts
        errors = [text for severity, text in toasts if severity == "error"]
        assert len(errors) == 1 and "Monthly deal sweep" in errors[0], toasts
        assert Workflow.get_or_none(Workflow.name == "Friday copy") is not None
        assert not [w for w in app.workers if w.state == WorkerState.CANCELLED and w.group == "workflows-change"]


async def test_clone_then_delete_run_in_order_and_both_report(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        toasts = record_toasts(app)
        home = app.screen
        home.clone("Friday check-in", "Short-lived copy")
        home.delete("Short-lived copy")  # queued behind the clone: finds it
        await settle(pilot, app)
        messages = [text for _, text in toasts]
        assert 'Cloned "Friday check-in" as "Short-lived copy" (a draft).' in messages
        assert 'Deleted "Short-lived copy".' in messages
        assert messages.index('Deleted "Short-lived copy".') > messages.index(
            'Cloned "Friday check-in" as "Short-lived copy" (a draft).')
        assert Workflow.get_or_none(Workflow.name == "Short-lived copy") is None
        assert "Short-lived copy" not in [r.name for r in home.rows.values()]


class PausingScreen(WorkerReports, Screen):
    """A screen that writes and is closed at once, before the write ends."""

    def compose(self):
        yield Static("pausing")

    gate = threading.Event()

    @db_write("test-change")
    def pause(self, name: str) -> str:
        from engine.workflows import set_status

        assert self.gate.wait(30)  # the test opens it once the screen is gone
        set_status(name, "paused", now=self.app.clock.now())
        return f'"{name}" is paused.'

    @db_write("test-change")
    def fail(self) -> str:
        from models.errors import RotaError

        raise RotaError("the database refused it")


async def test_a_write_outlives_its_screen_and_still_reports(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        toasts = record_toasts(app)
        screen = PausingScreen()
        await app.push_screen(screen)
        screen.pause("Friday check-in")
        screen.fail()
        await app.pop_screen()
        assert not screen.is_attached
        PausingScreen.gate.set()
        await settle(pilot, app)
        for _ in range(400):  # the machine may be busy: up to 20 s
            if len(toasts) >= 2:
                break
            await pilot.pause(0.05)
        assert Workflow.get(Workflow.name == "Friday check-in").status == "paused"
        assert ("information", '"Friday check-in" is paused.') in toasts
        assert ("error", "the database refused it") in toasts


class CountingScreen(WorkerReports, Screen):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[int] = []

    def compose(self):
        yield Static("counting")

    @db_read("count")
    def count(self, delay: float) -> int:
        import time

        time.sleep(delay)
        assert Workflow.select().count() == 3  # a real read, in the worker's connection
        return int(delay * 10)

    def worker_succeeded(self, worker) -> None:
        self.results.append(worker.result)


async def test_a_newer_read_supersedes_an_older_one(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        screen = CountingScreen()
        await app.push_screen(screen)
        first = screen.count(0.5)
        second = screen.count(0.1)
        await settle(pilot, app)
        assert first.is_cancelled and first.state != WorkerState.SUCCESS and second.state == WorkerState.SUCCESS
        assert screen.results == [1]  # the old, slower read never lands late
