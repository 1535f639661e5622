"""The audit log and the kept versions of every workflow (rows only: what changed and
how to word it is engine/audit.py's business)."""
from __future__ import annotations

from datetime import datetime

from models.errors import RotaError
from models.schema import AuditEntry, Workflow, WorkflowVersion


def add_entry(*, at: datetime, actor: str, workflow: Workflow | None, workflow_name: str, action: str,
              diff: str | None) -> AuditEntry:
    return AuditEntry.create(at=at, actor=actor, workflow=workflow, workflow_name=workflow_name, action=action,
                             diff=diff)


def add_version(workflow: Workflow, body: dict, actor: str, at: datetime) -> WorkflowVersion:
    """The body as it is now, under the workflow's current version number."""
    return WorkflowVersion.create(workflow=workflow, version=workflow.version, body=body, at=at, actor=actor)


def entries(workflow_name: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """Newest first; one workflow's (by name, so deleted ones keep their trail) or all."""
    q = AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if workflow_name:
        q = q.where(AuditEntry.workflow_name == workflow_name)
    return list(q)


def versions(workflow: Workflow) -> list[WorkflowVersion]:
    return list(WorkflowVersion.select().where(WorkflowVersion.workflow == workflow)
                .order_by(WorkflowVersion.version.desc()))


def version_body(workflow: Workflow, version: int) -> dict:
    row = WorkflowVersion.get_or_none(WorkflowVersion.workflow == workflow, WorkflowVersion.version == version)
    if row is None:
        raise RotaError(f'workflow "{workflow.name}" has no version {version}')
    return row.body
