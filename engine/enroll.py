"""What a manual enrollment would do, said before it is done (issue 11 §5).

``check_manual`` looks at one record and one workflow and returns findings:

- ``suppressed``: the record meets the suppression criteria. Manual enrollment refuses
  it as it always has (``engine.run.enroll_manual`` records the refusal).
- ``unenrolls``: the record meets the unenrollment criteria, so it would leave the
  workflow before its first step runs.
- ``in_progress``: the record has an enrollment in this workflow that has not finished
  (waiting on a delay or a pause day, or with steps still to run).

The CLI refuses the last two without ``--force``; the app asks. The enrollment itself
stays in ``engine.run.enroll_manual``: this module only reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from engine.due import workflow_timezone
from engine.workflows import get_workflow
from models import criteria as crit
from models.errors import RotaError
from models.objects import get_record
from models.schema import Workflow
from models.settings import load_settings
from models.store import runs as store_runs
from models.timeutil import utcnow


class FindingKind(StrEnum):
    SUPPRESSED = "suppressed"
    UNENROLLS = "unenrolls"
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    message: str

    @property
    def refuses(self) -> bool:
        """Suppression refuses outright; the others need the operator's yes (``--force``)."""
        return self.kind is FindingKind.SUPPRESSED


def _record_id(record_id) -> int:
    try:
        return int(record_id)
    except (TypeError, ValueError):
        raise RotaError(f'record id "{record_id}" is not a number') from None


def in_progress_count(wf: Workflow, record_id: int) -> int:
    """How many of the record's enrollments in this workflow have not finished (the
    store probes its partial index of enrollments in progress)."""
    return store_runs.in_progress_count(wf.id, record_id)


def check_manual(workflow: str | Workflow, record_id, *, now: datetime | None = None) -> list[Finding]:
    """The findings for enrolling ``record_id`` in ``workflow`` now (empty: nothing to say).

    Raises RotaError for an unknown workflow or record, as enrolling would."""
    now = now or utcnow()
    wf = workflow if isinstance(workflow, Workflow) else get_workflow(workflow)
    rid = _record_id(record_id)
    type_name = wf.object_type.name
    record = get_record(type_name, rid)
    if record is None:
        raise RotaError(f"no {type_name} with id {rid}")
    tz = workflow_timezone(wf, load_settings())
    findings: list[Finding] = []
    if wf.suppression and crit.matches(wf.suppression, record, type_name, now=now, tz=tz, empty=False):
        findings.append(Finding(FindingKind.SUPPRESSED,
                                f"{type_name} {rid} meets the suppression criteria of \"{wf.name}\" "
                                f"({crit.describe_criteria(wf.suppression, type_name, empty=False)}): "
                                "it will not be enrolled"))
    if wf.unenrollment and crit.matches(wf.unenrollment, record, type_name, now=now, tz=tz, empty=False):
        findings.append(Finding(FindingKind.UNENROLLS,
                                f"{type_name} {rid} meets the unenrollment criteria of \"{wf.name}\" "
                                f"({crit.describe_criteria(wf.unenrollment, type_name, empty=False)}): "
                                "it would leave the workflow before its first step"))
    waiting = in_progress_count(wf, rid)
    if waiting:
        which = "an enrollment" if waiting == 1 else f"{waiting} enrollments"
        findings.append(Finding(FindingKind.IN_PROGRESS,
                                f"{type_name} {rid} already has {which} in progress in \"{wf.name}\": "
                                "enrolling again runs the steps a second time alongside"))
    return findings


def needs_confirmation(findings: list[Finding]) -> list[Finding]:
    """The findings an operator must agree to (none when suppression refuses anyway)."""
    if any(f.refuses for f in findings):
        return []
    return [f for f in findings if not f.refuses]
