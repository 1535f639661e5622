"""Workflows as the rest of Rota sees them: validate, save, activate, pause, export.

Every change goes through ``save_workflow`` / ``set_status`` / ``delete_workflow`` so
that the audit log, the kept versions, the next run time and the engine's wake-up
follow from one place. The body of a workflow is the SPEC §9 JSON shape.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import peewee as pw

from engine import audit
from engine.changes import notify_changed
from engine.changes import subscribe as subscribe  # re-exported: the app subscribes here
from engine.schedule.model import parse_schedule
from engine.steps.shapes import mask_actions, unmask_actions, validate_actions
from models import criteria as crit
from models import indexes
from models.enums import OnStepFailure, Overlap, WorkflowStatus
from models.errors import RotaError
from models.objects import get_type
from models.schema import Workflow
from models.settings import MISFIRE_POLICIES, load_settings
from models.store import failures
from models.store import workflows as store
from models.store.dialect import classify_error, write_transaction
from models.store.workflows import get_workflow
from models.store.workflows import last_runs as last_runs  # re-exported for the screens
from models.store.workflows import list_workflows as list_workflows
from models.timeutil import utcnow

STATUSES = tuple(WorkflowStatus)
BODY_KEYS = ("name", "object_type", "status", "schedule", "criteria", "suppression", "unenrollment", "actions",
             "settings")
SETTING_KEYS = ("pause_dates", "campaign", "misfire_policy", "grace_seconds", "on_step_failure", "overlap")
OVERLAP_POLICIES = tuple(Overlap)  # engine/run.py applies them
STEP_FAILURE_POLICIES = tuple(OnStepFailure)
log = logging.getLogger("rota.workflows")

ACTION_TIMES_REASON = ("Not available for scheduled workflows: they run at the times their schedule sets; "
                       "use pause days to hold actions on given dates.")

# ------------------------------------------------------------------------ validation


MAX_NAME = 100  # characters: a name is read whole in tables, exports and notifications


def _validate_settings(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RotaError('settings: expected an object such as {"pause_dates": ["2026-12-25"], "campaign": "Q4"}',
                        field="settings")
    if "action_times" in value:
        raise RotaError(f"settings.action_times: {ACTION_TIMES_REASON}", field="settings.action_times")
    unknown = [k for k in value if k not in SETTING_KEYS]
    if unknown:
        raise RotaError(f'settings: unknown field "{unknown[0]}" (known: {", ".join(SETTING_KEYS)})', field="settings")
    out: dict[str, Any] = {}
    if "pause_dates" in value:
        dates = value["pause_dates"]
        if not isinstance(dates, list):
            raise RotaError("settings.pause_dates: expected a list of dates such as [\"2026-12-25\"]",
                            field="settings.pause_dates")
        parsed = []
        for i, d in enumerate(dates, 1):
            try:
                parsed.append(date.fromisoformat(str(d).strip()))
            except ValueError:
                raise RotaError(f'settings.pause_dates[{i}]: "{d}" is not a date; use YYYY-MM-DD',
                                field=f"settings.pause_dates[{i}]") from None
        out["pause_dates"] = [d.isoformat() for d in sorted(set(parsed))]
    if "campaign" in value:
        if value["campaign"] is not None and not isinstance(value["campaign"], str):
            raise RotaError("settings.campaign: expected text", field="settings.campaign")
        out["campaign"] = (value["campaign"] or "").strip()
    if "misfire_policy" in value:
        if value["misfire_policy"] not in MISFIRE_POLICIES:
            raise RotaError(f'settings.misfire_policy: use one of {", ".join(MISFIRE_POLICIES)}',
                            field="settings.misfire_policy")
        out["misfire_policy"] = value["misfire_policy"]
    if "overlap" in value:
        if value["overlap"] not in OVERLAP_POLICIES:
            raise RotaError(f'settings.overlap: "{value["overlap"]}" is not a choice; use one of '
                            f'{", ".join(OVERLAP_POLICIES)}', field="settings.overlap")
        out["overlap"] = value["overlap"]
    if "grace_seconds" in value:
        g = value["grace_seconds"]
        if isinstance(g, bool) or not isinstance(g, int) or g < 0:
            raise RotaError("settings.grace_seconds: expected a whole number of seconds, 0 or more",
                            field="settings.grace_seconds")
        out["grace_seconds"] = g
    if "on_step_failure" in value:
        if value["on_step_failure"] not in STEP_FAILURE_POLICIES:
            raise RotaError(f'settings.on_step_failure: use "{OnStepFailure.STOP}" (the enrollment ends when a step '
                            f'fails) or "{OnStepFailure.CONTINUE}" (it goes on to the next step)',
                            field="settings.on_step_failure")
        out["on_step_failure"] = value["on_step_failure"]
    return out


def _about(field: str, validate: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``validate(*args, **kwargs)``; a RotaError it raises is marked as being about
    ``field`` (the editor focuses that section)."""
    try:
        return validate(*args, **kwargs)
    except RotaError as exc:
        raise exc.about(field) from None


def validate_workflow(body: Any, *, default_timezone: str | None = None) -> dict:
    """The normalized SPEC §9 body, or a RotaError that names the field to fix."""
    if not isinstance(body, dict):
        raise RotaError("a workflow is a JSON object with name, object_type, schedule, criteria and actions")
    unknown = [k for k in body if k not in BODY_KEYS]
    if unknown:
        raise RotaError(f'unknown field "{unknown[0]}" (known: {", ".join(BODY_KEYS)})')
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RotaError("name: give the workflow a name", field="name")
    if len(name.strip()) > MAX_NAME:
        raise RotaError(f"name: at most {MAX_NAME} characters ({len(name.strip())} given), so it "
                        "reads whole in lists, exports and notifications", field="name")
    type_name = body.get("object_type")
    if not isinstance(type_name, str):
        raise RotaError("object_type: give an object type such as contact, company, deal or ticket",
                        field="object_type")
    try:
        otype = get_type(type_name)
    except RotaError as exc:
        raise RotaError(f"object_type: {exc}", field="object_type") from None
    status = body.get("status", WorkflowStatus.DRAFT)
    if status not in STATUSES:
        raise RotaError(f'status: "{status}" is unknown; use one of {", ".join(STATUSES)}', field="status")
    if "schedule" not in body:
        raise RotaError('schedule: missing; e.g. {"kind": "daily", "time": "08:00"}', field="schedule")
    tz = default_timezone or load_settings().timezone
    try:
        schedule = parse_schedule(body["schedule"], default_timezone=tz).to_json()
    except RotaError as exc:
        raise RotaError(f"schedule: {exc}", field="schedule") from None
    out = {
        "name": name.strip(),
        "object_type": otype.name,
        "status": status,
        "schedule": schedule,
        "criteria": _about("criteria", crit.validate_criteria, body.get("criteria") or [], otype.name,
                           where="criteria"),
        "suppression": _about("suppression", crit.validate_criteria, body.get("suppression") or [], otype.name,
                              where="suppression"),
        "unenrollment": _about("unenrollment", crit.validate_criteria, body.get("unenrollment") or [], otype.name,
                               where="unenrollment"),
        "actions": _about("actions", validate_actions, body.get("actions") or [], otype.name),
        "settings": _validate_settings(body.get("settings")),
    }
    return out


# -------------------------------------------------------------------------- reading


def workflow_body(wf: Workflow) -> dict:
    """The stored body, unmasked (for the engine and the editor)."""
    return {
        "name": wf.name,
        "object_type": wf.object_type.name,
        "status": wf.status,
        "schedule": wf.schedule,
        "criteria": wf.criteria or [],
        "suppression": wf.suppression or [],
        "unenrollment": wf.unenrollment or [],
        "actions": wf.actions or [],
        "settings": wf.settings or {},
    }


def public_body(body: dict) -> dict:
    """A body fit to show or export: header secrets masked."""
    return {**body, "actions": mask_actions(body.get("actions") or [])}


def export_workflow(name: str) -> dict:
    return public_body(workflow_body(get_workflow(name)))


# -------------------------------------------------------------------------- writing


def _next_run(body: dict, now: datetime) -> datetime | None:
    if body["status"] != WorkflowStatus.ACTIVE:
        return None
    return parse_schedule(body["schedule"]).next_after(now)


def save_workflow(body: dict, *, actor: str | None = None, now: datetime | None = None,
                  mode: str = "upsert", original_name: str | None = None) -> Workflow:
    """Create or update a workflow by name (``original_name`` renames).

    ``mode``: "create" refuses an existing name, "update" refuses a missing one.
    A changed schedule or status takes effect at once: the next run time is computed
    from now (pausing clears it; resuming starts after now, with no catch-up burst).
    """
    now = now or utcnow()
    settings = load_settings()
    actor = actor or audit.current_actor(settings.operator)
    key = original_name or (body.get("name") if isinstance(body, dict) else None)
    existing = store.find_by_name(key) if isinstance(key, str) else None
    if existing is not None and isinstance(body, dict) and isinstance(body.get("actions"), list):
        body = {**body, "actions": unmask_actions(body["actions"], existing.actions or [])}
    clean = validate_workflow(body, default_timezone=settings.timezone)
    crit.check_runnable(clean["object_type"], {k: clean[k] for k in ("criteria", "suppression", "unenrollment")},
                        now=now, tz=clean["schedule"].get("timezone") or settings.timezone)
    if mode == "create" and existing is not None:
        raise RotaError(f'a workflow named "{clean["name"]}" exists already; choose another name')
    if mode == "update" and existing is None:
        raise RotaError(f'no workflow named "{key}" to update')
    clash = store.find_by_name(clean["name"])
    if clash is not None and (existing is None or clash.id != existing.id):
        raise RotaError(f'a workflow named "{clean["name"]}" exists already; choose another name')
    with write_transaction():
        if existing is None:
            wf = store.insert_workflow(clean, get_type(clean["object_type"]), _next_run(clean, now), now)
            before = None
        else:
            before = workflow_body(existing)
            if before == clean:
                return existing
            wf = existing
            timing_changed = before["schedule"] != clean["schedule"] or before["status"] != clean["status"]
            if before["object_type"] != clean["object_type"] and store.has_runs(wf.id):
                raise RotaError("object_type: a workflow that has run cannot change its object type; clone it instead")
            # A change to a failing workflow (likely the fix) ends its back-off.
            reschedule = timing_changed or failures.consecutive_failures(wf.id) > 0
            store.update_workflow(wf, clean, get_type(clean["object_type"]), now, reschedule=reschedule,
                                  next_run_at=_next_run(clean, now) if reschedule else None)
        audit.add_version(wf, clean, actor, now)
        audit.record(wf, wf.name, public_body(before) if before else None, public_body(clean), actor, now)
    if before is None or _criteria_sets(before) != _criteria_sets(clean):
        _maintain_indexes_quietly(clean["object_type"])
    notify_changed(wf.id)
    return wf


def _criteria_sets(body: dict) -> list:
    """Every criteria set a workflow evaluates: criteria, suppression, unenrollment, branches."""
    sets = [body.get("criteria"), body.get("suppression"), body.get("unenrollment")]

    def walk(steps):
        for step in steps or []:
            if step.get("type") == "branch":
                sets.append(step.get("criteria"))
                walk(step.get("then"))
                walk(step.get("else"))
    walk(body.get("actions"))
    return [s for s in sets if s]


def _maintain_indexes(type_name: str) -> None:
    """After a commit: create the covering indexes the type's workflows need, drop the rest.

    On a large table this takes seconds, so it runs outside the save's transaction; an
    index that is missing only makes a count slower, never wrong.
    """
    otype = get_type(type_name)
    needed = [s for wf in store.workflows_of_type(otype) for s in _criteria_sets(workflow_body(wf))]
    for groups in needed:
        indexes.ensure_criteria_indexes(otype.name, groups)
    indexes.prune_criteria_indexes(otype.name, needed)


def _maintain_indexes_quietly(type_name: str) -> None:
    """Index upkeep never fails a save that has committed: a workflow whose criteria the
    database cannot index (a column dropped behind Rota's back) is the engine's to
    report as a failed run; here it is logged."""
    try:
        _maintain_indexes(type_name)
    except pw.DatabaseError as exc:
        log.warning("index upkeep for %s failed: %s", type_name, classify_error(exc).message)


def set_status(name: str, status: str, *, actor: str | None = None, now: datetime | None = None) -> Workflow:
    """Activate, pause or resume (status "active" again) a workflow."""
    wf = get_workflow(name)
    body = workflow_body(wf)
    body["status"] = status
    return save_workflow(body, actor=actor, now=now, mode="update")


def delete_workflow(name: str, *, actor: str | None = None, now: datetime | None = None) -> None:
    wf = get_workflow(name)
    actor = actor or audit.current_actor(load_settings().operator)
    type_name = wf.object_type.name
    with write_transaction():
        audit.record(None, wf.name, public_body(workflow_body(wf)), None, actor, now)
        store.delete_workflow(wf)
    _maintain_indexes_quietly(type_name)
    notify_changed(None)


def clone_workflow(name: str, new_name: str, *, actor: str | None = None, now: datetime | None = None) -> Workflow:
    body = workflow_body(get_workflow(name))
    body.update(name=new_name, status=WorkflowStatus.DRAFT)
    return save_workflow(body, actor=actor, now=now, mode="create")


def restore_version(name: str, version: int, *, actor: str | None = None, now: datetime | None = None) -> Workflow:
    """Make an earlier version current again (as a new version, audited)."""
    wf = get_workflow(name)
    body = dict(audit.version_body(wf, version))
    body["name"] = wf.name
    return save_workflow(body, actor=actor, now=now, mode="update", original_name=wf.name)


def import_workflow_file(path: str | Path, *, actor: str | None = None, now: datetime | None = None) -> Workflow:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RotaError(f"cannot read {path}: {exc.strerror}") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RotaError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return save_workflow(body, actor=actor, now=now)


def count_matching(name: str, now: datetime | None = None) -> int:
    """How many records meet the workflow's criteria now (suppression not applied)."""
    wf = get_workflow(name)
    tz = wf.schedule.get("timezone") or load_settings().timezone
    return crit.count_matching(wf.object_type.name, wf.criteria or [], now=now or utcnow(), tz=tz)
