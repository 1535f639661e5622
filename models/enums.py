"""The closed vocabularies of Rota, as ``StrEnum``s.

Each member equals its string (``RunStatus.FAILED == "failed"``), so rows, JSON and
workflow files keep the plain words; code names them instead of spelling them.
``json.dumps``, ``str()`` and f-strings give the plain word too; only ``repr()`` shows
the member.

Test membership with ``value in tuple(Enum)`` (or the tuples below), not ``value in
Enum``: on Python 3.11 the latter raises ``TypeError`` for a plain string.
tests/test_enums.py checks each vocabulary against what the code validates and writes.
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
    """``history_event.type`` and ``history_group.type``, in the order the history
    screen offers them. Enrollments are their own rows, read back as the first two."""

    ENROLLED = "enrolled"
    MANUAL_ENROLLED = "manual_enrolled"
    SUPPRESSED = "suppressed"  # matched, but kept out by the suppression criteria
    SKIPPED_IN_PROGRESS = "skipped_in_progress"  # matched, but still in progress (overlap)
    STEP_SUCCEEDED = "step_succeeded"
    STEP_FAILED = "step_failed"
    STEP_RETRY = "step_retry"
    STEP_SKIPPED = "step_skipped"  # the step does not apply to the record (no address, opted out)
    DELAYED = "delayed"
    PAUSED = "paused"  # a pause day holds the step
    UNENROLLED = "unenrolled"
    MISSED = "missed"
    COALESCED = "coalesced"
    RUN_FAILED = "run_failed"


# The run counters a step event adds one to.
STEP_COUNTERS = {EventType.STEP_SUCCEEDED: "steps_succeeded", EventType.STEP_FAILED: "steps_failed"}


class MisfirePolicy(StrEnum):
    RUN_ONCE_LATE = "run_once_late"
    RECORD_MISSED = "record_missed"


class EnrollmentState(StrEnum):
    """``enrollment.state``."""

    ACTIVE = "active"  # a step is due at next_step_at
    WAITING = "waiting"  # a delay, a retry, a pause day or a workflow set aside
    DONE = "done"  # no step left to run
    UNENROLLED = "unenrolled"
    FAILED = "failed"  # a step failed for good and on_step_failure is stop


# In progress: next_step_at says when the enrollment is looked at again. Finished: for good.
IN_PROGRESS_STATES = (EnrollmentState.ACTIVE, EnrollmentState.WAITING)
FINISHED_STATES = (EnrollmentState.DONE, EnrollmentState.FAILED, EnrollmentState.UNENROLLED)


class OnStepFailure(StrEnum):
    """What happens to an enrollment after one of its steps fails for good."""

    STOP = "stop"  # the enrollment ends, failed (the default)
    CONTINUE = "continue"  # it goes on to the next step


class Overlap(StrEnum):
    """What a run does with a matching record that is still in progress (active or
    waiting) from an older run of the same workflow: the per-workflow setting
    ``overlap``, applied by engine/run.py."""

    SKIP_IN_PROGRESS = "skip_in_progress"  # leave it out, noted as skipped_in_progress (the default)
    ALLOW = "allow"  # enroll it again: two enrollments go on side by side
    REPLACE = "replace"  # end the older enrollment (unenrolled) and enroll it afresh


class NotificationTarget(StrEnum):
    EVERYONE = "everyone"
