"""Live enrollment dashboard (SPEC §6): overall or for one workflow.

What it shows, and why each read is bounded whatever the data size:

- enrollments per day for the last ``DAYS`` days, from the ``enrollment_daily`` rollup
  (at most DAYS rows per workflow; the enrollment table is never counted);
- the newest runs with matched / enrolled / suppressed (``RUN_CAP`` rows, read
  newest-first through the primary key or the (workflow, id) index);
- the latest enrollments (``ENROLL_CAP`` rows, taken run by run from those runs
  through the (run, record_id) index);
- the engine's status (running / standby, next wake, lag) from the app's latest
  ``EngineStatus``.

Engine events keep it live: a ``RunFinished`` puts its run at the top of the runs
table at once (from the event itself) and schedules one reload (an exclusive worker,
so a burst of runs costs one query set); an ``EngineStatus`` rewrites the status line.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker

from models.enums import RunKind, RunStatus
from models.store.reads import DashboardData, EnrollRow, RunRow, dashboard
from tui.messages import (
    EngineMessage,
    MisfireMessage,
    RunFailedMessage,
    RunFinishedMessage,
    StepsRanMessage,
    WorkflowsChanged,
)
from tui.text import safe_markup
from tui.widgets import WrappingFooter, column_table, cursor_key, fit_columns, set_columns, sync_table
from tui.widgets.chart import BarChart
from tui.widgets.fit import clip, compact_count, fit_parts
from tui.workers import WorkerReports, db_read

DAYS = 30
RUN_CAP = 50
# Runs made elsewhere (another engine on the same database, `rota enroll`) send this
# app no event; a slow re-read catches them. Bounded reads, so cheap.
REFRESH_SECONDS = 30
ENROLL_CAP = 30
# Widths that fit 80 columns: content + 2 padding per column + 1 for the scrollbar.
# The workflow name gets at least 22 and what the numbers leave; a longer name ends in
# "…" after a whole word and is shown whole in the detail line.
RUN_COLUMNS = (("when", "When", 12), ("workflow", "Workflow", 22), ("kind", "Kind", 6),
               ("status", "Status", 9), ("matched", "Matched", 8), ("enrolled", "Enrolled", 8),
               ("suppressed", "Suppr.", 6), ("failed", "Failed", 6), ("in_progress", "In prog.", 8),
               ("completed", "Done", 8))
ENROLL_COLUMNS = (("at", "Enrolled at", 12), ("workflow", "Workflow", 22), ("record", "Record", 10),
                  ("how", "How", 9))
RUN_KEEP = ("when", "status", "enrolled", "in_progress", "matched", "suppressed", "kind", "failed", "completed")
CHART_AXIS = 6  # the chart's scale takes 6 columns, each day 2


def status_words(app) -> str:
    """Engine state in one line: from the latest status event when there is one (this
    app's engine, or one reporting in), else the app's own summary."""
    status = app.engine_status
    if status is None:
        return app.engine_line()
    if status.last_error:
        return f"Engine error: {status.last_error}"
    state = "running" if status.running else "stopped"
    if status.running and not status.active:
        state = "standby (another engine holds the lease)"
    parts = [f"Engine {state}"]
    parts.append(f"next wake {app.local_time(status.next_wake_at)}" if status.next_wake_at else "no run due")
    if status.lag_ms is not None:
        parts.append(f"lag {status.lag_ms / 1000:.1f} s")
    return " · ".join(parts)


class DashboardScreen(WorkerReports, Screen):
    """Overall (``workflow_id`` None) or one workflow's enrollments, runs and engine."""

    CSS_PATH = "dashboard.tcss"
    HELP_TITLE = "Dashboard"
    BINDINGS = [
        Binding("f", "reload", "Refresh", tooltip="Read the numbers again now"),
        Binding("tab", "app.focus_next", "Next table", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, workflow_id: int | None = None, workflow_name: str | None = None) -> None:
        super().__init__()
        self.workflow_id = workflow_id
        self.workflow_name = workflow_name
        self.data: DashboardData | None = None
        self.runs: list[RunRow] = []
        self.run_columns = list(RUN_COLUMNS)
        self.enroll_columns = list(ENROLL_COLUMNS)

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with Vertical(id="dashboard"):
            scope = f"workflow [b]{_esc(self.workflow_name)}[/b]" if self.workflow_id else "all workflows"
            yield Static(f"Dashboard — {scope}", id="dash-title")
            yield Static(status_words(self.app), id="dash-engine")
            yield Static("Loading…", id="dash-totals")
            yield BarChart(id="dash-chart", bar_height=4)
            yield Static("Runs, newest first", classes="dash-caption")
            yield column_table("dash-runs", RUN_COLUMNS)
            yield Static("Latest enrollments", classes="dash-caption")
            yield column_table("dash-latest", ENROLL_COLUMNS)
            yield Static("", id="dash-detail")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_resize(self) -> None:
        """Workflow names take the width; at 60 columns the lesser numbers go (whole
        columns, never cut words). A short terminal gets a lower chart, a narrow one
        the days that fit (the newest)."""
        chart = self.query_one(BarChart)
        chart.bar_height = 2 if self.size.height < 24 else 4
        chart.styles.height = chart.bar_height + 1
        zone = self.app.zone_abbreviation()
        # The status column widens to the longest status shown ("⚠ 3 failed").
        status_width = max([9, *(len(self.status_cell(r)) for r in self.runs)])
        runs = [(k, f"When ({zone})" if k == "when" else label, status_width if k == "status" else w)
                for k, label, w in RUN_COLUMNS]
        enrolls = [(k, f"At ({zone})" if k == "at" else label, w) for k, label, w in ENROLL_COLUMNS]
        width = self.size.width
        run_columns = fit_columns(runs, width, "workflow", RUN_KEEP)
        enroll_columns = fit_columns(enrolls, width, "workflow", ("at", "record", "how"))
        if run_columns != self.run_columns or enroll_columns != self.enroll_columns:
            self.run_columns, self.enroll_columns = run_columns, enroll_columns
            set_columns(self.query_one("#dash-runs", DataTable), run_columns)
            set_columns(self.query_one("#dash-latest", DataTable), enroll_columns)
        self.show()

    def on_mount(self) -> None:
        self.query_one("#dash-runs", DataTable).focus()
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)

    # ---------------------------------------------------------------- loading

    @db_read("dashboard-load")
    def reload(self) -> DashboardData:
        today = self.app.clock.now().date()  # the rollup's days are UTC days
        return dashboard(self.workflow_id, today, days=DAYS, run_cap=RUN_CAP, enroll_cap=ENROLL_CAP)

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "dashboard-load":
            self.data = worker.result
            self.runs = list(self.data.runs)
            self.on_resize()  # a longer status may need a wider column; shows the data

    # ---------------------------------------------------------------- display

    def show(self) -> None:
        data = self.data
        if data is not None:
            self.query_one("#dash-totals", Static).update(
                f"Last {DAYS} days: [b]{data.enrolled:,}[/b] enrolled · {data.suppressed:,} suppressed · "
                f"{data.runs_count:,} run{'' if data.runs_count == 1 else 's'}")
            days = max(1, (self.size.width - CHART_AXIS - 1) // 2) if self.size.width else len(data.days)
            self.query_one(BarChart).set_data(data.days[-days:])
            sync_table(self.query_one("#dash-latest", DataTable),
                       [(str(e.id), self.enroll_cells(e)) for e in data.enrollments],
                       [k for k, _, _ in self.enroll_columns])
        self.show_runs()

    def show_runs(self) -> None:
        sync_table(self.query_one("#dash-runs", DataTable), [(str(r.id), self.run_cells(r)) for r in self.runs],
                   [k for k, _, _ in self.run_columns])
        self.show_detail()

    def show_detail(self) -> None:
        """The highlighted row of the table in focus, in words, with the whole name."""
        detail = self.query_one("#dash-detail", Static)
        latest = self.query_one("#dash-latest", DataTable)
        if self.focused is latest:
            key = cursor_key(latest)
            enrollment = next((e for e in (self.data.enrollments if self.data else []) if str(e.id) == key), None)
            detail.update(self.enroll_words(enrollment) if enrollment else "")
            return
        key = cursor_key(self.query_one("#dash-runs", DataTable))
        run = next((r for r in self.runs if str(r.id) == key), None)
        detail.update(self.run_words(run) if run else "")

    def detail_room(self) -> int:
        """Cells in the detail line's two rows (a part that does not fit is left out)."""
        return 2 * max(20, self.size.width - 2) - 4

    def run_words(self, r: RunRow) -> str:
        kind = "manual enrollment" if r.kind == RunKind.MANUAL else "run"
        return fit_parts([f"[b]{_esc(r.workflow)}[/b]", _esc(r.status_text), f"{kind} {self.app.local_time(r.when)}",
                          f"{r.enrolled:,} enrolled of {r.matched:,} matched", f"{r.suppressed:,} suppressed",
                          f"{r.in_progress:,} in progress", f"{r.completed:,} done"], self.detail_room())

    def enroll_words(self, e: EnrollRow) -> str:
        how = "by hand" if e.manual else "by its schedule"
        return fit_parts([f"[b]{_esc(e.workflow)}[/b]", f"record {e.record_id}",
                          f"enrolled {self.app.local_time(e.at)} {how}"], self.detail_room())

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_descendant_focus(self) -> None:
        self.show_detail()

    def run_cells(self, r: RunRow) -> tuple:
        widths = {k: w for k, _, w in self.run_columns}
        cells = {"when": self.app.local_time(r.when), "workflow": clip(r.workflow, widths.get("workflow", 22)),
                 "kind": "manual" if r.kind == RunKind.MANUAL else "sched",
                 "status": self.status_cell(r), "matched": f"{r.matched:,}",
                 "enrolled": f"{r.enrolled:,}", "suppressed": f"{r.suppressed:,}", "failed": f"{r.steps_failed:,}",
                 "in_progress": f"{r.in_progress:,}", "completed": f"{r.completed:,}"}
        return tuple(cells[k] for k, _, _ in self.run_columns)

    @staticmethod
    def status_cell(r: RunRow) -> str:
        """The run's outcome in a few cells: failed steps show ("⚠ 3 failed"); the
        detail line says it in full ("succeeded, 3 steps failed")."""
        if r.status == RunStatus.FAILED:
            return "⚠ failed"
        return f"⚠ {compact_count(r.steps_failed, 5)} failed" if r.steps_failed else r.status

    def enroll_cells(self, e: EnrollRow) -> tuple:
        widths = {k: w for k, _, w in self.enroll_columns}
        cells = {"at": self.app.local_time(e.at), "workflow": clip(e.workflow, widths.get("workflow", 22)),
                 "record": str(e.record_id),
                 "how": "manual" if e.manual else "scheduled"}
        return tuple(cells[k] for k, _, _ in self.enroll_columns)

    # ---------------------------------------------------------------- live

    @on(EngineMessage)
    def engine_message(self, message: EngineMessage) -> None:
        self.query_one("#dash-engine", Static).update(status_words(self.app))

    @on(RunFinishedMessage)
    @on(RunFailedMessage)
    def run_finished(self, message: RunFinishedMessage | RunFailedMessage) -> None:
        """A run of what this dashboard shows: its row at the top at once, then a reload."""
        event = message.event
        if self.workflow_id is None or event.workflow_id == self.workflow_id:
            if event.run_id is not None and all(r.id != event.run_id for r in self.runs):
                self.runs = [RunRow(id=event.run_id, workflow=event.workflow_name, kind=event.kind,
                                    status=event.status, when=event.at, matched=event.matched,
                                    enrolled=event.enrolled, suppressed=event.suppressed)] + self.runs[:RUN_CAP - 1]
                self.show_runs()
            self.reload()

    def on_misfire_message(self, message: MisfireMessage) -> None:
        if self.workflow_id is None or message.workflow_id == self.workflow_id:
            self.reload()

    def on_steps_ran_message(self, message: StepsRanMessage) -> None:
        self.reload()  # e.g. a manual enrollment from the command line woke this engine

    def on_workflows_changed(self, message: WorkflowsChanged) -> None:
        """A manual enrollment in this process (records screen) reports here."""
        if self.workflow_id is None or message.workflow_id in (None, self.workflow_id):
            self.reload()

    def on_screen_resume(self) -> None:
        self.query_one("#dash-engine", Static).update(status_words(self.app))

    # ---------------------------------------------------------------- actions

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss()


def _esc(text) -> str:
    return safe_markup(text, keep_lines=True)
