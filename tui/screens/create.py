"""Create a workflow: object type, trigger type, name (issue 6 §3).

The dialog only gathers the three answers and checks the name is free; the workflow
itself is first saved by the editor, so abandoning the editor leaves nothing behind.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from models.errors import RotaError


@dataclass(frozen=True)
class NewWorkflow:
    name: str
    object_type: str
    trigger: str = "schedule"


class CreateScreen(ModalScreen[NewWorkflow | None]):
    """Choose object type (built-in and custom), trigger "Schedule", and a name."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, types: list[tuple[str, str]], taken: set[str] | None = None) -> None:
        """``types``: (label, name) for every object type; ``taken``: existing names
        (folded), so a clash is reported here, before the editor opens."""
        super().__init__()
        self.types = types
        self.taken = {t.strip().lower() for t in (taken or set())}

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="create"):
            yield Static("Create workflow", classes="title")
            yield Label("Object type")
            yield Select(self.types, value=self.types[0][1] if self.types else Select.BLANK,
                         allow_blank=False, id="object_type")
            yield Label("Trigger")
            yield Select([("Schedule", "schedule")], value="schedule", allow_blank=False, id="trigger")
            yield Label("Name")
            yield Input(placeholder="e.g. Friday customer check-in", id="name")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create-button", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def result(self) -> NewWorkflow:
        """The answers, or a RotaError that says what to fix."""
        name = self.query_one("#name", Input).value.strip()
        object_type = self.query_one("#object_type", Select).value
        if not name:
            raise RotaError("Give the workflow a name.")
        if len(name) > 200:
            raise RotaError("A name has at most 200 characters.")
        if name.lower() in self.taken:
            raise RotaError(f'A workflow named "{name}" exists already; choose another name.')
        if object_type is Select.BLANK:
            raise RotaError("Choose an object type.")
        return NewWorkflow(name=name, object_type=str(object_type))

    def submit(self) -> None:
        try:
            self.dismiss(self.result())
        except RotaError as exc:
            self.notify(str(exc), severity="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.submit()

    def action_cancel(self) -> None:
        self.dismiss(None)
