"""The operator's inbox (SPEC §4): internal notifications sent to this operator, and
open tasks, newest first; mark a notification read, a task done.

"This operator" is the settings' operator name, else the current actor (OS user, SSH
address) — the same name ``engine.audit.current_actor`` writes into the audit log, so
a workflow that notifies "alice" reaches the app where alice is the operator. Both
lists are bounded (``CAP`` rows): unread notifications first, then read ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker

from tui.messages import EngineEventMessage
from tui.workers import WorkerReports, db_read, db_write
from tui.widgets import WrappingFooter, column_table, cursor_key, sync_table

CAP = 200
NOTE_COLUMNS = (("at", "When", 12), ("state", "", 4), ("workflow", "Workflow", 14), ("message", "Message", 41))
TASK_COLUMNS = (("due", "Due", 10), ("owner", "Owner", 12), ("title", "Task", 34), ("record", "Record", 13))


@dataclass(frozen=True)
class NoteRow:
    id: int
    at: datetime
    read: bool
    workflow: str
    message: str


@dataclass(frozen=True)
class TaskRow:
    id: int
    due: date | None
    owner: str
    title: str
    record: str


def load_inbox(operator: str | None) -> tuple[list[NoteRow], list[TaskRow]]:
    """``operator`` None: every operator's notifications (a shared desk)."""
    from models.schema import Notification, ObjectType, Task, Workflow

    names = dict(Workflow.select(Workflow.id, Workflow.name).tuples())
    types = dict(ObjectType.select(ObjectType.id, ObjectType.name).tuples())
    N = Notification
    query = N.select() if operator is None else N.select().where(N.operator == operator)
    notes = [NoteRow(n.id, n.created_at, bool(n.read), names.get(n.workflow_id, "—"),
                     n.message if operator is not None else f"{n.operator}: {n.message}")
             for n in query
             .order_by(N.read.asc(), N.created_at.desc(), N.id.desc()).limit(CAP)]
    T = Task
    tasks = [TaskRow(t.id, t.due_date, t.owner or "—", t.title,
                     f"{types.get(t.object_type_id, '?')} {t.record_id}" if t.record_id else "—")
             for t in T.select().where(T.done == False).order_by(T.due_date.asc(), T.id.asc()).limit(CAP)]  # noqa: E712
    return notes, tasks


def operator_name(settings) -> str:
    from engine.audit import current_actor

    return current_actor(settings.operator)


class InboxScreen(WorkerReports, Screen):
    """Notifications for this operator and open tasks."""

    CSS_PATH = "inbox.tcss"
    HELP_TITLE = "Inbox"
    BINDINGS = [
        Binding("r", "mark_read", "Mark read", tooltip="Mark this notification read"),
        Binding("d", "done", "Task done", tooltip="Mark the highlighted task done"),
        Binding("o", "everyone", "Everyone", tooltip="Every operator's, or only yours"),
        Binding("tab", "app.focus_next", "Next table", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.operator = ""
        self.everyone = False
        self.notes: dict[str, NoteRow] = {}
        self.tasks: dict[str, TaskRow] = {}

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with VerticalScroll(id="inbox"):
            yield Static("Notifications", id="inbox-notes-title", classes="inbox-caption")
            yield column_table("inbox-notes", NOTE_COLUMNS)
            yield Static("Open tasks", id="inbox-tasks-title", classes="inbox-caption")
            yield column_table("inbox-tasks", TASK_COLUMNS)
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.operator = operator_name(self.app.settings)
        self.query_one("#inbox-notes", DataTable).focus()
        self.reload()

    @db_read("inbox-load")
    def reload(self):
        return load_inbox(None if self.everyone else self.operator)

    @db_write("inbox-change")
    def change(self, kind: str, row_id: int) -> str:
        from models.schema import Notification, Task

        if kind == "note":
            Notification.update(read=True).where(Notification.id == row_id).execute()
            return "Marked read."
        Task.update(done=True).where(Task.id == row_id).execute()
        return "Task done."

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "inbox-load":
            notes, tasks = worker.result
            self.notes = {str(n.id): n for n in notes}
            self.tasks = {str(t.id): t for t in tasks}
            local = self.app.local_time
            sync_table(self.query_one("#inbox-notes", DataTable),
                       [(str(n.id), (local(n.at), "" if n.read else "new", n.workflow, n.message)) for n in notes],
                       [k for k, _, _ in NOTE_COLUMNS])
            sync_table(self.query_one("#inbox-tasks", DataTable),
                       [(str(t.id), (t.due.isoformat() if t.due else "—", t.owner, t.title, t.record))
                        for t in tasks], [k for k, _, _ in TASK_COLUMNS])
            unread = sum(1 for n in notes if not n.read)
            whose = "every operator" if self.everyone else _esc(self.operator)
            self.query_one("#inbox-notes-title", Static).update(
                f"Notifications for [b]{whose}[/b] · {unread} unread")
            self.query_one("#inbox-tasks-title", Static).update(f"Open tasks · {len(tasks)}"
                                                                 + (f" (first {CAP})" if len(tasks) >= CAP else ""))
            self.refresh_bindings()
        elif worker.group == "inbox-change":
            self.notify(str(worker.result))
            self.reload()

    def highlighted(self, table_id: str) -> str | None:
        return cursor_key(self.query_one(table_id, DataTable))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_engine_event_message(self, message: EngineEventMessage) -> None:
        if type(message.event).__name__ == "StepsRan":  # steps write tasks and notifications
            self.reload()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "mark_read":
            key = self.highlighted("#inbox-notes")
            return True if key in self.notes and not self.notes[key].read else None
        if action == "done":
            return True if self.highlighted("#inbox-tasks") is not None else None
        return True

    def action_mark_read(self) -> None:
        key = self.highlighted("#inbox-notes")
        if key in self.notes and not self.notes[key].read:
            self.change("note", int(key))

    def action_done(self) -> None:
        key = self.highlighted("#inbox-tasks")
        if key is not None:
            self.change("task", int(key))

    def action_everyone(self) -> None:
        self.everyone = not self.everyone
        self.reload()

    def action_back(self) -> None:
        self.dismiss()


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
