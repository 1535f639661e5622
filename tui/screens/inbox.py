"""The operator's inbox (SPEC §4, issue 11 §7): internal notifications and open tasks,
newest first; mark a notification read, a task done.

"Mine" (the default) is what ``engine.identity`` says this operator is: the settings'
operator name, else the OS user — the name notify steps address and the audit log
writes. Notifications to that name or to ``everyone`` are mine, and tasks owned by it or
by nobody. "o" shows every operator's. The SSH address is shown beside the name, never
part of it. The reading and writing is in ``models.store.inbox``.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker

from engine.identity import EVERYONE, Identity, current_identity
from models.store.inbox import CAP, NoteRow, TaskRow, load_inbox
from tui.messages import RunFailedMessage, StepsRanMessage
from tui.text import safe_markup
from tui.widgets import WrappingFooter, column_table, cursor_key, sync_table
from tui.workers import WorkerReports, db_read, db_write

NOTE_COLUMNS = (("at", "When", 12), ("state", "", 4), ("workflow", "Workflow", 14), ("message", "Message", 41))
TASK_COLUMNS = (("due", "Due", 10), ("owner", "Owner", 12), ("title", "Task", 34), ("record", "Record", 13))


def read_inbox(me: str | None) -> tuple[list[NoteRow], list[TaskRow]]:
    """``me`` None: every operator's (a shared desk)."""
    if me is None:
        return load_inbox(None, None)
    return load_inbox([me, EVERYONE], me)


class InboxScreen(WorkerReports, Screen):
    """Notifications for this operator and open tasks."""

    CSS_PATH = "inbox.tcss"
    HELP_TITLE = "Inbox"
    BINDINGS = [
        Binding("r", "mark_read", "Mark read", tooltip="Mark this notification read"),
        Binding("d", "done", "Task done", tooltip="Mark the highlighted task done"),
        Binding("o", "show(True)", "Everyone", tooltip="Every operator's notifications and tasks"),
        Binding("o", "show(False)", "Mine", tooltip="Only your notifications and tasks (and everyone's)"),
        Binding("tab", "app.focus_next", "Next table", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.identity = Identity("")
        self.everyone = False
        self.notes: dict[str, NoteRow] = {}
        self.tasks: dict[str, TaskRow] = {}

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with VerticalScroll(id="inbox"):
            yield Static("Notifications", id="inbox-notes-title", classes="inbox-caption")
            yield column_table("inbox-notes", NOTE_COLUMNS)
            yield Static("", id="inbox-detail", classes="inbox-caption")
            yield Static("Open tasks", id="inbox-tasks-title", classes="inbox-caption")
            yield column_table("inbox-tasks", TASK_COLUMNS)
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.identity = current_identity(self.app.settings)
        self.query_one("#inbox-notes", DataTable).focus()
        self.reload()

    @db_read("inbox-load")
    def reload(self):
        return read_inbox(None if self.everyone else self.identity.name)

    @db_write("inbox-change")
    def change(self, kind: str, row_id: int) -> str:
        from models.store.inbox import mark_done, mark_read

        if kind == "note":
            mark_read(row_id)
            return "Marked read."
        mark_done(row_id)
        return "Task done."

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "inbox-load":
            notes, tasks = worker.result
            self.notes = {str(n.id): n for n in notes}
            self.tasks = {str(t.id): t for t in tasks}
            local = self.app.local_time
            sync_table(self.query_one("#inbox-notes", DataTable),
                       [(str(n.id), (local(n.at), "" if n.read else "new", n.workflow, self.note_text(n)))
                        for n in notes],
                       [k for k, _, _ in NOTE_COLUMNS])
            sync_table(self.query_one("#inbox-tasks", DataTable),
                       [(str(t.id), (t.due.isoformat() if t.due else "—", t.owner, t.title, t.record))
                        for t in tasks], [k for k, _, _ in TASK_COLUMNS])
            unread = sum(1 for n in notes if not n.read)
            self.query_one("#inbox-notes-title", Static).update(
                f"{self.whose()} · {unread} unread · times in {_esc(self.app.settings.timezone)}")
            self.query_one("#inbox-tasks-title", Static).update(f"Open tasks · {len(tasks)}"
                                                                 + (f" (first {CAP})" if len(tasks) >= CAP else ""))
            self.show_detail()
            self.refresh_bindings()
        elif worker.group == "inbox-change":
            self.notify(str(worker.result))
            self.reload()

    def whose(self) -> str:
        if self.everyone:
            return "Notifications for [b]every operator[/b]"
        beside = f" · SSH from {_esc(self.identity.ssh_from)}" if self.identity.ssh_from else ""
        return f"Notifications for [b]{_esc(self.identity.name)}[/b] and {EVERYONE}{beside}"

    def note_text(self, note: NoteRow) -> str:
        """Mine: the message; everyone's: who it was for, then the message."""
        return f"{note.operator}: {note.message}" if self.everyone else note.message

    def highlighted(self, table_id: str) -> str | None:
        return cursor_key(self.query_one(table_id, DataTable))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()
        if event.data_table.id == "inbox-notes":
            self.show_detail()

    def show_detail(self) -> None:
        """The highlighted notification whole (the table cuts long messages)."""
        note = self.notes.get(self.highlighted("#inbox-notes") or "")
        text = "" if note is None else (
            f"{_esc(self.app.local_time(note.at, '%a %d %b %Y %H:%M'))} · to {_esc(note.operator)} · "
            f"{_esc(note.workflow)}\n{_esc(note.message)}")
        self.query_one("#inbox-detail", Static).update(text)

    def on_resize(self) -> None:
        """The message and task columns take the width the fixed ones leave."""
        spare = self.size.width - 4
        for table_id, columns, key in (("#inbox-notes", NOTE_COLUMNS, "message"),
                                       ("#inbox-tasks", TASK_COLUMNS, "title")):
            table = self.query_one(table_id, DataTable)
            fixed = sum(width + 2 for k, _, width in columns if k != key)
            column = table.columns.get(ColumnKey(key))
            if column is not None:
                column.width = max(16, spare - fixed - 2)
                table._clear_caches()  # cells were rendered at the old width (no public way)
                table.refresh(layout=True)

    def on_steps_ran_message(self, message: StepsRanMessage) -> None:
        self.reload()  # steps write tasks and notifications

    def on_run_failed_message(self, message: RunFailedMessage) -> None:
        self.reload()  # a failed run writes a notification

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "mark_read":
            key = self.highlighted("#inbox-notes")
            return True if key in self.notes and not self.notes[key].read else None
        if action == "done":
            return True if self.highlighted("#inbox-tasks") is not None else None
        if action == "show":  # "o" is bound twice: the footer names what it will show
            return parameters != (self.everyone,)
        return True

    def action_mark_read(self) -> None:
        key = self.highlighted("#inbox-notes")
        if key in self.notes and not self.notes[key].read:
            self.change("note", int(key))

    def action_done(self) -> None:
        key = self.highlighted("#inbox-tasks")
        if key is not None:
            self.change("task", int(key))

    def action_show(self, everyone: bool) -> None:
        self.everyone = everyone
        self.refresh_bindings()
        self.reload()

    def action_back(self) -> None:
        self.dismiss()


def _esc(text) -> str:
    return safe_markup(text, keep_lines=True)
