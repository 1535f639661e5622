"""Object types (issue 13 §1): every type with its properties — name, label, type,
enumeration options and required — and the changes an operator makes to them.

Every change goes through ``engine.types`` (the same code as ``rota type import``), so
a change that would break a workflow or lose a value is refused here in the same words.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, DataTable, Header, Input, Label, Select, Static
from textual.worker import Worker

from models.errors import RotaError
from models.objects import NAME_RE, PROPERTY_TYPES
from tui.screens.form_dialog import FormDialog
from tui.text import safe_markup
from tui.widgets import WrappingFooter, column_table, cursor_key, sync_table
from tui.workers import WorkerReports, db_read, db_write


def parse_options(text: str) -> list[dict]:
    """"open, paid:Fully paid" → [{"name": "open", "label": "Open"}, {"name": "paid", "label": "Fully paid"}]."""
    out = []
    for part in text.split(","):
        if not part.strip():
            continue
        name, _, label = part.partition(":")
        name = name.strip()
        out.append({"name": name, "label": label.strip() or name.replace("_", " ").title()})
    return out


def format_options(options: list[dict] | None) -> str:
    return ", ".join(o["name"] if o["label"] == o["name"].replace("_", " ").title() else f'{o["name"]}:{o["label"]}'
                     for o in options or [])


class TypeDialog(FormDialog[dict]):
    """A new object type: name, label, plural."""

    PREFIX = "type"
    NOUN = "object type"
    DEFAULT_CSS = "TypeDialog > .form-box { width: 64; } TypeDialog Label { margin-top: 1; }"

    def compose_fields(self) -> Iterable[Widget]:
        yield Label("Name (lowercase, e.g. invoice)")
        yield Input(id="type-name", placeholder="invoice", compact=True)
        yield Label("Label")
        yield Input(id="type-label", placeholder="Invoice", compact=True)
        yield Label("Plural")
        yield Input(id="type-plural", placeholder="Invoices", compact=True)

    def validated(self) -> dict:
        name = self.query_one("#type-name", Input).value.strip()
        if not NAME_RE.match(name):
            raise RotaError("Name: lowercase letters, digits and _, starting with a letter (e.g. invoice).")
        spec = {"name": name, "properties": []}
        label = self.query_one("#type-label", Input).value.strip()
        plural = self.query_one("#type-plural", Input).value.strip()
        if label:
            spec["label"] = label
        if plural:
            spec["plural"] = plural
        return spec


class PropertyDialog(FormDialog[dict]):
    """Add or edit one property: name, label, type, options (enumerations), required."""

    PREFIX = "prop"
    NOUN = "property"
    DEFAULT_CSS = "PropertyDialog > .form-box { width: 64; } PropertyDialog Label { margin-top: 1; }"

    def compose_fields(self) -> Iterable[Widget]:
        init = self.initial
        yield Label("Name (lowercase, e.g. total)")
        yield Input(init.get("name", ""), id="prop-name", disabled=bool(init), compact=True)
        yield Label("Label")
        yield Input(init.get("label", ""), id="prop-label", placeholder="Total", compact=True)
        yield Label("Type")
        yield Select([(t, t) for t in PROPERTY_TYPES], value=init.get("type", "string"), allow_blank=False,
                     id="prop-type", compact=True)
        yield Label("Options (enumeration): name or name:Label, comma-separated")
        yield Input(format_options(init.get("options")), id="prop-options", placeholder="open, paid:Fully paid",
                    compact=True)
        yield Checkbox("Required (a new record must have a value)", init.get("required", False), id="prop-required")

    def validated(self) -> dict:
        name = self.query_one("#prop-name", Input).value.strip()
        if not NAME_RE.match(name):
            raise RotaError("Name: lowercase letters, digits and _, starting with a letter (e.g. total).")
        ptype = str(self.query_one("#prop-type", Select).value)
        out = {"name": name, "label": self.query_one("#prop-label", Input).value.strip()
               or name.replace("_", " ").title(), "type": ptype,
               "required": self.query_one("#prop-required", Checkbox).value}
        if ptype == "enumeration":
            options = parse_options(self.query_one("#prop-options", Input).value)
            if not options:
                raise RotaError("Options: an enumeration needs at least one option.")
            out["options"] = options
        return out


class TypesScreen(WorkerReports, Screen):
    """Types on the left, the highlighted type's properties on the right."""

    CSS_PATH = "types.tcss"
    HELP_TITLE = "Object types"
    BINDINGS = [
        Binding("n", "new_type", "New type"),
        Binding("a", "add_property", "Add prop", tooltip="Add a property (a new typed column)"),
        Binding("e", "edit_property", "Edit prop", tooltip="Label, type, options or required"),
        Binding("d", "remove_property", "Remove prop", tooltip="Remove a custom property and its values"),
        Binding("i", "import_file", "Import", tooltip="Create or extend a type from a JSON type file"),
        Binding("x", "export_file", "Export", tooltip="Write the type as a JSON type file"),
        Binding("tab", "switch", "Types/properties", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.types: list[dict] = []
        self.current: str | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with Horizontal(id="types-body"):
            yield column_table("types-table", [("name", "Type", 11), ("records", "Records", 7)])
            yield column_table("props-table", [("name", "Property", 16), ("label", "Label", 16),
                                               ("type", "Type", 11), ("req", "Req", 3), ("options", "Options", 28)])
        yield Static("", id="types-status")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#types-table", DataTable).focus()
        self.load()

    @db_read("types-load")
    def load(self) -> list[dict]:
        from engine.types import type_summaries

        return type_summaries()

    @db_write("types-change")
    def change(self, spec: dict) -> list[str]:
        from engine.types import import_type

        return import_type(spec)

    @db_write("types-change")
    def remove_prop(self, type_name: str, prop: str) -> list[str]:
        from engine.types import remove_property

        remove_property(type_name, prop)
        return [f"removed property {prop} from {type_name}"]

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "types-load":
            self.types = worker.result
            self.show()
        elif worker.group == "types-change":
            changes = worker.result
            self.notify("; ".join(changes) if changes else "No changes.")
            self.load()

    def show(self) -> None:
        table = self.query_one("#types-table", DataTable)
        sync_table(table, [(t["name"], (t["name"] if t["builtin"] else f"{t['name']} *", f"{t['records']:,}"))
                           for t in self.types], ["name", "records"])
        names = [t["name"] for t in self.types]
        if self.current not in names:
            self.current = names[0] if names else None
        if self.current is not None and cursor_key(table) != self.current:
            with self.prevent(DataTable.RowHighlighted):
                table.move_cursor(row=names.index(self.current))
        self.show_props()

    def type_info(self) -> dict | None:
        return next((t for t in self.types if t["name"] == self.current), None)

    def show_props(self) -> None:
        info = self.type_info()
        props = info["properties"] if info else []
        rows = [(p["name"], (p["name"], p["label"], p["type"], "yes" if p["required"] else "",
                             format_options(p.get("options")))) for p in props]
        sync_table(self.query_one("#props-table", DataTable), rows, ["name", "label", "type", "req", "options"])
        kind = "built in" if info and info["builtin"] else "custom"
        self.query_one("#types-status", Static).update(
            f"{safe_markup(info['label'])} ({safe_markup(info['name'])}, {kind}): {len(props)} properties, {info['records']:,} records"
            if info else "No object types.")
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "types-table":
            key = cursor_key(event.data_table)  # where the cursor is now, not where a rebuild once put it
            if key is not None and key != self.current:
                self.current = key
                self.show_props()
        self.refresh_bindings()

    def selected_prop(self) -> dict | None:
        key = cursor_key(self.query_one("#props-table", DataTable))
        info = self.type_info()
        return next((p for p in info["properties"] if p["name"] == key), None) if info and key else None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("edit_property", "remove_property") and self.selected_prop() is None:
            return None
        if action in ("add_property", "export_file") and self.current is None:
            return None
        return True

    def action_switch(self) -> None:
        types = self.query_one("#types-table", DataTable)
        (self.query_one("#props-table", DataTable) if types.has_focus else types).focus()

    def action_new_type(self) -> None:
        self.app.push_screen(TypeDialog(), lambda spec: spec and self._created(spec))

    def _created(self, spec: dict) -> None:
        self.current = spec["name"]
        self.change(spec)

    def action_add_property(self) -> None:
        if self.current:
            name = self.current
            self.app.push_screen(PropertyDialog(), lambda p: p and self.change({"name": name, "properties": [p]}))

    def action_edit_property(self) -> None:
        prop = self.selected_prop()
        if prop and self.current:
            name = self.current
            self.app.push_screen(PropertyDialog(prop),
                                 lambda p: p and self.change({"name": name, "properties": [p]}))

    def action_remove_property(self) -> None:
        from tui.screens.confirm import ConfirmScreen

        prop = self.selected_prop()
        if prop and self.current:
            name = self.current
            self.app.push_screen(
                ConfirmScreen(f"Remove {name}.{prop['name']} and every value it holds?", title="Remove property",
                              yes="Remove"),
                lambda yes: yes and self.remove_prop(name, prop["name"]))

    def action_import_file(self) -> None:
        from tui.screens.confirm import AskScreen

        self.app.push_screen(AskScreen("Type file (JSON) to import:", title="Import type"), self._import)

    def _import(self, path: str | None) -> None:
        if not path:
            return
        from engine.types import read_type_file

        try:
            spec = read_type_file(Path(path).expanduser())
        except RotaError as exc:
            self.notify(str(exc), severity="error")
            return
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            self.current = spec["name"].strip()
        self.change(spec)

    def action_export_file(self) -> None:
        from tui.screens.confirm import AskScreen

        if self.current:
            name = self.current
            self.app.push_screen(AskScreen("Write the type file to:", f"{name}.json", title="Export type"),
                                 lambda path: path and self.export(name, path))

    @db_write("types-change")
    def export(self, name: str, path: str) -> list[str]:
        from engine.types import export_type

        spec = export_type(name)
        target = Path(path).expanduser()
        try:
            target.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise RotaError(f"cannot write {target}: {exc.strerror}") from None
        return [f"exported {name} to {target}"]

    def action_back(self) -> None:
        self.dismiss()
