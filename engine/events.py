"""What the engine tells the outside world, as plain frozen dataclasses.

The engine calls ``on_event(event)`` from its own thread; the TUI turns each event into
a textual message with ``post_message`` (thread-safe, never blocks the engine). Nothing
here imports textual. ``EngineStatus`` supersedes the previous one (the UI may use
``can_replace``); the others are facts to show or log.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.enums import RunKind, RunStatus


@dataclass(frozen=True)
class EngineEvent:
    at: datetime  # clock time when the event happened (aware UTC)


@dataclass(frozen=True)
class RunStarted(EngineEvent):
    workflow_id: int
    workflow_name: str
    scheduled_for: datetime | None  # None for a manual enrollment
    lag_ms: float  # start minus scheduled instant


@dataclass(frozen=True)
class RunFinished(EngineEvent):
    workflow_id: int
    workflow_name: str
    run_id: int | None
    scheduled_for: datetime | None
    status: RunStatus
    matched: int
    enrolled: int
    suppressed: int
    duration_ms: float
    lag_ms: float
    kind: RunKind = RunKind.SCHEDULED
    detail: str | None = None
    skipped_in_progress: int = 0  # matched, but still in the workflow (overlap: skip_in_progress)


@dataclass(frozen=True)
class RunFailed(RunFinished):
    """A run that could not be evaluated (``detail`` says why, in words). It is a
    ``failed`` run row with a ``run_failed`` history event and an inbox notification;
    the workflow's next run is ``next_run_at`` (later after repeated failures)."""

    in_a_row: int = 1
    next_run_at: datetime | None = None


@dataclass(frozen=True)
class Misfire(EngineEvent):
    """Occurrences that were not run on time: recorded as missed or coalesced."""

    workflow_id: int
    workflow_name: str
    status: RunStatus  # missed coalesced
    scheduled_for: tuple[datetime, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StepsRan(EngineEvent):
    count: int


@dataclass(frozen=True)
class EngineStatus(EngineEvent):
    """The engine's state after each pass; a newer one replaces an older one."""

    engine_id: str
    running: bool
    active: bool  # holds the store lease (SQLite) / takes part in claiming (PostgreSQL)
    next_wake_at: datetime | None
    lag_ms: float | None  # lateness of the last run started
    last_error: str | None = None


@dataclass(frozen=True)
class EngineError(EngineEvent):
    message: str
    retry_in_s: float
