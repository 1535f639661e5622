"""Add or edit one record: a ``ModalScreen[int | None]`` with one field per property.

Fields follow the property type: an Input for text, numbers, dates and date-times
(with a hint of the expected shape), a Select for enumerations (options by label) and
for booleans. Values are converted and checked by ``models.objects`` (the same rules
as CSV import), and the write happens here, in a worker, so that a ``RotaError``
("property "amount": expected a number, got "abc"") is shown in the form and the
operator fixes it in place. Dismisses with the record id once saved.
"""
from __future__ import annotations

from datetime import date, datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import Worker

from models.errors import RotaError
from tui.screens.confirm import discard_or_keep
from tui.text import safe_markup, safe_text
from tui.workers import WorkerReports, db_write

HINTS = {"number": "a number, e.g. 1200.50", "date": "YYYY-MM-DD", "datetime": "YYYY-MM-DD HH:MM",
         "string": ""}
SKIPPED = ("createdate", "updated_at")  # kept by the database, not typed by hand


def field_text(prop, value, tz_name: str) -> str:
    """A stored value as the text an Input starts with."""
    from models.timeutil import zone

    if value is None:
        return ""
    if prop.type == "datetime" and isinstance(value, datetime):
        return value.astimezone(zone(tz_name)).strftime("%Y-%m-%d %H:%M")
    if prop.type == "date" and isinstance(value, date):
        return value.isoformat()
    if prop.type == "number":
        number = float(value)
        return str(int(number)) if number.is_integer() else str(number)
    return str(value)


class RecordFormScreen(WorkerReports, ModalScreen[int | None]):
    """``props`` are ``models.objects.Prop``; ``values`` the stored record (edit) or None (add)."""

    CSS_PATH = "record_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, type_name: str, props: list, values: dict | None = None, *, tz_name: str = "UTC") -> None:
        super().__init__()
        self.type_name = type_name
        self.props = [p for p in props if p.name not in SKIPPED]
        self.values = values or {}
        self.record_id = self.values.get("id")
        self.tz_name = tz_name

    def compose(self) -> ComposeResult:
        title = f"Edit {self.type_name} {self.record_id}" if self.record_id else f"New {self.type_name}"
        with Vertical(classes="dialog", id="record-form"):
            yield Static(title, classes="title")
            with VerticalScroll(id="record-fields"):
                for prop in self.props:
                    yield Label(safe_markup(prop.label) + (" *" if prop.required else ""))
                    yield self.field_for(prop)
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")
            yield Static("ctrl+s saves · Escape cancels", classes="hint")

    def field_for(self, prop):
        value = self.values.get(prop.name)
        fid = f"f-{prop.name}"
        if prop.type == "enumeration":
            return Select([(safe_markup(label), name) for name, label in prop.options], id=fid, prompt="(none)",
                          value=value if value in prop.option_names else Select.NULL)
        if prop.type == "bool":
            return Select([("yes", "true"), ("no", "false")], id=fid, prompt="(unknown)",
                          value=Select.NULL if value is None else ("true" if value else "false"))
        # Control characters in a stored value show escaped (\x1b), never raw; left as
        # shown, the field keeps the stored value (read_values).
        return Input(safe_text(field_text(prop, value, self.tz_name)), placeholder=HINTS.get(prop.type, ""), id=fid)

    def on_mount(self) -> None:
        self.query_one("#form-error", Static).display = False
        fields = self.query("#record-fields > Input, #record-fields > Select")
        if fields:
            fields.first().focus()
        self._baseline = self.read_values()  # what Escape compares against

    @property
    def changed(self) -> bool:
        return getattr(self, "_baseline", None) is not None and self.read_values() != self._baseline

    def read_values(self) -> dict[str, object]:
        """Raw text per property (None for an empty Select): conversion is the model's job."""
        out: dict[str, object] = {}
        for prop in self.props:
            widget = self.query_one(f"#f-{prop.name}")
            if isinstance(widget, Select):
                out[prop.name] = None if widget.value is Select.NULL else widget.value
            else:
                stored = field_text(prop, self.values.get(prop.name), self.tz_name)
                out[prop.name] = stored if widget.value == safe_text(stored) else widget.value
        return out

    def action_save(self) -> None:
        self.save(self.read_values())

    @db_write("record-save")
    def save(self, values: dict) -> int:
        from models.objects import create_record, update_record

        now = self.app.clock.now()
        if self.record_id:
            update_record(self.type_name, self.record_id, values, now=now, tz_name=self.tz_name)
            return int(self.record_id)
        return int(create_record(self.type_name, values, now=now, tz_name=self.tz_name))

    def worker_succeeded(self, worker: Worker) -> None:
        self.dismiss(worker.result)

    def worker_error(self, worker: Worker) -> bool:
        """A refused value stays in the form with the reason; anything else is the app's
        usual error toast (and the form stays open so nothing typed is lost)."""
        if isinstance(worker.error, RotaError):
            self.show_error(str(worker.error), field=worker.error.field)
            return True
        return False

    def show_error(self, text: str, field: str | None = None) -> None:
        """The refusal under the form; the property it is about (the error's ``field``)
        is marked and focused."""
        box = self.query_one("#form-error", Static)
        box.update(safe_markup(text))
        box.display = True
        named = set((field or "").split(","))
        for prop in self.props:
            widget = self.query_one(f"#f-{prop.name}")
            widget.set_class(prop.name in named, "-invalid")
        first = next((p for p in self.props if p.name in named), None)
        if first is not None:
            self.query_one(f"#f-{first.name}").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        """Close; with changes, ask first (nothing typed is thrown away unasked)."""
        if not self.changed:
            self.dismiss(None)
            return
        noun = f"{self.type_name} {self.record_id}" if self.record_id else f"new {self.type_name}"
        discard_or_keep(self, f"Discard your changes to this {noun}? What you typed here is lost.")
