"""The frame shared by the editor's form dialogs (filter, step): a titled box with the
fields, an error line, OK (ctrl+s) and Cancel (escape).

OK runs the subclass's ``validated()`` — the same check saving does — and dismisses
with its result; a RotaError stays in the dialog as one line on the error row, so what
leaves a dialog is always something the workflow will accept.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Select, Static

from models.errors import RotaError
from tui.labels import humanize
from tui.screens.confirm import discard_or_keep
from tui.text import safe_markup, safe_text
from tui.widgets import WrappingFooter

T = TypeVar("T")


class FormDialog(ModalScreen[T | None], Generic[T]):
    """Subclasses set ``PREFIX`` (their widget ids: ``<prefix>-box``, ``-body``,
    ``-error``, ``-ok``, ``-cancel``) and implement ``compose_fields`` and ``validated``."""

    PREFIX = "form"
    NOUN = "item"

    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > .form-box {
        max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    FormDialog .form-error { color: $error; height: auto; }
    FormDialog .form-buttons { height: auto; align-horizontal: right; }
    FormDialog Button { min-width: 10; margin-left: 1; }
    """

    BINDINGS = [
        Binding("ctrl+s", "ok", "OK", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, initial: dict | None = None, target: str = "") -> None:
        """``target`` says where the item goes, for the title: "to suppression",
        "in branch 3 · then"."""
        super().__init__()
        self.initial = dict(initial or {})
        self.target = target
        self._stored_text: dict[str, str] = {}

    def stored_input(self, raw: str, **kw) -> Input:
        """An Input for stored text: control characters show escaped (``\\x1b``, never raw
        to the terminal), and ``input_text`` gives the stored text back while the field
        still shows it unchanged."""
        self._stored_text[kw["id"]] = raw
        return Input(safe_text(raw), **kw)

    def input_text(self, id: str) -> str:
        """The text of Input ``#id``: as typed, or the stored text if it is unchanged."""
        value = self.query_one(f"#{id}", Input).value
        raw = self._stored_text.get(id)
        return raw if raw is not None and value == safe_text(raw) else value

    def title_text(self) -> str:
        """ "Add filter to suppression", "Edit step in branch 3 · then"."""
        verb = "Edit" if self.initial else "Add"
        where = self.target
        if where and self.initial:
            where = where.replace("to ", "in ", 1) if where.startswith("to ") else where
        return f"{verb} {self.NOUN} {where}".strip()

    def compose_fields(self) -> Iterable[Widget]:
        raise NotImplementedError

    def validated(self) -> T:
        """The value to dismiss with; raise RotaError with what to fix."""
        raise NotImplementedError

    def short_error(self, message: str) -> str:
        """The error as shown in the dialog (subclasses drop their own location prefix)."""
        return message

    def compose(self) -> ComposeResult:
        p = self.PREFIX
        with Vertical(id=f"{p}-box", classes="form-box") as box:
            box.border_title = self.title_text()
            with VerticalScroll(id=f"{p}-body", can_focus=False):
                yield from self.compose_fields()
            yield Static("", id=f"{p}-error", classes="form-error")
            with Horizontal(id=f"{p}-buttons", classes="form-buttons"):
                yield Button("OK ^s", variant="primary", id=f"{p}-ok", compact=True)
                yield Button("Cancel esc", id=f"{p}-cancel", compact=True)
        yield WrappingFooter(compact=True, show_command_palette=False)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_ok()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.PREFIX}-ok":
            self.action_ok()
        elif event.button.id == f"{self.PREFIX}-cancel":
            self.action_cancel()

    def action_ok(self) -> None:
        try:
            value = self.validated()
        except RotaError as exc:
            self.show_error(self.short_error(str(exc)))
            return
        self.dismiss(value)

    def show_error(self, message: str) -> None:
        self.query_one(f"#{self.PREFIX}-error", Static).update(safe_markup(humanize(message, getattr(self, "props", None))))
        self.app.bell()

    def on_mount(self) -> None:
        # After the fields settle (Selects post their first values), what is shown is
        # the baseline that Escape compares against.
        self.call_after_refresh(self._set_baseline)

    def _set_baseline(self) -> None:
        self._baseline = self.form_state()

    def form_state(self) -> list:
        """Every field's value, to tell whether anything was changed."""
        state: list = []
        for widget in self.query(f"#{self.PREFIX}-body *"):
            if isinstance(widget, (Input, Select, Checkbox)):
                state.append((widget.id, widget.value))
            elif hasattr(widget, "groups") and widget.id:  # a criteria editor
                state.append((widget.id, widget.groups))
        return state

    @property
    def changed(self) -> bool:
        return getattr(self, "_baseline", None) is not None and self.form_state() != self._baseline

    def action_cancel(self) -> None:
        """Close; with changes, ask first (nothing typed is thrown away unasked)."""
        if not self.changed:
            self.dismiss(None)
            return
        discard_or_keep(self, f"Discard this {self.NOUN}? What you typed here is lost.")
