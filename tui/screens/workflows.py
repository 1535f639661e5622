"""The home screen: every workflow, its state, its last run and schedule, and the keys
to act on it.

The table is bounded (at most ``ROW_CAP`` rows, columns chosen to fit the terminal by
``home_rows.layout``) and keyed by workflow id. Engine events and saves trigger a
reload in a worker; rows whose set and order did not change are refreshed with
``update_cell``, so the cursor and scroll position stay where the operator left them.

What a row says lives in ``tui.screens.home_rows``; what the keys do, in
``tui.screens.workflow_actions``.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static
from textual.widgets.data_table import CellDoesNotExist
from textual.worker import Worker

from models.enums import WorkflowStatus
from tui.messages import EngineMessage, WorkflowRunMessage, WorkflowsChanged
from tui.screens.home_rows import Snapshot, WorkflowRow, detail_markup, layout, load_rows, row_cells
from tui.screens.workflow_actions import WorkflowActions
from tui.text import safe_markup
from tui.widgets import WrappingFooter
from tui.workers import WorkerReports, db_read


class WorkflowsScreen(WorkflowActions, WorkerReports, Screen):
    """Home: the workflow list, a filter, a detail line and the engine status line."""

    CSS_PATH = "workflows.tcss"
    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("enter", "open", "Open", priority=True),
        Binding("a", "set('active')", "Activate", tooltip="Activate (or resume) the selected workflow"),
        Binding("a", "set('paused')", "Pause", tooltip="Pause the selected workflow"),
        Binding("c", "clone", "Clone"),
        Binding("d", "delete", "Delete"),
        Binding("e", "export", "Export"),
        Binding("r", "review", "Review"),
        Binding("s", "app.settings", "Settings"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("q", "app.quit", "Quit"),
        # The screens beyond the list. Not in the footer (two rows are full at 80
        # columns); help (?) and the command palette list them.
        Binding("g", "dashboard", "Dashboard", show=False, tooltip="Live dashboard of all workflows"),
        Binding("D", "dashboard_workflow", "Workflow dashboard", show=False, key_display="D",
                tooltip="Live dashboard of this workflow"),
        Binding("h", "history", "History", show=False, tooltip="History of this workflow"),
        Binding("l", "audit", "Audit log", show=False, tooltip="Audit log, versions of this workflow"),
        Binding("R", "records", "Records", show=False, key_display="R", tooltip="Browse, add and edit records"),
        Binding("i", "inbox", "Inbox", show=False, tooltip="Your notifications and open tasks"),
        Binding("T", "types", "Object types", show=False, key_display="T",
                tooltip="Object types and their properties"),
        Binding("L", "lists", "Static lists", show=False, key_display="L",
                tooltip="Static lists: members, CSV export, delete"),
    ]
    ROW_ACTIONS = {"open", "set", "clone", "delete", "export", "review", "dashboard_workflow", "history", "audit"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, WorkflowRow] = {}
        self.columns: list[tuple[str, str, int]] = layout(80, "Next run")
        self.loaded = False
        self._demo_offered = False
        self._select_next: str | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        yield Input(placeholder="/ filter by name, type or status", id="filter")
        table: DataTable = DataTable(id="workflows", cursor_type="row", zebra_stripes=True)
        self.add_columns(table)
        yield table
        yield Static("", id="detail")
        yield Static("", id="engine-status")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def add_columns(self, table: DataTable) -> None:
        for key, label, width in self.columns:
            table.add_column(label, width=width, key=key)

    def next_label(self) -> str:
        """The next-run column is in the operator's zone, and says which."""
        return f"Next run ({self.app.zone_abbreviation()})"

    def on_resize(self) -> None:
        """Lay the columns out for the new width (names first; see ``layout``).
        Columns are rebuilt through the public API: resizes are rare."""
        wanted = layout(self.size.width, self.next_label())
        if wanted != self.columns:
            self.columns = wanted
            table = self.query_one(DataTable)
            table.clear(columns=True)
            self.add_columns(table)
            self.show_rows()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.refresh_status()
        self.reload()

    # -------------------------------------------------------------------- loading

    @db_read("workflows-load")
    def reload(self) -> Snapshot:
        return load_rows(self.app.settings.timezone, self.app.clock.now())

    def worker_error(self, worker: Worker) -> bool:
        if worker.group == "workflows-open":
            self.reload()  # e.g. the workflow was deleted meanwhile: show the list as it is
        return False

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.name == "read_types":
            self.show_create(worker.result)
        elif worker.name == "read_for_editor":
            self.open_editor(*worker.result)
        elif worker.group == "workflows-load":
            snapshot: Snapshot = worker.result
            self.rows = {r.id: r for r in snapshot.rows}
            self.loaded = True
            self.show_rows()
            if self._select_next and self.select_name(self._select_next):
                self._select_next = None  # kept until a reload that includes it
            if snapshot.empty_database and not self._demo_offered:
                self._demo_offered = True
                self.offer_demo()
        elif worker.group == "workflows-change" and worker.result:
            self.notify(str(worker.result))
            self.reload()

    def visible(self) -> list[WorkflowRow]:
        needle = self.query_one("#filter", Input).value
        return [r for r in self.rows.values() if r.matches(needle)]

    def cells(self, row: WorkflowRow) -> tuple:
        """The cells of the columns shown now, in order, fitted to their widths."""
        return tuple(safe_markup(c) for c in row_cells(row, self.columns, self.app.clock.now(), self.app.local_time))

    def show_rows(self) -> None:
        """Update cells in place when the visible rows are the same; else rebuild,
        keeping the cursor on the same workflow."""
        table = self.query_one(DataTable)
        wanted = self.visible()
        current = [rk.value for rk in table.rows]
        if current == [str(r.id) for r in wanted]:
            for r in wanted:
                for (key, _, _), value, before in zip(self.columns, self.cells(r), table.get_row(str(r.id))):
                    if value != before:
                        table.update_cell(str(r.id), key, value)
        else:
            selected = self.selected_id()
            table.clear()
            for r in wanted:
                table.add_row(*self.cells(r), key=str(r.id))
            if selected is not None and str(selected) in table.rows:
                table.move_cursor(row=table.get_row_index(str(selected)))
        self.show_detail()
        self.refresh_bindings()

    def selected(self) -> WorkflowRow | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # cursor outside the rows (e.g. mid-rebuild): nothing selected
            return None
        return self.rows.get(int(key)) if key is not None else None

    def selected_id(self) -> int | None:
        row = self.selected()
        return row.id if row else None

    def show_detail(self) -> None:
        row = self.selected()
        detail = self.query_one("#detail", Static)
        if row is None:
            detail.update("No workflows yet: press n to create one." if not self.rows and self.loaded
                          else "No workflow matches the filter." if self.loaded else "Loading…")
            return
        detail.update(detail_markup(row, self.app.local_time, self.app.zone_abbreviation()))

    def refresh_status(self) -> None:
        self.query_one("#engine-status", Static).update(self.app.engine_line())

    # ------------------------------------------------------------ events in

    @on(EngineMessage)
    def engine_message(self, message: EngineMessage) -> None:
        """Any engine message: the status line; a run started, finished, failed or
        missed: the rows too."""
        self.refresh_status()
        if isinstance(message, WorkflowRunMessage):
            self.reload()

    def on_workflows_changed(self, message: WorkflowsChanged) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.refresh_status()
        if self.loaded:
            self.reload()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.show_rows()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # "Open" (Enter) applies to the list, not to the filter

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one(DataTable).focus()

    # -------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Row actions are shown but disabled (dim) when no workflow is selected.

        "a" is bound twice (activate, pause); the one that does not apply to the
        selected workflow is hidden, so the footer names what the key will do.
        """
        if action == "open" and isinstance(self.focused, Input):
            return False  # Enter in the filter goes to the list, it does not open
        row = self.selected()
        if action == "set":
            if row is None:
                return None if parameters == (WorkflowStatus.ACTIVE,) else False
            return (row.status == WorkflowStatus.ACTIVE) == (parameters == (WorkflowStatus.PAUSED,))
        if action in self.ROW_ACTIONS and row is None:
            return None
        return True

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self.query_one(DataTable).focus()
