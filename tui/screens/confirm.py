"""The two small questions every screen asks: "are you sure?" and "what name / path?".

Both are ``ModalScreen[T]`` dialogs that ``dismiss`` their answer; callers pass a
callback to ``push_screen``. They share this module because they are one idea (a
one-question dialog) and neither has logic of its own.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.text import safe_markup, safe_text


class ConfirmScreen(ModalScreen[bool]):
    """Yes / no. Escape or "n" answers no; "y" answers yes. Focus starts on the safe
    choice (No) so a stray Enter never deletes anything."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, *, title: str = "Confirm", yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.title_text = title
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="title")
            yield Label(safe_markup(self.question, keep_lines=True), id="question")
            with Horizontal(classes="buttons"):
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


def discard_or_keep(screen: ModalScreen, question: str, result=None) -> None:
    """Escape on a form with changes: ask, and close ``screen`` with ``result`` only if
    the answer is Discard (Keep editing, the focused default, leaves it as it is)."""
    screen.app.push_screen(ConfirmScreen(question, title="Unsaved changes", yes="Discard", no="Keep editing"),
                           lambda discard: discard and screen.dismiss(result))


class AskScreen(ModalScreen[str | None]):
    """One line of text (a new name, a file path). Enter accepts, Escape cancels (None).
    An empty answer is refused in place rather than passed on."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", *, title: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            if self.title_text:
                yield Static(self.title_text, classes="title")
            yield Label(safe_markup(self.question, keep_lines=True))
            # A proposal: typing replaces it (selected, and the hint says so); End edits it.
            # Shown as saved: control characters in a proposal (a stored name) escaped.
            yield Input(safe_text(self.value), placeholder=self.placeholder, id="answer", classes="-replace")
            hint = "Typing replaces the proposal (End to edit it) · " if self.value else ""
            yield Static(f"{hint}Enter to accept · Escape to cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.notify("Type something first, or press Escape to cancel.", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
