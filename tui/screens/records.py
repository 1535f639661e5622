"""Records (SPEC §1, issue 13 §3): pick an object type, page through its records, add,
edit and delete them, enroll the highlighted record in a workflow by hand (SPEC §3) and
read its timeline across workflows.

The table is bounded: ``PAGE`` rows at a time, keyset-paged by id (``id > last`` for
the next page, a stack of page starts for the previous one), so the millionth page
costs what the first does. The columns are the operator's choice per type (``c``),
remembered in the database, and share the terminal's width. Typing searches every text
property of the type ("contains", ignoring case); a property can still be chosen. The
status line shows how many records match. Data comes from ``models.store.records``.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from models.errors import RotaError
from tui.screens.enroll_dialog import EnrollCheckDialog
from tui.text import safe_markup
from tui.widgets import WrappingFooter, cursor_key
from tui.workers import WorkerReports, db_read, db_write

PAGE = 100
ID_WIDTH = 7
MIN_WIDTH = 10  # a column narrower than this shows too little to be worth it
MAX_WIDTH = 40


@dataclass(frozen=True)
class RecordPage:
    type_name: str
    columns: list[tuple[str, str]]  # (property name, label)
    rows: list[tuple[int, tuple[str, ...]]]
    start_after: int  # the keyset bound this page was read with (0 = first page)
    more: bool
    total: int  # records matching the search (all records without one)


def type_choices() -> list[tuple[str, str]]:
    from models.objects import list_types

    return [(t.label, t.name) for t in list_types()]


def read_page(type_name: str, after: int, search_prop: str | None, search: str, tz_name: str,
              with_total: bool = True) -> RecordPage:
    """Up to PAGE records with id > ``after``, in id order, in the chosen columns,
    optionally filtered; with the number of records the search matches."""
    from engine.steps.templates import display_value
    from models.store import records as store
    from models.timeutil import zone

    page = store.record_page(type_name, after=after, limit=PAGE, search=search, search_prop=search_prop,
                             tz_name=tz_name)
    tz = zone(tz_name)
    rows = [(r["id"], tuple(safe_markup(display_value(p, r.get(p.name), tz)) for p in page.columns))
            for r in page.rows]
    total = store.count_records(type_name, search, search_prop, tz_name) if with_total else -1
    return RecordPage(page.type_name, [(p.name, p.label) for p in page.columns], rows, after, page.more, total)


def column_widths(count: int, available: int) -> tuple[int, int]:
    """(columns shown, width of each) for ``count`` chosen columns in ``available`` cells:
    as many as fit at MIN_WIDTH, sharing what is left, at most MAX_WIDTH each."""
    room = max(available - ID_WIDTH - 2, MIN_WIDTH)
    shown = max(1, min(count, room // (MIN_WIDTH + 2)))
    return shown, max(MIN_WIDTH, min(MAX_WIDTH, room // shown - 2))


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
                yield OptionList(*[Option(safe_markup(name if status == "active" else f"{name} ({status})"), id=name,
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
        Binding("d", "delete", "Delete", tooltip="Delete this record (asks first)"),
        Binding("t", "timeline", "Timeline", tooltip="This record in every workflow, newest first"),
        Binding("c", "columns", "Columns", tooltip="Choose the columns shown for this object type"),
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
            yield Select([], prompt="all text", id="rec-prop")
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
        elif worker.group == "records-impact":
            self.confirm_delete(*worker.result)
        elif worker.group == "records-delete":
            type_name, record_id, impact = worker.result
            self.notify(f"Deleted {type_name} {record_id} with {_impact_words(impact)}.")
            self.load(self.page.start_after if self.page else 0)
        elif worker.group == "records-story":
            self.app.push_screen(TimelineScreen(worker.result))
        elif worker.group == "records-columns":
            self.app.push_screen(ColumnsScreen(*worker.result), self._columns_chosen)
        elif worker.group == "records-save-columns":
            self.columns_for = None
            self.reload()

    def reload(self) -> None:
        self.starts = []
        self.load(0)

    def show(self) -> None:
        page = self.page
        table = self.query_one("#rec-table", DataTable)
        shown, width = column_widths(len(page.columns), self.size.width or 80)
        layout = (page.type_name, tuple(page.columns[:shown]), width)
        if self.columns_for != layout:
            table.clear(columns=True)
            table.add_column("Id", width=ID_WIDTH, key="id")
            for name, label in page.columns[:shown]:
                table.add_column(label, width=width, key=name)
            self.columns_for = layout
        selected = self.selected_id()
        table.clear()
        for rid, cells in page.rows:
            table.add_row(str(rid), *cells[:shown], key=str(rid))
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)))
        number = len(self.starts) + 1
        count = len(page.rows)
        more = " · ] next page" if page.more else ""
        prev = " · [ previous" if self.starts else ""
        searching = bool(self.query_one("#rec-search", Input).value.strip())
        total = f"{page.total:,} {'match' if searching else 'in all'}" if page.total >= 0 else ""
        hidden = f" · {len(page.columns) - shown} more columns (c)" if shown < len(page.columns) else ""
        self.query_one("#rec-status", Static).update(
            f"{total} · page {number}: {count} record{'s' if count != 1 else ''}{more}{prev}{hidden}" if count
            else f"No records{' match' if searching else ''}." if not self.starts else "No more records.")
        self.refresh_bindings()

    def on_resize(self) -> None:
        if self.page is not None:
            self.show()

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

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "rec-search":
            self.reload()  # exclusive worker: a newer keystroke supersedes the read

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.reload()
        self.query_one("#rec-table", DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    # ---------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if isinstance(self.focused, Input) and action in ("edit", "add", "enroll", "page", "delete", "timeline",
                                                           "columns"):
            return False  # typing in the search box
        if action in ("edit", "enroll", "delete", "timeline") and self.selected_id() is None:
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

    # ------------------------------------------------------------ delete, timeline

    def action_delete(self) -> None:
        rid = self.selected_id()
        if rid is not None:
            self.read_impact(self.type_name, rid)

    @db_read("records-impact")
    def read_impact(self, type_name: str, record_id: int):
        from models.store.records import delete_impact

        return type_name, record_id, delete_impact(type_name, record_id)

    def confirm_delete(self, type_name: str, record_id: int, impact: dict) -> None:
        from tui.screens.confirm import ConfirmScreen

        question = (f"Delete {type_name} {record_id}? {_impact_words(impact).capitalize()} go with it. "
                    "Its history stays.")
        self.app.push_screen(ConfirmScreen(question, title="Delete record", yes="Delete"),
                             lambda yes: yes and self.delete(type_name, record_id))

    @db_write("records-delete")
    def delete(self, type_name: str, record_id: int):
        from models.store.records import delete_record

        return type_name, record_id, delete_record(type_name, record_id)

    def action_timeline(self) -> None:
        rid = self.selected_id()
        if rid is not None:
            self.read_story(self.type_name, rid)

    @db_read("records-story")
    def read_story(self, type_name: str, record_id: int) -> dict:
        from engine.records import record_story

        return record_story(type_name, record_id)

    # ------------------------------------------------------------------ columns

    def action_columns(self) -> None:
        self.read_columns(self.type_name)

    @db_read("records-columns")
    def read_columns(self, type_name: str):
        from models.objects import get_props
        from models.store.records import view_columns

        return type_name, [(p.name, p.label) for p in get_props(type_name).values()], view_columns(type_name)

    def _columns_chosen(self, result) -> None:
        if result:
            self.save_columns(*result)

    @db_write("records-save-columns")
    def save_columns(self, type_name: str, columns: list[str]) -> list[str]:
        from models.store.records import save_view_columns

        return save_view_columns(type_name, columns)

    def action_back(self) -> None:
        self.dismiss()


def _impact_words(impact: dict) -> str:
    e, m = impact["enrollments"], impact["list_memberships"]
    return (f"{e:,} enrollment{'s' if e != 1 else ''} and {m:,} list membership{'s' if m != 1 else ''}")


class ColumnsScreen(ModalScreen[tuple[str, list[str]] | None]):
    """Tick the properties to show, in definition order; Enter saves, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, type_name: str, props: list[tuple[str, str]], chosen: list[str]) -> None:
        super().__init__()
        self.type_name = type_name
        self.props = props
        self.chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Columns for {self.type_name}", classes="title")
            yield SelectionList(*[(label, name, name in self.chosen) for name, label in self.props], id="cols")
            yield Static("Space ticks · ctrl+s saves · Escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#cols", SelectionList).focus()

    def action_save(self) -> None:
        chosen = list(self.query_one("#cols", SelectionList).selected)
        if not chosen:
            self.notify("Tick at least one column.", severity="warning")
            return
        order = [name for name, _ in self.props]
        self.dismiss((self.type_name, sorted(chosen, key=order.index)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TimelineScreen(ModalScreen[None]):
    """One record's story: every enrollment, step, list membership and task, newest first."""

    BINDINGS = [Binding("escape", "close", "Close")]
    CSS_PATH = "records.tcss"

    def __init__(self, story: dict) -> None:
        super().__init__()
        self.story = story

    def compose(self) -> ComposeResult:
        from tui.widgets import column_table

        story = self.story
        with Vertical(classes="dialog", id="timeline"):
            n = len(story["timeline"])
            yield Static(f"{story['type']} {story['id']}: {n} entr{'y' if n == 1 else 'ies'}, newest first",
                         classes="title")
            table = column_table("timeline-table", [("at", "When (UTC)", 16), ("kind", "What", 15),
                                                    ("text", "Detail", 22), ("wf", "Workflow", 16)])
            for i, row in enumerate(story["timeline"]):
                table.add_row((row["at"] or "")[:16].replace("T", " "), row["kind"], _printable(row["text"]),
                              _printable(row["workflow"] or ""), key=str(i))
            yield table
            yield Static("Escape closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


def _printable(text: str) -> str:
    return safe_markup(text)
