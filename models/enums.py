"""The closed vocabularies of Rota, as ``StrEnum``s.

Each member equals its string (``RunStatus.FAILED == "failed"``), so rows, JSON and
workflow files keep the plain words; code names them instead of spelling them.
"""
from __future__ import annotations

from enum import StrEnum


class WorkflowStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the run could not be evaluated (detail says why)
    MISSED = "missed"  # not run: misfire policy, or a failing workflow backing off
    COALESCED = "coalesced"  # not run separately: collapsed into one late run


class RunKind(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class EventType(StrEnum):
    """``history_event.type`` (enrollments are their own rows, shown as the first two)."""

    ENROLLED = "enrolled"
    MANUAL_ENROLLED = "manual_enrolled"
    SUPPRESSED = "suppressed"
    STEP_SUCCEEDED = "step_succeeded"
    STEP_FAILED = "step_failed"
    STEP_RETRY = "step_retry"
    DELAYED = "delayed"
    PAUSED = "paused"
    UNENROLLED = "unenrolled"
    MISSED = "missed"
    COALESCED = "coalesced"
    RUN_FAILED = "run_failed"


class MisfirePolicy(StrEnum):
    RUN_ONCE_LATE = "run_once_late"
    RECORD_MISSED = "record_missed"


class EnrollmentState(StrEnum):
    ACTIVE = "active"
    WAITING = "waiting"
    DONE = "done"
    UNENROLLED = "unenrolled"
    FAILED = "failed"


class OnStepFailure(StrEnum):
    """What happens to an enrollment after one of its steps fails for good."""

    STOP = "stop"
    CONTINUE = "continue"


class Overlap(StrEnum):
    """What the engine does when an instant comes due while the workflow's previous run
    is still going. Rota runs one workflow occurrence per transaction, so runs never
    overlap; ``SKIP`` is the only behaviour today, named so a future choice is explicit."""

    SKIP = "skip"


class NotificationTarget(StrEnum):
    EVERYONE = "everyone"
