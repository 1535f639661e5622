"""The dialog that adds or edits one criteria filter: property, operator, value.

The operators offered come from ``models.criteria.OPERATORS_BY_TYPE`` and the value
editor follows the operator (a checkbox list for enumeration options, two fields for
"between", a day count, a date with its format…). Before it closes the filter is run
through ``validate_criteria``, the same check saving does, so a filter that leaves this
dialog is one the workflow will accept, in its normal form.
"""
from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, Static

from models.associations import choice_key, filter_target, property_choices
from models.criteria import OPERATOR_LABELS, OPERATORS_BY_TYPE, validate_criteria
from models.errors import RotaError
from models.objects import Prop
from tui.screens.form_dialog import FormDialog

NO_VALUE = {"known", "unknown", "is_true", "is_false"}
LIST_VALUE = {"is_any_of", "is_none_of"}
DAYS_VALUE = {"in_last_days", "in_next_days", "more_than_days_ago"}
HINTS = {"date": "YYYY-MM-DD", "datetime": "YYYY-MM-DD", "number": "a number, e.g. 1000"}


def value_kind(prop: Prop, op: str) -> str:
    """Which value editor an operator on a property needs."""
    if op in NO_VALUE:
        return "none"
    if op in DAYS_VALUE:
        return "days"
    if op == "between":
        return "pair"
    if op in LIST_VALUE:
        return "options" if prop.type == "enumeration" else "list"
    return "single"


class FilterDialog(FormDialog[dict]):
    """Dismisses with the normalized filter, or None when cancelled."""

    PREFIX = "fd"
    NOUN = "filter"

    DEFAULT_CSS = """
    FilterDialog > #fd-box { width: 72; }
    FilterDialog #fd-body { height: auto; max-height: 16; }
    FilterDialog .fd-row { height: auto; margin-bottom: 1; }
    FilterDialog .fd-label { width: 10; padding-top: 0; }
    FilterDialog Select, FilterDialog Input { width: 1fr; }
    FilterDialog #fd-value { height: auto; }
    FilterDialog SelectionList { height: auto; max-height: 8; width: 1fr; }
    """

    def __init__(self, object_type: str, initial: dict | None = None, target: str = "") -> None:
        super().__init__(initial, target)
        self.object_type = object_type
        self.props = property_choices(object_type)  # own properties, then "company.num_employees" …
        self._built: tuple | None = None  # (property, operator) the value editor was built for

    def compose_fields(self) -> Iterable[Widget]:
        prop_name = choice_key(self.initial)
        with Horizontal(classes="fd-row"):
            yield Label("Property", classes="fd-label")
            yield Select([(p.label, key) for key, p in self.props.items()], prompt="type to search",
                         value=prop_name if prop_name in self.props else Select.NULL,
                         compact=True, id="fd-prop")
        with Horizontal(classes="fd-row"):
            yield Label("Operator", classes="fd-label")
            yield Select([], prompt="pick a property first", compact=True, id="fd-op")
        with Horizontal(classes="fd-row"):
            yield Label("Value", classes="fd-label")
            yield Vertical(id="fd-value")

    async def on_mount(self) -> None:
        self._fill_operators(self.initial.get("operator"))
        await self._build_value_editor(self.initial.get("value"))
        self.query_one("#fd-prop").focus()

    # ------------------------------------------------------------------ state

    @property
    def prop(self) -> Prop | None:
        value = self.query_one("#fd-prop", Select).value
        return self.props.get(value) if isinstance(value, str) else None

    @property
    def operator(self) -> str | None:
        value = self.query_one("#fd-op", Select).value
        return value if isinstance(value, str) else None

    def _fill_operators(self, wanted: str | None = None) -> None:
        """Offer the operators of the chosen property's type, keeping the current one if it applies."""
        select = self.query_one("#fd-op", Select)
        prop = self.prop
        if prop is None:
            select.set_options([])
            return
        ops = OPERATORS_BY_TYPE[prop.type]
        keep = wanted if wanted in ops else (self.operator if self.operator in ops else ops[0])
        select.set_options([(OPERATOR_LABELS[o], o) for o in ops])
        select.value = keep

    async def _build_value_editor(self, value=None) -> None:
        """Replace the value widgets with the ones this property and operator need."""
        prop, op = self.prop, self.operator
        key = (prop.name if prop else None, op)
        if key == self._built:
            return
        self._built = key
        box = self.query_one("#fd-value", Vertical)
        await box.remove_children()
        if prop is None or op is None:
            await box.mount(Static("—", classes="fd-none"))
            return
        kind = value_kind(prop, op)
        hint = HINTS.get(prop.type, "")
        widgets = []
        if kind == "none":
            widgets.append(Static("(this operator takes no value)", classes="fd-none"))
        elif kind == "days":
            widgets.append(Input("" if value is None else str(value), placeholder="number of days, e.g. 30",
                                 type="integer", compact=True, id="fd-v1"))
        elif kind == "pair":
            lo, hi = (value if isinstance(value, list) and len(value) == 2 else ["", ""])
            widgets.append(self.stored_input(str(lo), placeholder=f"from {hint}".strip(), compact=True, id="fd-v1"))
            widgets.append(self.stored_input(str(hi), placeholder=f"to {hint}".strip(), compact=True, id="fd-v2"))
        elif kind == "options":
            chosen = set(value or [])
            widgets.append(SelectionList(*[(label, name, name in chosen) for name, label in prop.options],
                                         id="fd-options"))
        elif kind == "list":
            text = ", ".join(value) if isinstance(value, list) else ""
            widgets.append(self.stored_input(text, placeholder="values separated by commas", compact=True, id="fd-v1"))
        else:
            widgets.append(self.stored_input("" if value is None else str(value), placeholder=hint or "value",
                                             compact=True, id="fd-v1"))
        if hint and kind in ("single", "pair"):
            widgets.append(Static(f"format: {hint}", classes="fd-hint"))
        await box.mount_all(widgets)

    def filter_value(self) -> dict:
        """The filter as typed (unvalidated)."""
        prop, op = self.prop, self.operator
        out: dict = {**filter_target(self.query_one("#fd-prop", Select).value if prop else None), "operator": op}
        if prop is None or op is None:
            return out
        kind = value_kind(prop, op)
        if kind == "none":
            return out
        if kind == "options":
            out["value"] = list(self.query_one("#fd-options", SelectionList).selected)
        elif kind == "pair":
            out["value"] = [self.input_text("fd-v1"), self.input_text("fd-v2")]
        elif kind == "list":
            out["value"] = [v.strip() for v in self.input_text("fd-v1").split(",") if v.strip()]
        else:
            out["value"] = self.input_text("fd-v1")
        return out

    # ------------------------------------------------------------------ events

    @on(Select.Changed, "#fd-prop")
    async def _prop_changed(self) -> None:
        self._fill_operators()
        await self._build_value_editor()

    @on(Select.Changed, "#fd-op")
    async def _op_changed(self) -> None:
        if self.prop is None or self.operator is None:
            return
        # Keep a single typed value when switching between, say, "is" and "contains".
        first = self.query("#fd-v1")
        previous = self.input_text("fd-v1") if first and isinstance(first.first(), Input) and not self.query("#fd-v2") else None
        await self._build_value_editor(previous or None)

    def validated(self) -> dict:
        """Validate like saving does; the normal form, or a RotaError saying what to fix."""
        raw = self.filter_value()
        if raw.get("property") is None:
            raise RotaError("Pick a property.")
        return validate_criteria([[raw]], self.object_type, where="filter")[0][0]

    def short_error(self, message: str) -> str:
        return message.split("): ", 1)[-1] if "): " in message else message
