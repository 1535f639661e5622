"""Records (SPEC §1): pick an object type, page through its records, add and edit
them, and enroll the highlighted record in a workflow by hand (SPEC §3).

The table is bounded: ``PAGE`` rows at a time, keyset-paged by id (``id > last`` for
the next page, a stack of page starts for the previous one), so the millionth page
costs what the first does. The optional search is a case-insensitive "contains" on
one chosen text property (equality for other types), pushed into the same query.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from models.errors import RotaError
from tui.screens.enroll_dialog import EnrollCheckDialog
from tui.widgets import WrappingFooter, cursor_key
from tui.workers import WorkerReports, db_read, db_write

PAGE = 100
SHOWN_PROPS = 4  # besides the id: what fits 80 columns
PROP_WIDTH = 15


@dataclass(frozen=True)
class RecordPage:
    type_name: str
    columns: list[tuple[str, str]]  # (property name, label)
    rows: list[tuple[int, tuple[str, ...]]]
    start_after: int  # the keyset bound this page was read with (0 = first page)
    more: bool


def type_choices() -> list[tuple[str, str]]:
    from models.objects import list_types

    return [(t.label, t.name) for t in list_types()]


def read_page(type_name: str, after: int, search_prop: str | None, search: str, tz_name: str) -> RecordPage:
    """Up to PAGE records with id > ``after``, in id order, optionally filtered."""
    from engine.steps.templates import display_value
    from models.objects import get_props, record_model
    from models.timeutil import zone

    model = record_model(type_name)
    props = get_props(type_name)
    shown = [p for p in props.values() if p.name not in ("createdate", "updated_at")][:SHOWN_PROPS]
    q = model.select().where(model.id > after)
    if search_prop and search.strip() and search_prop in props:
        q = q.where(search_condition(model, props[search_prop], search, tz_name))
    rows = []
    records = list(q.order_by(model.id).limit(PAGE + 1))
    tz = zone(tz_name)
    for rec in records[:PAGE]:
        rows.append((rec.id, tuple(display_value(p, getattr(rec, p.name), tz) for p in shown)))
    return RecordPage(type_name, [(p.name, p.label) for p in shown], rows, after, len(records) > PAGE)


def search_condition(model, prop, text: str, tz_name: str):
    """Text properties: contains, ignoring case. Others: equal to the converted value
    (a bad value is the operator's to fix: RotaError names the property)."""
    from models.objects import coerce_value

    field = getattr(model, prop.name)
    if prop.type == "string":
        return field.contains(text.strip())
    try:
        value = coerce_value(prop, text, tz_name)
    except ValueError as exc:
        raise RotaError(f'search on "{prop.label}": {exc}') from None
    return field == value


def workflows_for(type_name: str) -> list[tuple[str, str]]:
    """(name, status) of the workflows on this object type, active ones first."""
    from models.objects import get_type
    from models.schema import Workflow

    otype = get_type(type_name)
    rows = Workflow.select(Workflow.name, Workflow.status).where(Workflow.object_type == otype)
    return sorted(((w.name, w.status) for w in rows), key=lambda t: (t[1] != "active", t[0].lower()))


class WorkflowPickScreen(ModalScreen[str | None]):
    """Choose the workflow to enroll a record in. Only active workflows can be chosen
    (``enroll_manual`` refuses others); the rest are listed disabled, with their
    status, so the operator sees why a workflow is missing from the choice."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, record_label: str, workflows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.record_label = record_label
        self.workflows = workflows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Enroll {self.record_label} in…", classes="title")
            if self.workflows:
                yield OptionList(*[Option(name if status == "active" else f"{name} ({status})", id=name,
                                          disabled=status != "active") for name, status in self.workflows],
                                 id="pick")
            else:
                yield Static("No workflow works on this object type yet.")
            yield Static("Enter enrolls (asking first if the record would leave at once) · Escape cancels", classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RecordsScreen(WorkerReports, Screen):
    """Object type, search, a page of records; add / edit / enroll the highlighted one."""

    CSS_PATH = "records.tcss"
    HELP_TITLE = "Records"
    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("enter", "edit", "Edit", show=False),
        Binding("m", "enroll", "Enroll", tooltip="Enroll this record in a workflow"),
        Binding("i", "import_csv", "Import", tooltip="Import records of this type from a CSV file"),
        Binding("right_square_bracket", "page(1)", "Next page", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Prev page", key_display="["),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, type_name: str = "contact") -> None:
        super().__init__()
        self.type_name = type_name
        self.page: RecordPage | None = None
        self.starts: list[int] = []  # keyset bounds of the pages before this one
        self.columns_for: str | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with Horizontal(id="rec-bar"):
            yield Select([], prompt="object type", id="rec-type", allow_blank=True)
            yield Select([], prompt="search in…", id="rec-prop")
            yield Input(placeholder="/ search", id="rec-search")
        table: DataTable = DataTable(id="rec-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="rec-status")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#rec-table", DataTable).focus()
        self.load_types()

    # ---------------------------------------------------------------- loading

    @db_read("records-types")
    def load_types(self):
        from models.objects import get_props

        choices = type_choices()
        props = [(p.label, p.name) for p in get_props(self.type_name).values()]
        return choices, props

    def load(self, after: int) -> None:
        """Read the page after ``after`` with the search as it stands (widgets are read
        here, on the UI thread; the query runs in the worker)."""
        prop = self.query_one("#rec-prop", Select).value
        text = self.query_one("#rec-search", Input).value
        self.fetch(self.type_name, after, None if prop is Select.NULL else str(prop), text)

    @db_read("records-load")
    def fetch(self, type_name: str, after: int, prop: str | None, text: str) -> RecordPage:
        return read_page(type_name, after, prop, text, self.app.settings.timezone)

    @db_read("records-props")
    def load_props(self, type_name: str):
        from models.objects import get_props

        return type_name, [(p.label, p.name) for p in get_props(type_name).values()]

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "records-types":
            choices, props = worker.result
            with self.prevent(Select.Changed):
                self.query_one("#rec-type", Select).set_options(choices)
                self.query_one("#rec-type", Select).value = self.type_name
                self.query_one("#rec-prop", Select).set_options(props)
            self.reload()
        elif worker.group == "records-props":
            type_name, props = worker.result
            with self.prevent(Select.Changed):
                self.query_one("#rec-prop", Select).set_options(props)
            self.reload()
        elif worker.group == "records-load":
            self.page = worker.result
            self.show()
        elif worker.group == "records-enroll":
            text, suppressed = worker.result
            self.notify(text, severity="warning" if suppressed else "information")
        elif worker.group == "records-open":
            self.show_form(*worker.result)
        elif worker.group == "records-pick":
            self.show_picker(*worker.result)

    def reload(self) -> None:
        self.starts = []
        self.load(0)

    def show(self) -> None:
        page = self.page
        table = self.query_one("#rec-table", DataTable)
        if self.columns_for != page.type_name:
            table.clear(columns=True)
            table.add_column("Id", width=7, key="id")
            for name, label in page.columns:
                table.add_column(label, width=PROP_WIDTH, key=name)
            self.columns_for = page.type_name
        selected = self.selected_id()
        table.clear()
        for rid, cells in page.rows:
            table.add_row(str(rid), *cells, key=str(rid))
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)))
        number = len(self.starts) + 1
        count = len(page.rows)
        more = " · ] next page" if page.more else ""
        prev = " · [ previous" if self.starts else ""
        self.query_one("#rec-status", Static).update(
            f"Page {number}: {count} record{'s' if count != 1 else ''}{more}{prev}" if count
            else "No records." if not self.starts else "No more records.")
        self.refresh_bindings()

    def selected_id(self) -> int | None:
        key = cursor_key(self.query_one("#rec-table", DataTable))
        return int(key) if key is not None else None

    # ---------------------------------------------------------------- events

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "rec-type" and event.value is not Select.NULL and event.value != self.type_name:
            self.type_name = str(event.value)
            self.query_one("#rec-search", Input).value = ""
            self.load_props(self.type_name)
        elif event.select.id == "rec-prop" and self.query_one("#rec-search", Input).value.strip():
            self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.query_one("#rec-prop", Select).value is Select.NULL and event.value.strip():
            self.notify("Choose the property to search in first.", severity="warning")
            self.query_one("#rec-prop", Select).focus()
            return
        self.reload()
        self.query_one("#rec-table", DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    # ---------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if isinstance(self.focused, Input) and action in ("edit", "add", "enroll", "page"):
            return False  # typing in the search box
        if action in ("edit", "enroll") and self.selected_id() is None:
            return None
        if action == "page" and self.page is not None:
            return True if (parameters == (1,) and self.page.more) or (parameters == (-1,) and self.starts) else None
        return True

    def action_page(self, step: int) -> None:
        page = self.page
        if page is None:
            return
        if step > 0 and page.more and page.rows:
            self.starts.append(page.start_after)
            self.load(page.rows[-1][0])
        elif step < 0 and self.starts:
            self.load(self.starts.pop())

    def action_search(self) -> None:
        self.query_one("#rec-search", Input).focus()

    def action_add(self) -> None:
        self.open_form(None)

    def action_edit(self) -> None:
        rid = self.selected_id()
        if rid is not None:
            self.open_form(rid)

    @db_read("records-open")
    def open_form(self, record_id: int | None):
        """Read the property definitions (and the record, to edit) for the form."""
        from models.objects import get_props, get_record

        props = list(get_props(self.type_name).values())
        values = get_record(self.type_name, record_id) if record_id is not None else None
        if record_id is not None and values is None:
            raise RotaError(f"{self.type_name} {record_id} no longer exists")
        return self.type_name, props, values

    def show_form(self, type_name: str, props: list, values: dict | None) -> None:
        from tui.screens.record_form import RecordFormScreen

        self.app.push_screen(RecordFormScreen(type_name, props, values, tz_name=self.app.settings.timezone),
                             self._saved)

    def _saved(self, record_id: int | None) -> None:
        if record_id is None:
            return
        self.notify(f"Saved {self.type_name} {record_id}.")
        self.load(self.page.start_after if self.page else 0)

    def action_enroll(self) -> None:
        rid = self.selected_id()
        if rid is None:
            return
        self.pick_workflow(rid)

    @db_read("records-pick")
    def pick_workflow(self, record_id: int):
        return record_id, workflows_for(self.type_name)

    def show_picker(self, record_id: int, choices: list[tuple[str, str]]) -> None:
        self.app.push_screen(WorkflowPickScreen(f"{self.type_name} {record_id}", choices),
                             lambda name: name and self.app.push_screen(  # issue 11 §5: say what will happen
                                 EnrollCheckDialog(name, record_id), lambda ok: ok and self.enroll(name, record_id)))

    @db_write("records-enroll")
    def enroll(self, workflow_name: str, record_id: int) -> tuple[str, bool]:
        from engine.runner import enroll_manual

        run = enroll_manual(workflow_name, record_id, now=self.app.clock.now())
        self.app.wake_engine()
        if run.suppressed:
            return (f'{self.type_name} {record_id} was suppressed in "{workflow_name}": it meets the '
                    "suppression criteria, so it was not enrolled.", True)
        return f'Enrolled {self.type_name} {record_id} in "{workflow_name}" (run {run.id}).', False

    def action_import_csv(self) -> None:
        from tui.screens.import_dialog import ImportDialog

        self.app.push_screen(ImportDialog(self.type_name, tz_name=self.app.settings.timezone),
                             lambda count: count and self.load(0))

    def action_back(self) -> None:
        self.dismiss()
