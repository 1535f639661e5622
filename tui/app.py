"""RotaApp: the full-screen application shell.

The app owns what outlives any one screen: the database URL, the clock, the settings,
the engine thread and the single place where failures become toasts. Screens live in
``tui/screens/`` (one per module) and talk to ``engine/`` and ``models/`` through the
service functions, never to the engine thread directly.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.widgets import Input
from textual.worker import Worker

from engine.clock import SystemClock
from models.db import describe
from models.errors import RotaError
from models.settings import Settings, load_settings
from tui.commands import ScreenCommands
from tui.messages import EngineErrorMessage, EngineMessage, EngineStatusMessage, WorkflowsChanged, engine_message
from tui.text import safe_text
from tui.workers import close_write_queue, friendly, show_failure

log = logging.getLogger("rota.tui")


class RotaApp(App[int]):
    """The app: home is the workflows screen; the engine runs in its own thread.

    ``clock`` (anything with ``.now()`` returning aware UTC) is injected so that tests
    and snapshots show fixed times; ``settings`` likewise, so tests never read the
    operator's file.
    """

    TITLE = "Rota"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+p", "command_palette", "Palette", tooltip="Every action of this screen by name",
                priority=True),
    ]

    def __init__(self, db_url: str | None, *, run_engine: bool = True, clock: Any = None,
                 settings: Settings | None = None) -> None:
        super().__init__()
        self.db_url = db_url
        self.clock = clock or SystemClock()
        self.settings = settings or load_settings()
        self.run_engine = run_engine
        self.engine: Any = None
        self.engine_status: Any = None  # the latest engine.events.EngineStatus
        self.engine_note = "" if run_engine else "off (viewer)"
        self.internal_error: str | None = None
        self._last_engine_error: str | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.sub_title = safe_text(describe(db_url))
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme

    # ------------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        from engine import workflows
        from tui.screens.workflows import WorkflowsScreen

        self._unsubscribe = workflows.subscribe(lambda wid: self.post_message(WorkflowsChanged(wid)))
        self.push_screen(WorkflowsScreen())
        if self.run_engine:
            self.start_engine()

    def start_engine(self) -> None:
        """Start the engine thread; if it cannot start, say why and carry on as a viewer."""
        try:
            from engine.engine import Engine

            self.engine = Engine(self.db_url, clock=self.clock, on_event=self._engine_event,
                                 settings=self.settings)
            self.engine.start()
        except Exception as exc:
            log.exception("engine did not start")
            self.engine = None
            self.engine_note = "not running"
            self.notify(f"The engine did not start: {friendly(exc)}", title="Engine", severity="error")

    def stop_engine(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            try:
                engine.stop()
            except Exception:
                log.exception("engine did not stop cleanly")

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.stop_engine()
        close_write_queue(self)

    def wake_engine(self) -> None:
        """Saving a change already wakes the engine through the service layer; this is
        for screens that want to be sure (e.g. right after activating)."""
        if self.engine is not None:
            try:
                self.engine.wake()
            except Exception:
                log.exception("engine wake failed")

    # --------------------------------------------------------- engine → UI bridge

    def _engine_event(self, event: Any) -> None:
        """Called on the engine thread: hand over and return at once."""
        self.post_message(engine_message(event))

    @on(EngineMessage)
    def handle_engine_message(self, message: EngineMessage) -> None:
        """The app's own part (the latest status, an error toast), then a copy of the
        message to each screen in the stack (a screen below the top one keeps its data
        current too; each screen handles the kinds it shows)."""
        if isinstance(message, EngineStatusMessage):
            self.engine_status = message.event
            if not message.event.last_error:
                self._last_engine_error = None
        elif isinstance(message, EngineErrorMessage):
            text = message.event.message or "engine error"
            if text != self._last_engine_error:  # a retrying engine repeats itself; toast once
                self._last_engine_error = text
                self.notify(f"{text} (retrying)", title="Engine", severity="error")
        for screen in self.screen_stack:
            screen.post_message(message.copy())

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A field that gets the focus puts the cursor after its text, so the first key
        adds to the value instead of replacing it. Fields where replacing is the point
        (a proposed name) carry the ``-replace`` class and keep Textual's select-all.

        This one hook covers every Input of every screen, modal dialogs included: the
        focused widget posts ``DescendantFocus`` to its parent after its own focus
        handler (Textual's select-all) ran, and it bubbles up to the screen and then here
        (tests/tui/test_cursor_at_end.py: editor, step dialog, record form, clone)."""
        widget = event.widget
        if isinstance(widget, Input) and not widget.has_class("-replace") and widget.value:
            widget.action_end()

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast (screens' ``self.notify`` come here too) is plain text with control
        characters escaped (``tui.text.safe_text``): a notification names workflows and
        echoes values, which must neither send escape sequences to the terminal nor be
        read as markup (a name with ``[/b]`` would not even render)."""
        super().notify(safe_text(message, keep_lines=True), title=safe_text(title), severity=severity,
                       timeout=timeout, markup=markup)

    def on_workflows_changed(self, message: WorkflowsChanged) -> None:
        for screen in self.screen_stack:
            screen.post_message(WorkflowsChanged(message.workflow_id))

    def engine_line(self) -> str:
        """One line for the status bar: running, next wake, lag."""
        status = self.engine_status
        if self.engine is None:
            return f"Engine {self.engine_note or 'off'}"
        if status is None:
            return "Engine starting…"
        if getattr(status, "last_error", None):
            return f"Engine error: {status.last_error}"
        state = "running" if status.running else "stopped"
        if status.running and not status.active:
            state = "standby (another engine holds the lease)"
        parts = [f"Engine {state}"]
        if status.next_wake_at is not None:
            parts.append(f"next wake {self.local_time(status.next_wake_at)}")
        if status.lag_ms is not None:
            parts.append(f"lag {status.lag_ms / 1000:.1f} s")
        return " · ".join(parts)

    def zone_abbreviation(self) -> str:
        """The operator's zone as column headers name it ("CET"), now."""
        from models.timeutil import zone

        try:
            return self.clock.now().astimezone(zone(self.settings.timezone)).strftime("%Z") or self.settings.timezone
        except RotaError:
            return self.settings.timezone

    def local_time(self, instant, fmt: str = "%d %b %H:%M") -> str:
        """An instant in the operator's time zone (settings), for display."""
        if instant is None:
            return "—"
        from models.timeutil import zone

        return instant.astimezone(zone(self.settings.timezone)).strftime(fmt)

    # ------------------------------------------------------------------ failures

    def worker_failed(self, worker: Worker) -> None:
        """A failed database worker: a toast, details to the log (``tui.workers``)."""
        show_failure(self, worker.error, worker.description or worker.group)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Workers started on the app itself."""
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)

    def _handle_exception(self, error: Exception) -> None:
        """Last line of defence: log the traceback, exit, and let ``run_app`` print one
        line. Textual's default would paint a traceback on the terminal.

        A message handler that raised has already stopped its widget's message loop,
        so carrying on could leave a dead screen; exiting cleanly is the honest choice.
        Pilot tests still see the exception (``_exception`` is what ``run_test``
        re-raises).
        """
        log.error("unhandled error in the app", exc_info=error)
        self.internal_error = friendly(error)
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()

    # ------------------------------------------------------------------- actions

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def action_settings(self) -> None:
        from tui.screens.settings import SettingsScreen

        self.push_screen(SettingsScreen())
