"""The home screen: every workflow, its state and schedule, and the keys to act on it.

The table is bounded (at most ``ROW_CAP`` rows, fixed column widths that fit 80
columns) and keyed by workflow id. Engine events and saves trigger a reload in a
worker; rows whose set and order did not change are refreshed with ``update_cell``,
so the cursor and scroll position stay where the operator left them.

Nothing here is proportional to the data: one query for the workflows, one for the
newest run of each (``last_runs``), one for whether the database is empty.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static
from textual.widgets.data_table import CellDoesNotExist
from textual.worker import Worker

from engine.schedule import parse_schedule
from models.errors import RotaError
from models.store import reads
from models.timeutil import utcnow, zone
from tui.messages import EngineMessage, WorkflowRunMessage, WorkflowsChanged
from tui.screens.activate_dialog import ActivateDialog
from tui.widgets import WrappingFooter
from tui.workers import WorkerReports, db_read, db_write

ROW_CAP = 1000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The name comes first: it gets at least NAME_MIN characters, then the other columns
# are added in order of value (KEEP) while they fit whole, and the name takes what is
# left. At 80 columns: name 25, status, schedule, next run, enrolled; Type and Last
# run appear from about 100 columns; at 60 the name, status and next run. Each column
# costs its width + 2 of padding; the scrollbar takes 1. The detail line below the
# table shows the highlighted workflow's whole name and schedule.
NAME_MIN = 24
SCHEDULE_WIDTH = 11  # the pattern and time; the zone's abbreviation follows when it fits
COLUMNS = (
    ("name", "Name", NAME_MIN),
    ("status", "Status", 6),
    ("type", "Type", 7),
    ("schedule", "Sched (own zone)", 16),
    ("next", "Next run", 12),
    ("last", "Last run", 9),
    ("enrolled", "Enrolled", 8),
)
KEEP = ("status", "next", "schedule", "enrolled", "last", "type")


def layout(width: int, next_label: str) -> list[tuple[str, str, int]]:
    """The columns shown at ``width`` terminal columns, in table order, with widths."""
    labels = {key: label for key, label, _ in COLUMNS}
    widths = {key: w for key, _, w in COLUMNS}
    labels["next"], widths["next"] = next_label, max(widths["next"], len(next_label))
    labels["schedule"] = "Schedule" if width < 70 else labels["schedule"]
    room = width - 1 - (NAME_MIN + 2)
    shown = {"name"}
    for key in KEEP:
        if widths[key] + 2 > room:
            break
        shown.add(key)
        room -= widths[key] + 2
    widths["name"] = NAME_MIN + max(0, room)
    return [(key, labels[key], widths[key]) for key, _, _ in COLUMNS if key in shown]


@dataclass(frozen=True)
class WorkflowRow:
    """What the table shows for one workflow (plain values, computed off the UI thread)."""

    id: int
    name: str
    status: str
    object_type: str
    schedule_short: str
    schedule_words: str
    next_run: datetime | None
    last_run: datetime | None
    last_status: str | None
    enrolled: int | None
    zone_abbr: str = ""  # the schedule's own zone, abbreviated ("CET")
    last_detail: str | None = None  # why the last run failed, in words

    def matches(self, needle: str) -> bool:
        needle = needle.strip().lower()
        return not needle or any(needle in v.lower() for v in (self.name, self.object_type, self.status))


@dataclass(frozen=True)
class Snapshot:
    rows: list[WorkflowRow]
    empty_database: bool


def _hm(time: str) -> str:
    """"08:00" → "8:00": one character matters in an 11-character column."""
    return time[1:] if len(time) == 5 and time.startswith("0") else time


def short_schedule(schedule: dict) -> str:
    """At most 11 characters for the table; the full sentence is in the detail line.

    When the day pattern and the time do not both fit, the time goes (the next-run
    column shows it) rather than being cut to a time that looks wrong ("10:0").
    """
    text = _short_schedule(schedule)
    if len(text) <= SCHEDULE_WIDTH or schedule.get("kind") == "cron":
        return text if len(text) <= SCHEDULE_WIDTH else text[:SCHEDULE_WIDTH - 1] + "…"
    pattern = text.rsplit(" ", 1)[0]
    return pattern if len(pattern) <= SCHEDULE_WIDTH else pattern[:SCHEDULE_WIDTH - 1] + "…"


def _short_schedule(schedule: dict) -> str:
    kind = schedule.get("kind")
    time = _hm(str(schedule.get("time", "")))
    if kind == "daily":
        return f"Daily {time}"
    if kind == "weekly":
        days = schedule.get("weekdays") or []
        idx = sorted(WEEKDAYS.index(d) for d in days if d in WEEKDAYS)
        if idx == [0, 1, 2, 3, 4]:
            label = "Mon-Fri"
        elif len(idx) == 1:
            label = WEEKDAYS[idx[0]].capitalize()
        else:
            label = "".join(WEEKDAYS[i][:2].capitalize() for i in idx)
        return f"{label} {time}"
    if kind == "monthly_days":
        return ",".join(str(d) for d in schedule.get("days") or []) + f" {time}"
    if kind == "monthly_flexible":
        flex = schedule.get("flex") or {}
        ordinal = {"first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "last": "Last"}.get(
            flex.get("ordinal"), "?")
        day = {"day": "day", "weekday": "wkd"}.get(flex.get("day"), str(flex.get("day", "")).capitalize())
        return f"{ordinal} {day} {time}"
    if kind == "yearly":
        months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
        month = schedule.get("month", 1)
        return f"{schedule.get('day', 0)} {months[month - 1] if 1 <= month <= 12 else '?'} {time}"
    if kind == "cron":
        return schedule.get("cron", "cron")
    return str(kind)


def age(then: datetime, now: datetime) -> str:
    """How long ago, in at most 4 characters: "now", "42m", "5h", "12d", "3y"."""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 365 * 86400:
        return f"{int(seconds // 86400)}d"
    return f"{int(seconds // (365 * 86400))}y"


LAST_STATUS = {"failed": "failed", "missed": "missed", "coalesced": "merged", "running": "running"}


def zone_abbreviation(name: str, at: datetime) -> str:
    """A zone's abbreviation at an instant ("CET", "UTC", "-03"); the name if unknown."""
    try:
        return at.astimezone(zone(name)).strftime("%Z") or name
    except RotaError:
        return name


def load_rows(default_timezone: str, now: datetime | None = None) -> Snapshot:
    """Read the home screen's data (store read models) and describe each schedule."""
    now = now or utcnow()
    rows = []
    for wf in reads.home_rows(ROW_CAP):
        try:
            words = parse_schedule(wf.schedule, default_timezone).describe()
        except RotaError as exc:  # a stored schedule we cannot read: say so in the row
            words = f"unreadable schedule: {exc}"
        run = wf.last_run
        rows.append(WorkflowRow(
            id=wf.id, name=wf.name, status=wf.status, object_type=wf.object_type,
            schedule_short=short_schedule(wf.schedule), schedule_words=words,
            next_run=wf.next_run_at if wf.status == "active" else None,
            last_run=run.at if run else None, last_status=run.status if run else None,
            enrolled=run.enrolled if run else None,
            zone_abbr=zone_abbreviation(wf.schedule.get("timezone") or default_timezone, now),
            last_detail=run.detail if run else None,
        ))
    return Snapshot(rows=rows, empty_database=not rows and not reads.any_records())


class WorkflowsScreen(WorkerReports, Screen):
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
        """The cells of the columns shown now, in order."""
        values = self.all_cells(row)
        return tuple(values[key] for key, _, _ in self.columns)

    def all_cells(self, row: WorkflowRow) -> dict[str, str]:
        app = self.app
        last = "—"
        if row.last_run is not None:
            ago = age(row.last_run, app.clock.now())
            status = LAST_STATUS.get(row.last_status or "")
            last = f"{status} {ago}" if status else f"{ago} ago" if ago != "now" else "just now"
        enrolled = "—" if row.enrolled is None else (
            f"{row.enrolled:,}" if row.enrolled < 100_000 else f"{row.enrolled // 1000:,}k")
        name = f"⚠ {row.name}" if row.last_status == "failed" else row.name
        schedule = row.schedule_short
        if row.zone_abbr and len(schedule) + 1 + len(row.zone_abbr) <= 16:
            schedule = f"{schedule} {row.zone_abbr}"
        return {"name": name, "status": row.status, "type": row.object_type, "schedule": schedule,
                "next": app.local_time(row.next_run) if row.next_run else "—", "last": last,
                "enrolled": enrolled}

    def show_rows(self) -> None:
        """Update cells in place when the visible rows are the same; else rebuild,
        keeping the cursor on the same workflow."""
        table = self.query_one(DataTable)
        wanted = self.visible()
        current = [rk.value for rk in table.rows]
        if current == [str(r.id) for r in wanted]:
            for r in wanted:
                for (key, _, _), value in zip(self.columns, self.cells(r)):
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
        app = self.app
        parts = [f"[b]{_escape(row.name)}[/b] ({row.status}, {row.object_type})", _escape(row.schedule_words)]
        if row.next_run is not None:
            parts.append(f"next run {app.local_time(row.next_run)} {app.zone_abbreviation()} (your zone)")
        if row.last_status == "failed":
            why = f": {_escape(row.last_detail)}" if row.last_detail else ""
            parts.append(f"[b]⚠ last run failed[/b] {app.local_time(row.last_run)}{why}")
        elif row.last_run is not None:
            parts.append(f"last run {app.local_time(row.last_run)} {row.last_status}, "
                         f"{row.enrolled or 0:,} enrolled")
        detail.update(" · ".join(parts))

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
                return None if parameters == ("active",) else False
            return (row.status == "active") == (parameters == ("paused",))
        if action in self.ROW_ACTIONS and row is None:
            return None
        return True

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self.query_one(DataTable).focus()

    def action_new(self) -> None:
        self.read_types()

    @db_read("workflows-open")
    def read_types(self) -> list[reads.TypeChoice]:
        return reads.object_types()

    def show_create(self, types: list) -> None:
        from tui.screens.create import CreateScreen

        choices = [(f"{t.label} ({t.name})" if not t.builtin else t.label, t.name) for t in types]
        taken = {r.name for r in self.rows.values()}
        self.app.push_screen(CreateScreen(choices, taken), self._created)

    def _created(self, new) -> None:
        if new is None:
            return
        body = {
            "name": new.name, "object_type": new.object_type, "status": "draft",
            "schedule": {"kind": "daily", "time": "08:00", "timezone": self.app.settings.timezone},
            "criteria": [], "suppression": [], "unenrollment": [], "actions": [], "settings": {},
        }
        self.read_for_editor(body, None)

    @db_read("workflows-open")
    def read_for_editor(self, body: dict | None, workflow_id: int | None) -> tuple[dict, str | None, list]:
        """What the editor needs, read before it opens: the body (of a stored
        workflow, when ``workflow_id`` is given) and the object types."""
        from engine.workflows import get_workflow, workflow_body
        from tui.screens.workflow_editor import editor_types

        original_name = None
        if workflow_id is not None:
            wf = get_workflow(workflow_id)
            body, original_name = workflow_body(wf), wf.name
        return body, original_name, editor_types()

    def open_editor(self, body: dict, original_name: str | None, types: list | None = None) -> None:
        from tui.screens.workflow_editor import WorkflowEditorScreen

        self.app.push_screen(WorkflowEditorScreen(body, original_name=original_name, types=types), self._edited)

    def _edited(self, name: str | None) -> None:
        self._select_next = name  # the saved (maybe new or renamed) workflow
        self.reload()

    def select_name(self, name: str) -> bool:
        """Put the cursor on the workflow called ``name``; False if it is not shown."""
        table = self.query_one(DataTable)
        for row in self.rows.values():
            if row.name == name and str(row.id) in table.rows:
                table.move_cursor(row=table.get_row_index(str(row.id)))
                return True
        return False

    def action_open(self) -> None:
        row = self.selected()
        if row is not None:
            self.read_for_editor(None, row.id)

    def action_set(self, status: str) -> None:
        row = self.selected()
        if row is not None and row.status != status and status == "active":  # issue 11 §6: ask first
            self.app.push_screen(ActivateDialog(row.name), lambda ok: ok and self.change_status(row.name, status))
        elif row is not None and row.status != status:
            self.change_status(row.name, status)

    @db_write("workflows-change")
    def change_status(self, name: str, status: str) -> str:
        from engine.workflows import set_status

        wf = set_status(name, status, now=self.app.clock.now())
        if status == "active":
            self.app.wake_engine()
            when = self.app.local_time(wf.next_run_at) if wf.next_run_at else "no next run"
            return f'"{name}" is active; next run {when}.'
        return f'"{name}" is paused.'

    def action_clone(self) -> None:
        row = self.selected()
        if row is None:
            return
        from tui.screens.confirm import AskScreen

        taken = {r.name.lower() for r in self.rows.values()}
        proposal, n = f"Copy of {row.name}", 2
        while proposal.lower() in taken:
            proposal, n = f"Copy {n} of {row.name}", n + 1
        self.app.push_screen(AskScreen(f'Name for the copy of "{row.name}":', proposal, title="Clone workflow"),
                             lambda new: new and self.clone(row.name, new))

    @db_write("workflows-change")
    def clone(self, name: str, new_name: str) -> str:
        from engine.workflows import clone_workflow

        clone_workflow(name, new_name, now=self.app.clock.now())
        self._select_next = new_name
        return f'Cloned "{name}" as "{new_name}" (a draft).'

    def action_delete(self) -> None:
        row = self.selected()
        if row is None:
            return
        from tui.screens.confirm import ConfirmScreen

        question = (f'Delete "{row.name}"? Its runs and history go with it. '
                    "The audit log keeps a copy of its last version.")
        self.app.push_screen(ConfirmScreen(question, title="Delete workflow", yes="Delete"),
                             lambda yes: yes and self.delete(row.name))

    @db_write("workflows-change")
    def delete(self, name: str) -> str:
        from engine.workflows import delete_workflow

        delete_workflow(name, now=self.app.clock.now())
        return f'Deleted "{name}".'

    def action_export(self) -> None:
        row = self.selected()
        if row is None:
            return
        from tui.screens.confirm import AskScreen

        default = safe_filename(row.name) + ".json"
        self.app.push_screen(AskScreen("Write the workflow as JSON to:", default, title="Export workflow"),
                             lambda path: path and self.export(row.name, path))

    @db_write("workflows-change")
    def export(self, name: str, path: str) -> str:
        from engine.workflows import export_workflow

        body = export_workflow(name)
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / (safe_filename(name) + ".json")
        try:
            target.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise RotaError(f"cannot write {target}: {exc.strerror}") from None
        return f"Exported to {target.resolve()}"

    def action_review(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.review import ReviewScreen

            self.app.push_screen(ReviewScreen(row.name), lambda _: self.reload())

    # ------------------------------------------------------- other screens

    def action_dashboard(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        self.app.push_screen(DashboardScreen())

    def action_dashboard_workflow(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.dashboard import DashboardScreen

            self.app.push_screen(DashboardScreen(row.id, row.name))

    def action_history(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.history import HistoryScreen

            self.app.push_screen(HistoryScreen(row.name))

    def action_audit(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.audit import AuditScreen

            self.app.push_screen(AuditScreen(row.name))

    def action_records(self) -> None:
        from tui.screens.records import RecordsScreen

        row = self.selected()  # start on the selected workflow's object type
        self.app.push_screen(RecordsScreen(row.object_type if row else "contact"))

    def action_lists(self) -> None:
        from tui.screens.lists import ListsScreen

        self.app.push_screen(ListsScreen())

    def action_types(self) -> None:
        from tui.screens.types import TypesScreen

        self.app.push_screen(TypesScreen())

    def action_inbox(self) -> None:
        from tui.screens.inbox import InboxScreen

        self.app.push_screen(InboxScreen())

    # ------------------------------------------------------------------ demo

    def offer_demo(self) -> None:
        from tui.screens.demo_offer import DemoOfferScreen

        self.app.push_screen(DemoOfferScreen(), self._demo_answer)

    def _demo_answer(self, yes: bool | None) -> None:
        if yes:
            self.notify("Loading demo data…")
            self.load_demo()

    @db_write("workflows-change")
    def load_demo(self) -> str:
        from engine.demo import load_demo

        load_demo(now=self.app.clock.now(), **DEMO_SIZE)
        return "Demo data loaded."



# What "load demo data" adds from the first-run offer: enough to look around, quick to
# load; `rota demo --contacts N` makes more.
DEMO_SIZE = {"contacts": 2000, "companies": 200, "deals": 300, "tickets": 200}


def safe_filename(name: str) -> str:
    """A workflow name as a file name: path separators and control characters replaced."""
    cleaned = "".join("-" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name).strip(". ")
    return cleaned or "workflow"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
