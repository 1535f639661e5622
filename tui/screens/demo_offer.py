"""First run on an empty database: offer to load demo data (issue 6 §1).

Asked once per start, only when there are no workflows and no records, so an operator
who declines is not nagged within a session; the answer is a ``ModalScreen[bool]``.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class DemoOfferScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Load demo"),
        Binding("n,escape", "answer(False)", "Start empty"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Welcome to Rota", classes="title")
            yield Label("This database is empty. Load demo data — a few thousand contacts, "
                        "companies, deals and tickets, and sample workflows — to look around?")
            yield Static("You can load more later with `rota demo --contacts N`.", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Start empty", id="no")
                yield Button("Load demo data", id="yes", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
