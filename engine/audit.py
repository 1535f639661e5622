"""Who changed which workflow, when, and what changed; and the kept versions."""
from __future__ import annotations

import json
from datetime import datetime

from engine.identity import operator_name
from models.enums import WorkflowStatus
from models.schema import AuditEntry, Workflow, WorkflowVersion
from models.store import audit as store
from models.timeutil import iso_z, utcnow

AUDITED_KEYS = ("name", "object_type", "status", "schedule", "criteria", "suppression", "unenrollment",
                "actions", "settings")


def current_actor(operator: str = "") -> str:
    """The operator name from the settings, else the OS user (``engine.identity``): the
    same name the inbox and notify steps use, without the SSH address."""
    return operator_name(operator)


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
        old, new = str(before.get("status")), str(after.get("status"))
        verbs: dict[str, str] = {WorkflowStatus.ACTIVE: "resumed" if old == WorkflowStatus.PAUSED else "activated",
                                 WorkflowStatus.PAUSED: "paused"}
        codes.append(verbs.get(new, f"set_{new}"))
    codes += [f"{k}_changed" for k in changed if k != "status"]
    return ",".join(codes) or "saved_unchanged"


MAX_DIFF_LINES = 60


def _leaf_changes(path: str, old, new, out: list[str]) -> None:
    """One line per changed leaf: objects by key, equal-length lists by position;
    anything else (a list that grew or shrank, a changed type) as a whole value."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            _leaf_changes(f"{path}.{key}", old.get(key, _MISSING), new.get(key, _MISSING), out)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            _leaf_changes(f"{path}[{i + 1}]", a, b, out)
        return
    shown_old = "(none)" if old is _MISSING else _compact(old)
    shown_new = "(none)" if new is _MISSING else _compact(new)
    out.append(f"{path}: {shown_old} -> {shown_new}")


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - never shown
        return "(none)"


_MISSING = _Missing()


def readable_diff(before: dict | None, after: dict | None) -> str:
    """Before/after, one changed value per line: ``schedule.time: "08:00" -> "09:00"``.

    Lists count from 1 as the editor does (``actions[2].value``). Callers pass bodies
    with secrets already masked, so a changed webhook secret shows as ``***``.
    """
    lines: list[str] = []
    before, after = before or {}, after or {}
    for key in AUDITED_KEYS:
        if before.get(key, _MISSING) != after.get(key, _MISSING):
            _leaf_changes(key, before.get(key, _MISSING), after.get(key, _MISSING), lines)
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"… and {len(lines) - MAX_DIFF_LINES} more changes"]
    return "\n".join(lines)


def record(workflow: Workflow | None, name: str, before: dict | None, after: dict | None, actor: str,
           now: datetime | None = None) -> AuditEntry:
    """Write one audit entry (callers pass bodies with secrets already masked)."""
    return store.add_entry(at=now or utcnow(), actor=actor, workflow=workflow, workflow_name=name,
                           action=describe_change(before, after), diff=readable_diff(before, after) or None)


def add_version(workflow: Workflow, body: dict, actor: str, now: datetime | None = None) -> WorkflowVersion:
    return store.add_version(workflow, body, actor, now or utcnow())


def audit_entries(workflow_name: str | None = None, limit: int = 200) -> list[AuditEntry]:
    return store.entries(workflow_name, limit)


def entry_as_dict(entry: AuditEntry) -> dict:
    """An audit entry for display or JSON: who, when (ISO UTC), what, the diff lines."""
    return {"at": iso_z(entry.at), "actor": entry.actor, "workflow": entry.workflow_name,
            "action": entry.action, "diff": (entry.diff or "").splitlines()}


versions = store.versions
version_body = store.version_body
