"""The dialog that adds or edits one action step, with a form per step type.

The step shapes and their validation live in ``engine.steps`` (shared with workflow
files and the executor); this dialog only turns fields into that shape and asks
``validate_actions`` before closing, so the error shown here is the one saving would
give. A branch's condition is edited here with the same ``CriteriaEditor`` as the
enrollment criteria; its then/else steps stay in the actions tree, where they can be
reordered like any other step.

Secret webhook header values (and secret URL query values) are shown masked (``***``);
leaving a value masked keeps the stored secret, so opening and closing the dialog never
reveals or loses one. A preview line shows the text field being edited rendered
against a real record (``engine.steps.templates.preview``, read in a thread worker).
"""
from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static
from textual.worker import Worker

from engine.steps.shapes import (
    DELAY_UNITS,
    STEP_TYPES,
    WEBHOOK_METHODS,
    WEEKDAYS,
    mask_headers,
    unmask_url,
    validate_actions,
)
from engine.steps.templates import preview
from engine.webhook import MASK, mask_url
from models.errors import RotaError
from models.objects import get_props
from models.settings import load_settings
from models.timeutil import zone
from tui.screens.filter_dialog import FilterDialog
from tui.screens.form_dialog import FormDialog
from tui.text import safe_text
from tui.widgets.criteria_editor import CriteriaEditor
from tui.workers import WorkerReports, db_read


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _int_or_text(text: str):
    """A whole number when the text is one; otherwise the text, so validation names it."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def headers_text(headers: dict) -> str:
    """Headers as one line, 'Name: value; Name2: value', secrets masked."""
    return "; ".join(f"{k}: {v}" for k, v in mask_headers(headers or {}).items())


def parse_headers(text: str, previous: dict) -> dict:
    """Parse 'Name: value; …'; a masked value takes the previous secret back."""
    out: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        if not sep:
            raise RotaError(f'header "{part.strip()}" needs a colon: "Name: value"')
        name, value = name.strip(), value.strip()
        out[name] = previous.get(name, value) if value == MASK else value
    return out


# The inputs that take {property} templates, and whether their values go into a URL.
TEMPLATE_INPUTS = {"f-value": False, "f-title": False, "f-owner": False, "f-message": False, "f-url": True,
                   "f-subject": False, "f-body": False}


class StepDialog(WorkerReports, FormDialog[dict]):
    """Dismisses with the validated step, or None when cancelled."""

    PREFIX = "sd"
    NOUN = "step"

    DEFAULT_CSS = """
    StepDialog > #sd-box { width: 76; }
    StepDialog #sd-body { height: auto; max-height: 17; }
    StepDialog .sd-row { height: auto; margin-bottom: 1; }
    StepDialog .sd-label { width: 12; }
    StepDialog Select, StepDialog Input { width: 1fr; }
    StepDialog #sd-form { height: auto; }
    StepDialog CriteriaEditor { width: 1fr; }
    StepDialog #sd-preview { color: $text-muted; height: auto; }
    """

    def __init__(self, object_type: str, initial: dict | None = None, target: str = "") -> None:
        super().__init__(initial, target)
        self.object_type = object_type
        self.props = get_props(object_type)
        self._built: str | None = None

    def compose_fields(self) -> Iterable[Widget]:
        kind = self.initial.get("type")
        with Horizontal(classes="sd-row"):
            yield Label("Step type", classes="sd-label")
            yield Select([(label, k) for k, label in STEP_TYPES.items()], prompt="type to search",
                         value=kind if kind in STEP_TYPES else Select.NULL, compact=True,
                         disabled=bool(self.initial), id="sd-type")
        yield Vertical(id="sd-form")
        yield Static("", id="sd-preview")

    async def on_mount(self) -> None:
        await self._build_form()
        first = next((w for w in self.query_one("#sd-form").query("*") if w.focusable), None)
        if self.initial and first is not None:
            first.focus()  # the type is fixed when editing: start on its first field
        else:
            self.query_one("#sd-type").focus()

    @property
    def kind(self) -> str | None:
        value = self.query_one("#sd-type", Select).value
        return value if isinstance(value, str) else None

    # ------------------------------------------------------------------ forms

    def _row(self, label: str, widget) -> Horizontal:
        return Horizontal(Label(label, classes="sd-label"), widget, classes="sd-row")

    def _props_select(self, id: str, value, *, types: tuple[str, ...] | None = None) -> Select:
        options = [(p.label, p.name) for p in self.props.values() if types is None or p.type in types]
        return Select(options, prompt="type to search", value=value if value in self.props else Select.NULL,
                      compact=True, id=id)

    def _input(self, id: str, value, placeholder: str = "", **kw) -> Input:
        return self.stored_input("" if value is None else str(value), placeholder=placeholder, compact=True, id=id, **kw)

    async def _build_form(self) -> None:
        """The fields of the chosen step type, filled from the step being edited."""
        kind = self.kind
        if kind == self._built:
            return
        self._built = kind
        form = self.query_one("#sd-form", Vertical)
        await form.remove_children()
        s = self.initial if self.initial.get("type") == kind else {}
        rows = []
        if kind == "set_property":
            rows += [self._row("Property", self._props_select("f-property", s.get("property"))),
                     self._row("Value", self._input("f-value", s.get("value"), "text, number, YYYY-MM-DD, "
                                                    "true/false or {property}"))]
        elif kind == "copy_property":
            rows += [self._row("From", self._props_select("f-from", s.get("from"))),
                     self._row("To", self._props_select("f-to", s.get("to")))]
        elif kind == "create_task":
            rows += [self._row("Title", self._input("f-title", s.get("title"), "e.g. Call {firstname}")),
                     self._row("Due in days", self._input("f-due", s.get("due_in_days", 0), "0 = today",
                                                          type="integer")),
                     self._row("Owner", self._input("f-owner", s.get("owner"), "optional, e.g. {owner}"))]
        elif kind == "notify":
            rows += [self._row("To", self._input("f-to", ", ".join(s.get("to") or []), "operators, comma-separated")),
                     self._row("Message", self._input("f-message", s.get("message"), "e.g. {firstname} is due")),
                     self._row("Also email", self._input("f-email", ", ".join(s.get("email") or []),
                                                         "optional addresses, comma-separated"))]
        elif kind == "delay":
            unit = "until" if "until" in s else next((u for u in DELAY_UNITS if u in s), "days")
            until = s.get("until") or {}
            rows += [self._row("Delay", Select([(u.capitalize(), u) for u in DELAY_UNITS] +
                                               [("Until a weekday/time", "until")],
                                               value=unit, allow_blank=False, compact=True, id="f-unit")),
                     self._row("Amount", self._input("f-amount", s.get(unit) if unit != "until" else 1,
                                                     "a whole number", type="integer")),
                     self._row("Weekday", Select([("Next day the time comes", "")] +
                                                 [(w.capitalize(), w) for w in WEEKDAYS],
                                                 value=until.get("weekday", ""), allow_blank=False,
                                                 compact=True, id="f-weekday")),
                     self._row("Time", self._input("f-time", until.get("time", "09:00"), "HH:MM"))]
        elif kind == "branch":
            rows += [Label("If the record meets (then/else steps are added in the actions list):"),
                     CriteriaEditor(s.get("criteria") or [], self.object_type, empty_text="No condition", target="the branch condition",
                                    id="f-criteria")]
        elif kind in ("add_to_list", "remove_from_list"):
            rows += [self._row("List", self._input("f-list", s.get("list"), "static list name"))]
        elif kind == "webhook":
            rows += [self._row("URL", self._input("f-url", mask_url(s.get("url")), "https://…/x?id={id}")),
                     self._row("Headers", self._input("f-headers", headers_text(s.get("headers") or {}),
                                                      "Name: value; Name2: value")),
                     self._row("Timeout (s)", self._input("f-timeout", s.get("timeout_s", 10), "1–300",
                                                          type="number")),
                     self._row("Retries", self._input("f-retries", s.get("retries", 3), "0–10", type="integer")),
                     self._row("Method", Select([(m, m) for m in WEBHOOK_METHODS], value=s.get("method", "POST"),
                                                allow_blank=False, compact=True, id="f-method"))]
        elif kind == "send_email":
            rows += [self._row("To property", self._props_select("f-to-property", s.get("to_property", "email"),
                                                                 types=("string",))),
                     self._row("Subject", self._input("f-subject", s.get("subject"), "e.g. Renewal, {firstname}")),
                     self._row("Body", self._input("f-body", s.get("body"), "e.g. Dear {firstname}, …"))]
        else:
            rows.append(Static("Pick a step type (enter opens the list; type to search)."))
        await form.mount_all(rows)
        first = next((i for i in TEMPLATE_INPUTS if form.query(f"#{i}")), None)
        self._preview(first)
        self._show_delay_rows()

    def _show_delay_rows(self) -> None:
        if self.kind != "delay":
            return
        until = self.query_one("#f-unit", Select).value == "until"
        self.query_one("#f-amount").parent.display = not until
        self.query_one("#f-weekday").parent.display = until
        self.query_one("#f-time").parent.display = until

    def _value(self, id: str) -> str:
        return self.input_text(id)

    def _select(self, id: str):
        value = self.query_one(f"#{id}", Select).value
        return value if isinstance(value, str) else None

    def step_value(self) -> dict:
        """The step as typed (unvalidated); raises RotaError for text that cannot be parsed."""
        kind = self.kind
        step: dict = {"type": kind}
        if kind == "set_property":
            step.update(property=self._select("f-property"), value=self._value("f-value"))
        elif kind == "copy_property":
            step.update({"from": self._select("f-from"), "to": self._select("f-to")})
        elif kind == "create_task":
            step.update(title=self._value("f-title"), due_in_days=_int_or_text(self._value("f-due") or "0"))
            if self._value("f-owner").strip():
                step["owner"] = self._value("f-owner").strip()
        elif kind == "notify":
            step.update(to=_csv(self._value("f-to")), message=self._value("f-message"))
            if _csv(self._value("f-email")):
                step["email"] = _csv(self._value("f-email"))
        elif kind == "delay":
            unit = self.query_one("#f-unit", Select).value
            if unit == "until":
                until = {"time": self._value("f-time").strip()}
                if self._select("f-weekday"):
                    until = {"weekday": self._select("f-weekday"), **until}
                step["until"] = until
            else:
                step[unit] = _int_or_text(self._value("f-amount"))
        elif kind == "branch":
            step.update(criteria=self.query_one("#f-criteria", CriteriaEditor).groups,
                        then=self.initial.get("then") or [], **{"else": self.initial.get("else") or []})
        elif kind in ("add_to_list", "remove_from_list"):
            step["list"] = self._value("f-list")
        elif kind == "webhook":
            timeout = self._value("f-timeout").strip()
            try:
                timeout_value = float(timeout) if "." in timeout else int(timeout)
            except ValueError:
                timeout_value = timeout
            if self._select("f-method") not in (None, "POST") or "method" in self.initial:
                step["method"] = self._select("f-method")
            step.update(url=unmask_url(self._value("f-url").strip(), [self.initial.get("url")]),
                        headers=parse_headers(self._value("f-headers"), self.initial.get("headers") or {}),
                        timeout_s=timeout_value, retries=_int_or_text(self._value("f-retries")))
        elif kind == "send_email":
            step.update(to_property=self._select("f-to-property"), subject=self._value("f-subject"),
                        body=self._value("f-body"))
        return step

    # ------------------------------------------------------------------ preview

    def _preview(self, input_id: str | None) -> None:
        if input_id is None:
            self._show_preview("")
            return
        self._render_preview(self.input_text(input_id), TEMPLATE_INPUTS[input_id])

    @db_read("sd-preview")
    def _render_preview(self, text: str, url: bool) -> str:
        """Read one record and render ``text`` against it, off the UI thread."""
        if "{" not in text:
            line = ""
        else:
            try:
                rendered, record_id = preview(text, self.object_type, zone(load_settings().timezone), url=url)
            except RotaError as exc:
                rendered, record_id = str(exc), None
            line = (f"Preview ({self.object_type} {record_id}): {rendered}" if record_id is not None
                    else f"Preview: no {self.object_type} record to fill {{…}} from yet")
        return line

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.name == "_render_preview":
            self._show_preview(worker.result)

    def _show_preview(self, line: str) -> None:
        if self.is_attached:
            self.query_one("#sd-preview", Static).update(Text(safe_text(line)))  # record text: never markup, control characters escaped

    # ------------------------------------------------------------------ events

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id in TEMPLATE_INPUTS:
            self._preview(event.input.id)

    @on(Select.Changed, "#sd-type")
    async def _type_changed(self) -> None:
        await self._build_form()

    @on(Select.Changed, "#f-unit")
    def _unit_changed(self) -> None:
        self._show_delay_rows()

    @on(CriteriaEditor.FilterWanted)
    def _filter_wanted(self, message: CriteriaEditor.FilterWanted) -> None:
        """A branch's condition editor asks for a filter."""
        message.stop()
        self.app.push_screen(FilterDialog(message.object_type, message.filter, target=message.target), message.done)

    def validated(self) -> dict:
        """The step in its normal form, checked as saving checks it."""
        if self.kind is None:
            raise RotaError("Pick a step type.")
        return validate_actions([self.step_value()], self.object_type)[0]

    def short_error(self, message: str) -> str:
        return message.split("): ", 1)[-1] if message.startswith("actions step 1") else message
