"""Simulate (issue 12): every run of a workflow in a date range, what each would enroll.

Opened with ``s`` from the workflow editor (for the workflow as edited, saved or not)
and from the review screen (the saved workflow). The counting runs in a thread worker
(``engine.simulate``) and reports its progress; the table shows local time, UTC, the
projected enrolled and suppressed counts and the notes (pause day, DST, skipped day).
Nothing is written to the database. Keys: enter run again · escape close.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar, Static
from textual.worker import Worker

from engine.simulate import Occurrence, parse_day, simulate, simulate_spec
from models.errors import RotaError
from models.settings import load_settings
from tui.text import safe_markup
from tui.widgets import column_table
from tui.workers import WorkerReports, db_read, friendly

DEFAULT_DAYS = 30
MAX_ROWS = 2000  # the table is bounded; the CLI lists everything

COLUMNS = (("local", "Local time", 22), ("utc", "UTC", 18), ("enroll", "Enroll", 9),
           ("supp", "Suppr.", 7), ("notes", "Notes", 60))


class SimulateProgress(Message):
    """Dates counted so far (from the worker's thread)."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done, self.total = done, total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SimulateProgress)  # only the newest progress matters


class SimulateScreen(WorkerReports, ModalScreen[None]):
    """Simulate ``name`` (saved) or ``spec`` (a SPEC §9 body being edited)."""

    DEFAULT_CSS = """
    SimulateScreen { align: center middle; }
    SimulateScreen > #sim { width: 100%; height: 100%; border: round $accent; padding: 0 1; }
    SimulateScreen #sim-range { height: auto; }
    SimulateScreen #sim-range Input { width: 16; }
    SimulateScreen #sim-range Label { padding: 1 1 0 0; }
    SimulateScreen #sim-status { height: auto; }
    SimulateScreen ProgressBar { height: 1; }
    SimulateScreen DataTable { height: 1fr; }
    """
    HELP_TITLE = "Simulate"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", "Simulate", priority=True),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, name: str | None = None, spec: dict | None = None, *, today: date | None = None) -> None:
        super().__init__()
        self.workflow_name = name
        self.spec = spec
        self.start = today or date.today()
        self.end = self.start + timedelta(days=DEFAULT_DAYS - 1)
        self.found: list[Occurrence] = []

    def compose(self) -> ComposeResult:
        title = self.workflow_name or (self.spec or {}).get("name") or "this workflow"
        with Vertical(id="sim"):
            yield Static(f"Simulate [b]{_esc(title)}[/b]: every run in the range, counted with today's data; "
                         "nothing is written", id="sim-title")
            with Horizontal(id="sim-range"):
                yield Label("From")
                yield Input(self.start.isoformat(), id="sim-from", placeholder="YYYY-MM-DD")
                yield Label("To")
                yield Input(self.end.isoformat(), id="sim-to", placeholder="YYYY-MM-DD")
            yield Static("", id="sim-status")
            yield ProgressBar(total=None, show_eta=False, id="sim-progress")
            yield column_table("sim-table", COLUMNS)

    def on_mount(self) -> None:
        self.action_run()

    def action_close(self) -> None:
        self.workers.cancel_group(self, "simulate")
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        try:
            start = parse_day(self.query_one("#sim-from", Input).value, "From")
            end = parse_day(self.query_one("#sim-to", Input).value, "To")
        except RotaError as exc:
            self._status(f"[red]{_esc(str(exc))}[/red]")
            return
        self._status("Counting…")
        bar = self.query_one("#sim-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self.count(start, end)

    @db_read("simulate")
    def count(self, start: date, end: date) -> list[Occurrence]:
        def progress(done: int, total: int) -> None:
            self.post_message(SimulateProgress(done, total))

        settings = getattr(self.app, "settings", None) or load_settings()
        if self.spec is not None:
            return simulate_spec(self.spec, start, end, settings=settings, progress=progress)
        return simulate(self.workflow_name or "", start, end, settings=settings, progress=progress)

    def on_simulate_progress(self, message: SimulateProgress) -> None:
        bar = self.query_one("#sim-progress", ProgressBar)
        bar.update(total=max(message.total, 1), progress=message.done)
        self._status(f"Counting… {message.done:,} of {message.total:,} dates")

    def worker_error(self, worker: Worker) -> bool:
        """A failure is shown here, in one line (a bad workflow, an unreadable database)."""
        if worker.group != "simulate" or worker.error is None:
            return False
        self._status(f"[red]{_esc(friendly(worker.error))}[/red]")
        self.query_one("#sim-progress", ProgressBar).update(total=1, progress=0)
        return True

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "simulate":
            self._show(worker.result or [])

    def _show(self, found: list[Occurrence]) -> None:
        self.found = found
        table = self.query_one("#sim-table")
        table.clear()
        for i, occ in enumerate(self.found[:MAX_ROWS]):
            local = occ.local_time
            table.add_row(f"{local:%a %Y-%m-%d %H:%M}", occ.to_json()["scheduled_for"][:16].replace("T", " "),
                          f"{occ.would_enroll:,}", f"{occ.suppressed:,}", "; ".join(occ.notes), key=str(i))
        bar = self.query_one("#sim-progress", ProgressBar)
        bar.update(total=1, progress=1)
        more = f" (first {MAX_ROWS:,} shown; `rota simulate` lists all)" if len(self.found) > MAX_ROWS else ""
        noted = sum(1 for o in self.found if o.notes)
        self._status(f"{len(self.found):,} runs, {noted:,} with notes{more}. Nothing was written.")

    def _status(self, text: str) -> None:
        self.query_one("#sim-status", Static).update(text)


def _esc(text: str) -> str:
    return safe_markup(text, keep_lines=True)
