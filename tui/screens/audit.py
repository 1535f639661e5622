"""Audit log of one workflow (SPEC §6): who changed it, when, and what changed, with
its kept versions and the way back to any of them.

The upper table lists audit entries newest first (bounded by ``ENTRY_CAP``); the
readable diff of the highlighted entry shows below it. The versions table lists the
kept versions; restoring one asks first, then saves it as a new version through
``engine.workflows.restore_version`` so the restore is itself audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker

from tui.messages import WorkflowsChanged
from tui.text import safe_markup
from tui.widgets import WrappingFooter, column_table, cursor_key, sync_table
from tui.workers import WorkerReports, db_read, db_write

ENTRY_CAP = 200
ENTRY_COLUMNS = (("at", "When", 12), ("actor", "Who", 16), ("action", "What", 44))
VERSION_COLUMNS = (("version", "Version", 7), ("at", "Saved", 12), ("actor", "By", 16), ("status", "Status", 8))


@dataclass(frozen=True)
class EntryRow:
    id: int
    at: datetime
    actor: str
    action: str
    diff: str


@dataclass(frozen=True)
class VersionRow:
    version: int
    at: datetime
    actor: str
    status: str


def load_audit(workflow_name: str) -> tuple[list[EntryRow], list[VersionRow], int]:
    """Entries newest first, versions newest first, and the current version number."""
    from engine.audit import audit_entries, versions
    from engine.workflows import get_workflow

    wf = get_workflow(workflow_name)
    entries = [EntryRow(e.id, e.at, e.actor, e.action.replace(",", ", ").replace("_", " "), e.diff or "")
               for e in audit_entries(wf.name, ENTRY_CAP)]
    kept = [VersionRow(v.version, v.at, v.actor, (v.body or {}).get("status", "")) for v in versions(wf)]
    return entries, kept, wf.version


class AuditScreen(WorkerReports, Screen):
    """Audit entries, the diff of the highlighted one, and the versions to restore."""

    CSS_PATH = "audit.tcss"
    HELP_TITLE = "Audit log"
    BINDINGS = [
        Binding("v", "restore", "Restore version", tooltip="Make this version current (asks)"),
        Binding("tab", "app.focus_next", "Next table", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, workflow_name: str) -> None:
        super().__init__()
        self.workflow_name = workflow_name
        self.entries: dict[str, EntryRow] = {}
        self.versions: list[VersionRow] = []
        self.current_version: int | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with Vertical(id="audit"):
            yield Static(f"Audit log — [b]{_esc(self.workflow_name)}[/b]", id="audit-title")
            yield column_table("audit-entries", ENTRY_COLUMNS)
            with VerticalScroll(id="audit-diff-box"):  # a long diff scrolls here, tables stay put
                yield Static("", id="audit-diff")
            yield Static("Versions (v restores the highlighted one)", classes="audit-caption")
            yield column_table("audit-versions", VERSION_COLUMNS)
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#audit-entries", DataTable).focus()
        self.reload()

    @db_read("audit-load")
    def reload(self):
        return load_audit(self.workflow_name)

    @db_write("audit-restore")
    def restore(self, version: int) -> str:
        from engine.audit import current_actor
        from engine.workflows import restore_version

        wf = restore_version(self.workflow_name, version, actor=current_actor(self.app.settings.operator),
                             now=self.app.clock.now())
        self.app.wake_engine()
        return f'Restored version {version} of "{self.workflow_name}" (now version {wf.version}).'

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "audit-load":
            entries, kept, current = worker.result
            self.entries = {str(e.id): e for e in entries}
            self.versions, self.current_version = kept, current
            local = self.app.local_time
            sync_table(self.query_one("#audit-entries", DataTable),
                       [(str(e.id), (local(e.at), e.actor, e.action)) for e in entries],
                       [k for k, _, _ in ENTRY_COLUMNS])
            sync_table(self.query_one("#audit-versions", DataTable),
                       [(str(v.version), (f"{v.version}{' *' if v.version == current else ''}", local(v.at),
                                          v.actor, v.status)) for v in kept],
                       [k for k, _, _ in VERSION_COLUMNS])
            self.show_diff()
            self.refresh_bindings()
        elif worker.group == "audit-restore":
            self.notify(str(worker.result))
            self.reload()

    def show_diff(self) -> None:
        entry = self.entries.get(cursor_key(self.query_one("#audit-entries", DataTable)) or "")
        text = "No audit entries." if entry is None else (
            f"{entry.action} by {entry.actor}:\n{entry.diff}" if entry.diff else f"{entry.action} by {entry.actor}")
        self.query_one("#audit-diff", Static).update(_esc(text))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "audit-entries":
            self.show_diff()
        self.refresh_bindings()

    def on_workflows_changed(self, message: WorkflowsChanged) -> None:
        self.reload()

    def selected_version(self) -> int | None:
        key = cursor_key(self.query_one("#audit-versions", DataTable))
        return None if key is None else int(key)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "restore":
            version = self.selected_version()
            return True if version is not None and version != self.current_version else None
        return True

    def action_restore(self) -> None:
        version = self.selected_version()
        if version is None or version == self.current_version:
            return
        from tui.screens.confirm import ConfirmScreen

        question = (f'Restore version {version} of "{self.workflow_name}"? It is saved as a new version '
                    "and takes effect at once; the audit log records the restore.")
        self.app.push_screen(ConfirmScreen(question, title="Restore version", yes="Restore"),
                             lambda yes: yes and self.restore(version))

    def action_back(self) -> None:
        self.dismiss()


def _esc(text) -> str:
    return safe_markup(text, keep_lines=True)
