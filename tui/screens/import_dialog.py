"""Import a CSV file into an object type, from the records screen (issue 14 §7).

The import runs as a write on the app's write queue (``tui.workers``), all or nothing:
``models.importer.import_csv`` reports progress after every batch from its thread, and
the dialog shows it in a ``ProgressBar`` with rows per second and the time left.
Escape while it runs cancels it: the importer stops at its next batch and rolls back,
and the dialog closes only once that is done, so the database is as it was. It
dismisses with the number of records imported, or None.
"""
from __future__ import annotations

import threading
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar, Static
from textual.worker import Worker

from models.errors import RotaError
from models.importer import ImportCancelled, ImportProgress, import_csv
from tui.text import safe_markup
from tui.workers import WorkerReports, db_write


class ImportProgressed(Message, bubble=False):
    """One batch done (posted from the import thread); only the latest matters."""

    def __init__(self, progress: ImportProgress) -> None:
        self.progress = progress
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ImportProgressed)


def progress_words(p: ImportProgress) -> str:
    """ "120,000 rows · 48,210 rows/s · about 12 s left"."""
    parts = [f"{p.rows:,} row{'' if p.rows == 1 else 's'}", f"{p.rows_per_s:,.0f} rows/s"]
    eta = p.eta_s
    if p.done:
        parts.append(f"done in {p.elapsed_s:.1f} s")
    elif eta is not None:
        parts.append(f"about {eta:.0f} s left" if eta < 120 else f"about {eta / 60:.0f} min left")
    return " · ".join(parts)


class ImportDialog(WorkerReports, ModalScreen[int | None]):
    """Ask for a CSV file, import it with progress; escape cancels (nothing imported)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, type_name: str, type_label: str | None = None, tz_name: str | None = None) -> None:
        super().__init__()
        self.type_name = type_name
        self.type_label = type_label or type_name
        self.tz_name = tz_name
        self.cancel_event = threading.Event()
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="import"):
            yield Static(f"Import a CSV file into {self.type_label} records", classes="title")
            yield Label("File (the first line names the columns; all rows or none are imported)")
            yield Input(placeholder="path/to/records.csv", id="import-path")
            yield ProgressBar(total=None, show_eta=False, id="import-bar")
            yield Static("Enter starts the import · Escape cancels", id="import-status", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#import-bar").display = False
        self.query_one("#import-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.running:
            return
        path = event.value.strip()
        if not path:
            self.status("Type the path of a CSV file first.")
            return
        self.running = True
        self.query_one("#import-path", Input).disabled = True
        bar = self.query_one("#import-bar", ProgressBar)
        bar.display = True
        bar.update(total=100, progress=0)
        self.status("Starting… (Escape cancels: nothing is imported)")
        self.run_import(str(Path(path).expanduser()))

    @db_write("import")
    def run_import(self, path: str) -> int:
        result = import_csv(self.type_name, path, tz_name=self.tz_name,
                            progress=lambda p: self.post_message(ImportProgressed(p)), cancel=self.cancel_event)
        return result.count

    def on_import_progressed(self, message: ImportProgressed) -> None:
        p = message.progress
        if p.fraction is not None:
            self.query_one("#import-bar", ProgressBar).update(total=100, progress=round(p.fraction * 100, 1))
        self.status(progress_words(p))

    def worker_succeeded(self, worker: Worker) -> None:
        count = worker.result
        self.notify(f"Imported {count:,} {self.type_label.lower()} record{'' if count == 1 else 's'}.")
        self.dismiss(count)

    def worker_error(self, worker: Worker) -> bool:
        error = worker.error
        if isinstance(error, ImportCancelled):
            self.notify("Import cancelled: nothing was imported.")
            self.dismiss(None)
            return True
        if isinstance(error, RotaError):  # a bad file or value: say which; the dialog stays to fix the path
            self.running = False
            self.query_one("#import-path", Input).disabled = False
            self.query_one("#import-bar").display = False
            self.status(f"Not imported (nothing was): {error}", error=True)
            self.query_one("#import-path", Input).focus()
            return True
        self.running = False
        self.dismiss(None)
        return False

    def status(self, text: str, *, error: bool = False) -> None:
        box = self.query_one("#import-status", Static)
        box.set_class(error, "-error")
        box.update(safe_markup(text))  # an error echoes the file's values

    def action_cancel(self) -> None:
        """Before the start: close. While importing: stop it; the dialog closes once the
        importer has rolled back."""
        if not self.running:
            self.dismiss(None)
            return
        self.cancel_event.set()
        self.status("Cancelling… (rolling back: nothing is imported)")
