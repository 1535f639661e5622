"""Messages that cross from other threads into the UI.

The engine thread and the workflow service layer report through callbacks; the app
turns each report into one of these messages with ``post_message`` (thread-safe, never
blocking the engine while the UI is busy).

Messages whose only effect is "reload from the database" or "show the latest status"
set ``can_replace``: when several are queued, Textual drops the older ones, so a burst
of engine activity costs one refresh, not hundreds.

They do not bubble: the app posts them to itself and then hands a copy to each
screen; a bubbling copy would come back to the app and go round for ever.
"""
from __future__ import annotations

from typing import Any

from textual.message import Message


class EngineEventMessage(Message, bubble=False):
    """Something the engine reported (a run started or finished, its status, …).

    ``event`` is the engine's own frozen dataclass (``engine/events.py``).
    """

    def __init__(self, event: Any) -> None:
        self.event = event
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        """A newer ``EngineStatus`` supersedes an older one: only the latest status is
        worth showing. Runs, misfires and errors are facts and are all delivered (the
        dashboard lists them as they arrive)."""
        return (
            isinstance(message, EngineEventMessage)
            and type(message.event).__name__ == "EngineStatus"
            and type(self.event).__name__ == "EngineStatus"
        )


class WorkflowsChanged(Message, bubble=False):
    """A workflow was created, changed or deleted (by this app, the CLI or another
    operator's save in this process). Consumers reload; hence replaceable."""

    def __init__(self, workflow_id: int | None = None) -> None:
        self.workflow_id = workflow_id
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WorkflowsChanged)
