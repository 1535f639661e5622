"""Activation is deliberate (issue 11 §6): before a workflow goes live — ``a`` on the
home screen, ``ctrl+t`` in the editor, Activate on the review screen — this dialog shows
the records meeting the criteria now, the next run (in the operator's zone, and the
workflow's where it differs) and the actions, one line each.

``PreviewDialog`` is the frame the confirmation dialogs share: what they show is read
in a worker, and until it has arrived the confirm key does nothing — a second key
press while the counts load never confirms something the operator has not seen.
Escape (or "n") cancels: the dialog dismisses False and the caller writes nothing.

A caller that can show a refusal better than the dialog can (the workflow editor puts
it on the offending field and focuses it, as a save does) passes ``refused``: on a
``RotaError`` the dialog dismisses False and hands the error to it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import Worker

from models.errors import RotaError
from models.settings import load_settings
from models.timeutil import utcnow
from tui.text import safe_markup
from tui.workers import WorkerReports, db_read, friendly

log = logging.getLogger("rota.tui")


class PreviewDialog(WorkerReports, ModalScreen[bool]):
    """Read something in a worker, show it, then ask. Subclasses give ``compute`` (in the
    worker thread, database open) and ``describe`` (the result as rich text)."""

    CSS_PATH = "activate_dialog.tcss"
    BINDINGS = [
        Binding("y,enter", "confirm", "Confirm", priority=True),
        Binding("n,escape", "cancel", "Cancel"),
    ]
    TITLE_TEXT = "Confirm"
    CONFIRM_LABEL = "Confirm"
    LOADING = "Counting the records meeting the criteria…"

    def __init__(self, *, clock: Callable[[], datetime] | None = None,
                 refused: Callable[[RotaError], None] | None = None) -> None:
        super().__init__()
        self.ready = False
        self.result_value = None
        self._clock = clock
        self._refused = refused

    def now(self) -> datetime:
        """The caller's clock, else the app's (tests move it), else the real time."""
        if self._clock is not None:
            return self._clock()
        clock = getattr(self.app, "clock", None)
        return clock.now() if clock is not None else utcnow()

    def operator_timezone(self) -> str:
        settings = getattr(self.app, "settings", None) or load_settings()
        return settings.timezone

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog preview-dialog"):
            yield Static(self.TITLE_TEXT, classes="title", id="pd-title")
            with VerticalScroll(id="pd-scroll"):
                yield Static(self.LOADING, id="pd-body")
            yield Static("Enter or y: " + self.CONFIRM_LABEL.lower() + " · Escape: cancel", classes="hint",
                         id="pd-hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="pd-cancel")
                yield Button(self.CONFIRM_LABEL, id="pd-confirm", variant="success", disabled=True)

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False  # keys decide; Enter on a focused button would bypass the wait
        self.load()

    @db_read("preview")
    def load(self):
        return self.compute()

    def compute(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def describe(self, value) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "preview":
            self.result_value = worker.result
            self.query_one("#pd-body", Static).update(self.describe(self.result_value))
            self.ready = True
            self.query_one("#pd-confirm", Button).disabled = False
            self.refresh_bindings()

    def worker_error(self, worker: Worker) -> bool:
        """Shown in the dialog, in words (the details go to the log)."""
        if worker.group != "preview":
            return False
        log.info("preview failed", exc_info=worker.error)
        if self._refused is not None and isinstance(worker.error, RotaError):
            refused, error = self._refused, worker.error
            self.dismiss(False)
            self.app.call_later(refused, error)  # once the dialog is gone, so the focus stays put
            return True
        self.query_one("#pd-body", Static).update(f"[b]Cannot go on:[/b] {_esc(friendly(worker.error))}")
        self.query_one("#pd-hint", Static).update("Escape: back")
        return True

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "confirm" and not self.ready:
            return None  # shown dim until there is something to confirm
        return True

    def action_confirm(self) -> None:
        if self.ready:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "pd-confirm":
            self.action_confirm()
        else:
            self.action_cancel()


class ActivateDialog(PreviewDialog):
    """Confirm activating (or resuming) a stored workflow (``name``) or the editor's body."""

    TITLE_TEXT = "Activate workflow"
    CONFIRM_LABEL = "Activate"

    def __init__(self, workflow: str | dict, *, clock: Callable[[], datetime] | None = None,
                 refused: Callable[[RotaError], None] | None = None) -> None:
        super().__init__(clock=clock, refused=refused)
        self.workflow = workflow

    def compute(self):
        from engine.preview_change import preview_activation

        return preview_activation(self.workflow, now=self.now())

    def describe(self, value) -> str:
        from engine.identity import format_instant

        a = value
        if a.resume:
            self.query_one("#pd-title", Static).update("Resume workflow")
            self.query_one("#pd-confirm", Button).label = "Resume"
            self.query_one("#pd-hint", Static).update("Enter or y: resume · Escape: cancel")
        tz = self.operator_timezone()
        lines = [f"[b]{_esc(a.name)}[/b] goes live: at every scheduled run, every record meeting "
                 "the criteria then is enrolled and the actions run.",
                 "",
                 f"Meeting the criteria now: [b]{_esc(a.counts.words())}[/b]",
                 f"Next run: [b]{_esc(format_instant(a.next_run, tz, a.timezone))}[/b]",
                 ""]
        if a.actions:
            lines.append("Actions:")
            lines += [f"  {_esc(line)}" for line in a.actions]
        else:
            lines.append("Actions: none (records are enrolled, nothing else happens)")
        return "\n".join(lines)


def _esc(text) -> str:
    return safe_markup(text, keep_lines=True)
