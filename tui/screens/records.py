"""Records (SPEC §1, issue 13 §3): pick an object type, page through its records, add,
edit and delete them, enroll the highlighted record in a workflow by hand (SPEC §3) and
read its timeline across workflows.

The table is bounded: ``PAGE`` rows at a time, keyset-paged by id (``id > last`` for
the next page, a stack of page starts for the previous one), so the millionth page
costs what the first does. The columns are the operator's choice per type (``c``),
remembered in the database; each is as wide as its values on the page while they fit
(``record_page.layout``), and a value the table cannot show whole ends in "…" and is
shown whole in the detail line under it. Typing searches every text property of the
type ("contains", ignoring case); a property can still be chosen. The status line
shows how many records match. Data comes from ``models.store.records``.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Select, Static
from textual.worker import Worker

from models.errors import RotaError
from tui.screens.enroll_dialog import EnrollCheckDialog
from tui.screens.record_dialogs import ColumnsScreen, TimelineScreen, WorkflowPickScreen
from tui.screens.record_page import RecordPage, detail_markup, layout, read_page, row_cells, type_choices, workflows_for
from tui.widgets import WrappingFooter, cursor_key
from tui.workers import WorkerReports, db_read, db_write


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
        self.columns_for: tuple | None = None
        self.columns: list[tuple[str, str, int]] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with Horizontal(id="rec-bar"):
            yield Select([], prompt="object type", id="rec-type", allow_blank=True, compact=True)
            yield Select([], prompt="all text", id="rec-prop", compact=True)
            yield Input(placeholder="/ search", id="rec-search", compact=True)
        table: DataTable = DataTable(id="rec-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="rec-detail")
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
        if page is None:
            return
        table = self.query_one("#rec-table", DataTable)
        self.columns = layout(page, self.size.width or 80)
        if self.columns_for != (page.type_name, tuple(self.columns)):
            table.clear(columns=True)
            for key, label, width in self.columns:
                table.add_column(label, width=width, key=key)
            self.columns_for = (page.type_name, tuple(self.columns))
        selected = self.selected_id()
        table.clear()
        for rid, cells in page.rows:
            table.add_row(*row_cells(page, self.columns, rid, cells), key=str(rid))
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)))
        number = len(self.starts) + 1
        count = len(page.rows)
        searching = bool(self.query_one("#rec-search", Input).value.strip())
        total = f"{page.total:,} {'match' if searching else 'in all'} · " if page.total >= 0 else ""
        hidden = len(page.columns) - (len(self.columns) - 1)
        more = f" · {hidden} more column{'s' if hidden != 1 else ''} (c)" if hidden else ""
        self.query_one("#rec-status", Static).update(
            f"{total}page {number}: {count} record{'s' if count != 1 else ''}{more}" if count
            else f"No records{' match' if searching else ''}." if not self.starts else "No more records.")
        self.show_detail()
        self.refresh_bindings()

    def show_detail(self) -> None:
        """The highlighted record's values that the table does not show whole."""
        page, rid = self.page, self.selected_id()
        row = next((cells for r, cells in page.rows if r == rid), None) if page is not None else None
        self.query_one("#rec-detail", Static).update(
            "" if row is None or rid is None else
            detail_markup(page, self.columns, rid, row, room=2 * max(20, self.size.width - 2) - 8))

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
        self.show_detail()
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
