"""Who changed which workflow, when, and what changed; and the kept versions."""
from __future__ import annotations

import getpass
import json
import os
from datetime import datetime

from models.errors import RotaError
from models.schema import AuditEntry, Workflow, WorkflowVersion
from models.timeutil import utcnow

AUDITED_KEYS = ("name", "object_type", "status", "schedule", "criteria", "suppression", "unenrollment",
                "actions", "settings")


def current_actor(operator: str = "") -> str:
    """The operator name from the settings, else the OS user and the SSH client address."""
    if operator.strip():
        return operator.strip()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    ssh = os.environ.get("SSH_CLIENT", "").split()
    return f"{user} (ssh from {ssh[0]})" if ssh else user


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def diff_bodies(before: dict | None, after: dict | None) -> list[tuple[str, str | None, str | None]]:
    """(key, before, after) for every top-level key whose value changed, as compact JSON."""
    before, after = before or {}, after or {}
    out = []
    for key in AUDITED_KEYS:
        if before.get(key) != after.get(key):
            out.append((key, _compact(before[key]) if key in before else None,
                        _compact(after[key]) if key in after else None))
    return out


def describe_change(before: dict | None, after: dict | None) -> str:
    """The audit action code: created, deleted, activated, paused, resumed, or `<key>_changed,…`."""
    if before is None:
        return "created"
    if after is None:
        return "deleted"
    changed = [k for k, _, _ in diff_bodies(before, after)]
    codes = []
    if "status" in changed:
        old, new = before.get("status"), after.get("status")
        codes.append({"active": "resumed" if old == "paused" else "activated", "paused": "paused"}.get(new, f"set_{new}"))
    codes += [f"{k}_changed" for k in changed if k != "status"]
    return ",".join(codes) or "saved_unchanged"


def readable_diff(before: dict | None, after: dict | None) -> str:
    lines = []
    for key, old, new in diff_bodies(before, after):
        lines.append(f"{key}: {old if old is not None else '(none)'} -> {new if new is not None else '(none)'}")
    return "\n".join(lines)


def record(workflow: Workflow | None, name: str, before: dict | None, after: dict | None, actor: str,
           now: datetime | None = None) -> AuditEntry:
    """Write one audit entry (callers pass bodies with secrets already masked)."""
    return AuditEntry.create(
        at=now or utcnow(), actor=actor, workflow=workflow, workflow_name=name,
        action=describe_change(before, after), diff=readable_diff(before, after) or None,
    )


def add_version(workflow: Workflow, body: dict, actor: str, now: datetime | None = None) -> WorkflowVersion:
    return WorkflowVersion.create(workflow=workflow, version=workflow.version, body=body, at=now or utcnow(),
                                  actor=actor)


def audit_entries(workflow_name: str | None = None, limit: int = 200) -> list[AuditEntry]:
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
