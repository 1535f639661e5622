"""Engine events reach the screens as one Textual message class per event type,
dispatched by type (issue 9 §5), never by the event's class name."""
from __future__ import annotations

import threading
from datetime import timedelta

from textual.message_pump import active_message_pump
from textual.widgets import DataTable, Static

from engine import events
from engine.events import EngineError, EngineEvent, EngineStatus, Misfire, RunFailed, RunFinished, RunStarted, StepsRan
from models.db import db
from models.enums import RunStatus
from models.schema import Workflow
from tests.tui.conftest import FIXED_NOW, settle
from tui.messages import (
    MESSAGES,
    EngineErrorMessage,
    EngineMessage,
    EngineStatusMessage,
    MisfireMessage,
    RunFailedMessage,
    RunFinishedMessage,
    RunStartedMessage,
    StepsRanMessage,
    WorkflowRunMessage,
    engine_message,
)


def all_event_types() -> list[type[EngineEvent]]:
    found, todo = [], [EngineEvent]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def sample_events(wf_id: int, name: str) -> dict[type[EngineEvent], EngineEvent]:
    at = FIXED_NOW
    run = dict(workflow_id=wf_id, workflow_name=name, run_id=None, scheduled_for=at, matched=0, enrolled=0,
               suppressed=0, duration_ms=1.0, lag_ms=0.0)
    return {
        RunStarted: RunStarted(at=at, workflow_id=wf_id, workflow_name=name, scheduled_for=at, lag_ms=0.0),
        RunFinished: RunFinished(at=at, status=RunStatus.SUCCEEDED, **run),
        RunFailed: RunFailed(at=at, status=RunStatus.FAILED, detail="parser stack overflow", **run),
        Misfire: Misfire(at=at, workflow_id=wf_id, workflow_name=name, status=RunStatus.MISSED,
                         scheduled_for=(at - timedelta(hours=1),)),
        StepsRan: StepsRan(at=at, count=3),
        EngineStatus: EngineStatus(at=at, engine_id="e1", running=True, active=True, next_wake_at=None,
                                   lag_ms=None),
        EngineError: EngineError(at=at, message="OperationalError: database is locked", retry_in_s=30.0),
    }


def test_every_engine_event_type_has_its_own_message_class():
    types = all_event_types()
    assert set(types) == {RunStarted, RunFinished, RunFailed, Misfire, StepsRan, EngineStatus, EngineError}
    assert set(MESSAGES) == set(types)  # a new event type fails here until it gets its message
    assert len(set(MESSAGES.values())) == len(types)  # one class each, none shared
    samples = sample_events(1, "w")
    for event_type in types:
        message = engine_message(samples[event_type])
        assert type(message) is MESSAGES[event_type] and message.event is samples[event_type]
        assert isinstance(message, EngineMessage)
        assert not message.bubble  # the app hands a copy to each screen; a bubbling one would come back
    # A failed run is a RunFinished to the engine's old listeners, but its own message here.
    assert type(engine_message(samples[RunFailed])) is RunFailedMessage
    assert isinstance(engine_message(samples[RunFailed]), WorkflowRunMessage)
    assert not isinstance(engine_message(samples[StepsRan]), WorkflowRunMessage)
    # The handler names a screen uses.
    assert RunFinishedMessage.handler_name == "on_run_finished_message"
    assert EngineStatusMessage.handler_name == "on_engine_status_message"
    # The module defines no class-name dispatch any more.
    import inspect

    import tui.messages

    assert "__name__ ==" not in inspect.getsource(tui.messages)
    assert all(hasattr(events, t.__name__) for t in types)


async def test_each_event_reaches_every_screen_as_its_own_message(seeded_db, make_app):
    """The engine's callback (called here from another thread, as the engine does) posts
    one message per event; the app keeps the status, toasts the error, and hands each
    message to every screen in the stack. The screens that show a kind react to it."""
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.history import HistoryScreen
    from tui.screens.inbox import InboxScreen

    seen: list[tuple[str, type]] = []

    def hook(message) -> None:
        if isinstance(message, EngineMessage):
            seen.append((type(active_message_pump.get()).__name__, type(message)))

    app = make_app(seeded_db)
    wf = Workflow.get(Workflow.name == "Friday check-in")
    samples = sample_events(wf.id, wf.name)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot, app)
        home = app.screen
        table = home.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(wf.id)))
        for screen in (DashboardScreen(), HistoryScreen(wf.name), InboxScreen()):
            app.call_later(app.push_screen, screen)  # from the app's task, so the hook sees the screen too
            await settle(pilot, app)
        screens = ["WorkflowsScreen", "DashboardScreen", "HistoryScreen", "InboxScreen"]
        assert [type(s).__name__ for s in app.screen_stack][-4:] == screens
        dashboard, history, inbox = app.screen_stack[-3:]

        def post(event: EngineEvent) -> None:
            thread = threading.Thread(target=app._engine_event, args=(event,))  # as the engine thread does
            thread.start()
            thread.join()

        # A failed run first, alone: what the engine writes before it reports one
        # (models/store/failures.py), then the event.
        from models.store import failures

        assert "last run failed" not in str(home.query_one("#detail", Static).render())
        with db.atomic():
            run = failures.write_failed_run(wf, FIXED_NOW, "parser stack overflow", now=FIXED_NOW, engine_id="e1")
            failures.announce_failure(wf, run, FIXED_NOW, "parser stack overflow", now=FIXED_NOW, in_a_row=1,
                                      next_run_at=None)
        samples[RunFailed] = RunFailed(**{**samples[RunFailed].__dict__, "run_id": run.id})
        post(samples[RunFailed])
        await settle(pilot, app)
        # Each screen that shows a failed run did, while it was open: the dashboard's runs
        # table has it at the top, the inbox its notification, home (underneath) its marker
        # and history its event.
        runs = dashboard.query_one("#dash-runs", DataTable)
        assert runs.coordinate_to_cell_key((0, 0)).row_key.value == str(run.id)
        assert "failed" in " ".join(str(c) for c in runs.get_row_at(0))
        notes = inbox.query_one("#inbox-notes", DataTable)
        assert any("parser stack overflow" in str(notes.get_row_at(i)) for i in range(notes.row_count))
        assert "last run failed" in str(home.query_one("#detail", Static).render())
        assert any(row.get("type") == "run_failed" for row in history.rows)

        for event_type, event in samples.items():
            if event_type is not RunFailed:
                post(event)
                await settle(pilot, app)
        for event_type in samples:
            message_type = MESSAGES[event_type]
            assert ("RotaApp", message_type) in seen, event_type
            for name in screens:
                assert (name, message_type) in seen, (name, event_type)
        assert not any(t is EngineMessage for _, t in seen)  # never the bare base

        # The app kept the status and toasted the error (once).
        assert app.engine_status == samples[EngineStatus]
        toasts = [n.message for n in app._notifications]
        assert toasts.count("OperationalError: database is locked (retrying)") == 1
        assert "Engine running" in str(dashboard.query_one("#dash-engine", Static).render())


def test_the_typed_messages_are_the_only_engine_messages_screens_handle():
    """No screen or the app defines a catch-all handler that switches on class names."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "tui"
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "on_engine_event_message" not in text, path
        assert "EngineEventMessage" not in text, path
        assert ".__name__ ==" not in text and ".__name__ in (" not in text, path
    assert {m for m in (RunStartedMessage, RunFinishedMessage, RunFailedMessage, MisfireMessage,
                        StepsRanMessage, EngineStatusMessage, EngineErrorMessage)} == set(MESSAGES.values())
