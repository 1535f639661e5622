"""Workflow history (SPEC §6): every enrollment, step result, unenrollment, suppressed
record and missed / coalesced occurrence of one workflow, newest first.

Filters: record id, event type (a Select of ``models.enums.EventType``), a
since-date and an until-date (YYYY-MM-DD, or a date and time, in the workflow's time zone;
until a date includes that whole day). A filter the
operator mistyped is marked on its field with the reason and nothing is loaded, rather
than silently showing unfiltered rows.

Paging is the engine's keyset: each page is ``engine.history.history(..., before=
cursor)`` with the last row's cursor, so "more" costs the same on the millionth row as
on the first. The table is capped at ``ROW_CAP`` rows; beyond that the operator narrows
the filters. Secrets are already masked by ``engine.history``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.validation import ValidationResult, Validator
from textual.widgets import DataTable, Header, Input, Select, Static
from textual.worker import Worker

from models.enums import EventType
from models.errors import RotaError
from models.store import reads
from tui.messages import WorkflowRunMessage
from tui.text import safe_markup, safe_text
from tui.widgets import WrappingFooter, column_table, cursor_key
from tui.widgets.fit import clip
from tui.workers import WorkerReports, db_read

PAGE = 100
ROW_CAP = 2000
COLUMNS = (("at", "At", 12), ("type", "Type", 15), ("record", "Record", 8), ("step", "Step", 4),
           ("detail", "Detail", 27))
DETAIL_WIDTH = COLUMNS[-1][2]  # a longer detail ends in "…" after a word; the line below shows it whole


@dataclass(frozen=True)
class Filters:
    record_id: int | None
    type: str | None
    since: datetime | None
    until: datetime | None = None  # exclusive: a date alone means up to the end of that day


@dataclass(frozen=True)
class Page:
    filters: Filters
    rows: list[dict]
    append: bool
    more: bool  # a full page came back: there may be older rows


def read_page(workflow_name: str, filters: Filters, before: str | None) -> list[dict]:
    from engine.history import history

    return history(workflow_name, record_id=filters.record_id, type=filters.type, since=filters.since,
                   until=filters.until, limit=PAGE, before=before)




class RecordId(Validator):
    """A record id is a whole number (or nothing: any record)."""

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text or text.isdigit():
            return self.success()
        return self.failure(f'record id "{text}" is not a number')


def until_instant(text: str, tz: str) -> datetime:
    """The end of an "until" filter: a date alone includes that whole day."""
    from engine.history import parse_when

    when = parse_when(text, tz)
    return when + timedelta(days=1) if len(text.strip()) == 10 else when


class SinceDate(Validator):
    """YYYY-MM-DD (start of that day in the workflow's zone) or a date and time; the
    Input marks itself invalid (red) while the text cannot be read."""

    def __init__(self, screen: HistoryScreen, label: str = "since") -> None:
        super().__init__()
        self.screen = screen
        self.label = label

    def validate(self, value: str) -> ValidationResult:
        from engine.history import parse_when

        text = value.strip()
        if not text:
            return self.success()
        try:
            parse_when(text, self.screen.tz)
        except (RotaError, ValueError) as exc:
            return self.failure(f"{self.label}: {exc} (use YYYY-MM-DD)")
        return self.success()


class HistoryScreen(WorkerReports, Screen):
    """One workflow's history with filters and keyset paging."""

    CSS_PATH = "history.tcss"
    HELP_TITLE = "Workflow history"
    BINDINGS = [
        Binding("m", "more", "More", tooltip="Load the next (older) page"),
        Binding("f", "focus_filters", "Filter", tooltip="Filter by record, type or date"),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, workflow_name: str) -> None:
        super().__init__()
        self.workflow_name = workflow_name
        self.rows: list[dict] = []
        self.by_cursor: dict[str, dict] = {}
        self.has_more = False
        self.filters: Filters | None = None  # those of the rows shown (what "more" continues)
        self.tz = "UTC"

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        yield Static(f"History — [b]{_esc(self.workflow_name)}[/b]", id="hist-title")
        with Horizontal(id="hist-filters"):
            yield Input(placeholder="record id", id="hist-record", validators=[RecordId()])
            yield Select([(t.replace("_", " "), t) for t in EventType], prompt="any type", id="hist-type")
            yield Input(placeholder="since (date)", id="hist-since", validators=[SinceDate(self)])
            yield Input(placeholder="until (date)", id="hist-until", validators=[SinceDate(self, "until")])
        yield Static("", id="hist-error")
        yield column_table("hist-table", COLUMNS)
        yield Static("", id="hist-detail")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#hist-table", DataTable).focus()
        self.tz = self.app.settings.timezone
        self.load_zone()
        self.apply_filters()

    # ---------------------------------------------------------------- filters

    def read_filters(self) -> Filters | None:
        """The filters, or None after marking each bad field (its validator sets the
        Input's invalid style) and saying why under the filters."""
        from engine.history import parse_when

        record_box = self.query_one("#hist-record", Input)
        since_box = self.query_one("#hist-since", Input)
        until_box = self.query_one("#hist-until", Input)
        problems = []
        for box in (record_box, since_box, until_box):
            result = box.validate(box.value)
            if result is not None and not result.is_valid:
                problems += result.failure_descriptions
        error = self.query_one("#hist-error", Static)
        error.update(_esc("; ".join(problems)))
        error.display = bool(problems)
        if problems:
            return None
        record_text, since_text = record_box.value.strip(), since_box.value.strip()
        until_text = until_box.value.strip()
        kind = self.query_one("#hist-type", Select).value
        since = parse_when(since_text, self.tz) if since_text else None
        until = until_instant(until_text, self.tz) if until_text else None
        if since is not None and until is not None and until <= since:
            error.update("until: comes before since; give a later date")
            error.display = True
            return None
        return Filters(int(record_text) if record_text else None, None if kind is Select.NULL else str(kind),
                       since, until)

    def apply_filters(self) -> None:
        filters = self.read_filters()
        if filters is not None:
            self.load(filters, None, False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filters()
        self.query_one("#hist-table", DataTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.apply_filters()

    # ---------------------------------------------------------------- loading

    @db_read("history-zone")
    def load_zone(self) -> str:
        return reads.workflow_timezone(self.workflow_name, self.app.settings.timezone)

    @db_read("history-load")
    def load(self, filters: Filters, before: str | None, append: bool) -> Page:
        rows = read_page(self.workflow_name, filters, before)
        return Page(filters, rows, append, len(rows) >= PAGE)

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "history-zone":
            self.tz = worker.result
        elif worker.group == "history-load":
            page: Page = worker.result
            self.filters = page.filters
            self.rows = (self.rows + page.rows if page.append else list(page.rows))[:ROW_CAP]
            self.by_cursor = {r["cursor"]: r for r in self.rows}
            self.has_more = page.more and len(self.rows) < ROW_CAP
            self.show(page)

    def show(self, page: Page) -> None:
        table = self.query_one("#hist-table", DataTable)
        if not page.append:
            table.clear()
        for row in page.rows:
            if row["cursor"] in table.rows or table.row_count >= ROW_CAP:
                continue
            at = datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
            table.add_row(self.app.local_time(at), row["type"].replace("_", " "),
                          "" if row["record_id"] is None else str(row["record_id"]),
                          "" if row["step"] is None else str(row["step"]),
                          safe_markup(clip(safe_text(self.detail_text(row)), DETAIL_WIDTH)), key=row["cursor"])
        self.show_detail()
        self.refresh_bindings()

    def detail_text(self, row: dict) -> str:
        """What happened, in words; an occurrence without detail (missed, coalesced)
        names its scheduled time."""
        from engine.history import summary

        text = summary(row)
        if not text and row.get("scheduled_for"):
            when = datetime.fromisoformat(row["scheduled_for"].replace("Z", "+00:00"))
            text = f"occurrence {self.app.local_time(when, '%d %b %Y %H:%M')}"
        return text

    def show_detail(self) -> None:
        """Below the table: the highlighted row's whole detail (the column crops it),
        then how many rows are shown and whether there are more."""
        tail = ("m loads older rows" if self.has_more else
                f"capped at {ROW_CAP:,} rows: narrow the filters" if len(self.rows) >= ROW_CAP else "the end")
        shown = f"{len(self.rows):,} event{'s' if len(self.rows) != 1 else ''} shown · {tail}"
        row = self.by_cursor.get(cursor_key(self.query_one("#hist-table", DataTable)) or "")
        current = self.detail_text(row) if row else ""
        self.query_one("#hist-detail", Static).update(
            _esc(f"{current}\n{shown}") if self.rows else "No events match.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    @on(WorkflowRunMessage)
    def workflow_run_message(self, message: WorkflowRunMessage) -> None:
        """New runs of this workflow show at the top, unless the operator is paging."""
        if message.workflow_name == self.workflow_name and len(self.rows) <= PAGE:
            self.apply_filters()

    # ---------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "more":
            return True if self.has_more else None
        return True

    def action_more(self) -> None:
        if self.has_more and self.rows and self.filters is not None:
            self.load(self.filters, self.rows[-1]["cursor"], True)

    def action_focus_filters(self) -> None:
        self.query_one("#hist-record", Input).focus()

    def action_reload(self) -> None:
        self.apply_filters()

    def action_back(self) -> None:
        self.dismiss()


def _esc(text) -> str:
    return safe_markup(text, keep_lines=True)
