"""Read and write model of the operator's inbox: notifications and open tasks.

"Mine" is given as the names that count as this operator (``engine.identity`` decides
who that is: the operator and ``everyone``); ``None`` reads every operator's. Both lists
are bounded by ``cap``: unread notifications first, then read ones, newest first; tasks
by due date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from models.schema import Notification, ObjectType, Task, Workflow

CAP = 200


@dataclass(frozen=True)
class NoteRow:
    id: int
    at: datetime
    read: bool
    workflow: str
    operator: str
    message: str


@dataclass(frozen=True)
class TaskRow:
    id: int
    due: date | None
    owner: str
    title: str
    record: str


def load_inbox(recipients: list[str] | None, owner: str | None = None,
               cap: int = CAP) -> tuple[list[NoteRow], list[TaskRow]]:
    """Notifications addressed to any of ``recipients`` (None: all), and open tasks
    owned by ``owner`` or by nobody (``owner`` None: all open tasks)."""
    names = dict(Workflow.select(Workflow.id, Workflow.name).tuples())
    types = dict(ObjectType.select(ObjectType.id, ObjectType.name).tuples())
    N = Notification
    notes_q = N.select()
    if recipients is not None:
        notes_q = notes_q.where(N.operator.in_(recipients))
    notes = [NoteRow(n.id, n.created_at, bool(n.read), names.get(n.workflow_id, "—"), n.operator, n.message)
             for n in notes_q.order_by(N.read.asc(), N.created_at.desc(), N.id.desc()).limit(cap)]
    T = Task
    tasks_q = T.select().where(T.done == False)  # noqa: E712
    if owner is not None:
        tasks_q = tasks_q.where((T.owner == owner) | T.owner.is_null() | (T.owner == ""))
    tasks = [TaskRow(t.id, t.due_date, t.owner or "—", t.title,
                     f"{types.get(t.object_type_id, '?')} {t.record_id}" if t.record_id else "—")
             for t in tasks_q.order_by(T.due_date.asc(), T.id.asc()).limit(cap)]
    return notes, tasks


def mark_read(notification_id: int) -> None:
    Notification.update(read=True).where(Notification.id == notification_id).execute()


def mark_done(task_id: int) -> None:
    Task.update(done=True).where(Task.id == task_id).execute()
