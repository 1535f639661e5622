"""Messages that cross from other threads into the UI.

The engine thread and the workflow service layer report through callbacks; the app
turns each report into one of these messages with ``post_message`` (thread-safe, never
blocking the engine while the UI is busy).

Each engine event (``engine/events.py``) has its own message class, so screens handle
what they show by type (``on_run_finished_message``, or ``@on(WorkflowRunMessage)`` for
every event about one workflow's runs) and never by the event's class name.
``engine_message(event)`` picks the class; ``MESSAGES`` is the table, and a test checks
that every event type has its own entry.

Messages whose only effect is "reload from the database" or "show the latest status"
set ``can_replace``: when several are queued, Textual drops the older ones, so a burst
of engine activity costs one refresh, not hundreds.

They do not bubble: the app posts them to itself and then hands a copy to each
screen; a bubbling copy would come back to the app and go round for ever.
"""
from __future__ import annotations

from typing import ClassVar

from textual.message import Message

from engine.events import EngineError, EngineEvent, EngineStatus, Misfire, RunFailed, RunFinished, RunStarted, StepsRan


class EngineMessage(Message, bubble=False):
    """Base of the engine's messages; ``event`` is the engine's own frozen dataclass.

    Handle one kind with its ``on_…_message`` method; ``@on(EngineMessage)`` sees them all.
    """

    EVENT: ClassVar[type[EngineEvent]] = EngineEvent

    def __init_subclass__(cls, bubble: bool | None = False, **kwargs) -> None:
        # Textual's default is to bubble; every engine message must not (see above).
        super().__init_subclass__(bubble=bubble, **kwargs)

    def __init__(self, event: EngineEvent) -> None:
        if not isinstance(event, self.EVENT):
            raise TypeError(f"{type(self).__name__} carries a {self.EVENT.__name__}, not a {type(event).__name__}")
        self.event = event
        super().__init__()

    def copy(self) -> EngineMessage:
        """The same event in a new message (a message is delivered once)."""
        return type(self)(self.event)


class WorkflowRunMessage(EngineMessage):
    """Base of the events about one workflow's runs (started, finished, failed, missed):
    ``@on(WorkflowRunMessage)`` handles them all; ``workflow_id`` / ``workflow_name`` say whose."""

    event: RunStarted | RunFinished | Misfire

    @property
    def workflow_id(self) -> int:
        return self.event.workflow_id

    @property
    def workflow_name(self) -> str:
        return self.event.workflow_name


class RunStartedMessage(WorkflowRunMessage):
    EVENT = RunStarted
    event: RunStarted


class RunFinishedMessage(WorkflowRunMessage):
    """A run was written (its row is in the database). A failed run has its own message."""

    EVENT = RunFinished
    event: RunFinished


class RunFailedMessage(WorkflowRunMessage):
    """A run could not be evaluated: a ``failed`` run row, a history event and an inbox
    notification were written (``event.detail`` says why)."""

    EVENT = RunFailed
    event: RunFailed


class MisfireMessage(WorkflowRunMessage):
    EVENT = Misfire
    event: Misfire


class StepsRanMessage(EngineMessage):
    """Steps ran (they write tasks, notifications, record changes)."""

    EVENT = StepsRan
    event: StepsRan


class EngineStatusMessage(EngineMessage):
    EVENT = EngineStatus
    event: EngineStatus

    def can_replace(self, message: Message) -> bool:
        """A newer status supersedes an older one: only the latest is worth showing.
        Runs, misfires and errors are facts and are all delivered (the dashboard lists
        them as they arrive)."""
        return isinstance(message, EngineStatusMessage)


class EngineErrorMessage(EngineMessage):
    """The engine's loop hit an error and will retry (``event.retry_in_s``)."""

    EVENT = EngineError
    event: EngineError


MESSAGES: dict[type[EngineEvent], type[EngineMessage]] = {
    cls.EVENT: cls
    for cls in (RunStartedMessage, RunFinishedMessage, RunFailedMessage, MisfireMessage, StepsRanMessage,
                EngineStatusMessage, EngineErrorMessage)
}


def engine_message(event: EngineEvent) -> EngineMessage:
    """The message for ``event``: its own type's, else its nearest base's (an event type
    added later still reaches the screens as its base until it gets a message)."""
    for cls in type(event).__mro__:
        message = MESSAGES.get(cls)
        if message is not None:
            return message(event)
    return EngineMessage(event)


class WorkflowsChanged(Message, bubble=False):
    """A workflow was created, changed or deleted (by this app, the CLI or another
    operator's save in this process). Consumers reload; hence replaceable."""

    def __init__(self, workflow_id: int | None = None) -> None:
        self.workflow_id = workflow_id
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WorkflowsChanged)
