"""What activating a workflow, or saving an edit to a live one, is about to do
(issue 11 §6). Reads only; the saving stays in ``engine.workflows``.

- ``preview_activation``: the records meeting the criteria now (and how many of them
  suppression keeps out), the next run, and the actions one line each.
- ``preview_change``: an active workflow's stored body against the body about to be
  saved — the audit module's diff put in words, the next run and the count before and
  after.
- ``import_summary``: the same, as text lines, for ``rota workflow import``.

Bodies from the editor carry real secrets and those from an export carry masks; both
are unmasked against the stored workflow, as saving does, and every line shown is
built from masked bodies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from engine import audit
from engine.due import calendar_of
from engine.identity import format_instant
from engine.schedule.describe import pause_note
from engine.schedule.model import parse_schedule
from engine.steps.shapes import describe_step, mask_actions, unmask_actions
from engine.workflows import public_body, validate_workflow, workflow_body
from models import criteria as crit
from models.enums import WorkflowStatus
from models.errors import RotaError
from models.objects import get_type
from models.schema import Workflow
from models.settings import Settings, load_settings
from models.store.workflows import find_by_name
from models.timeutil import utcnow, zone

KEY_LABELS = {"name": "Name", "object_type": "Object type", "status": "Status", "schedule": "Schedule",
              "criteria": "Criteria", "suppression": "Suppression", "unenrollment": "Unenrollment",
              "actions": "Actions", "settings": "Settings"}
SETTING_LABELS = {"pause_dates": "Pause days", "campaign": "Campaign", "misfire_policy": "Misfire policy",
                  "grace_seconds": "Grace window (seconds)", "overlap": "Overlap",
                  "on_step_failure": "On step failure"}


@dataclass(frozen=True)
class Counts:
    matching: int
    suppressed: int

    @property
    def would_enroll(self) -> int:
        return self.matching - self.suppressed

    def words(self) -> str:
        text = f"{self.matching:,} record{'' if self.matching == 1 else 's'}"
        if self.suppressed:
            text += f" ({self.suppressed:,} suppressed, {self.would_enroll:,} would enroll)"
        return text


@dataclass(frozen=True)
class Activation:
    name: str
    resume: bool  # paused -> active
    counts: Counts
    next_run: datetime | None
    timezone: str  # the workflow's zone
    actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    name: str
    changes: list[str]  # one sentence per changed part, in words
    next_before: datetime | None
    next_after: datetime | None
    counts_before: Counts
    counts_after: Counts
    timezone: str

    @property
    def unchanged(self) -> bool:
        return not self.changes


# ----------------------------------------------------------------------- helpers


def _clean(body: dict, existing: Workflow | None, settings: Settings) -> dict:
    if not isinstance(body, dict):
        raise RotaError("a workflow is a JSON object with name, object_type, schedule, criteria and actions")
    if existing is not None and isinstance(body.get("actions"), list):
        body = {**body, "actions": unmask_actions(body["actions"], existing.actions or [])}
    return validate_workflow(body, default_timezone=settings.timezone)


def _tz(clean: dict, settings: Settings) -> str:
    return clean["schedule"].get("timezone") or settings.timezone


def _counts(clean: dict, now: datetime, settings: Settings) -> Counts:
    type_name, tz = clean["object_type"], _tz(clean, settings)
    matching = crit.count_matching(type_name, clean["criteria"], now=now, tz=tz)
    would = matching
    if clean["suppression"] and matching:
        would = crit.matching_query(type_name, clean["criteria"], now=now, tz=tz,
                                    suppression=clean["suppression"]).count()
    return Counts(matching, matching - would)


def _next_run(clean: dict, now: datetime, settings: Settings) -> datetime | None:
    return parse_schedule(clean["schedule"], settings.timezone).next_after(now, calendar=calendar_of(settings))


def action_lines(actions: list[dict], indent: str = "") -> list[str]:
    """Every step one line, numbered as the editor numbers them; branches' steps indented."""
    lines = []
    for i, step in enumerate(actions, 1):
        lines.append(f"{indent}{i}. {describe_step(step)}")
        if step.get("type") == "branch":
            for arm in ("then", "else"):
                if step.get(arm):
                    lines.append(f"{indent}   {arm}:")
                    lines += action_lines(step[arm], indent + "     ")
    return lines


# --------------------------------------------------------------------- activation


def preview_activation(workflow: str | dict, *, now: datetime | None = None) -> Activation:
    """What activating (or resuming) ``workflow`` — a stored name or an editor body — does."""
    now = now or utcnow()
    settings = load_settings()
    existing: Workflow | None
    if isinstance(workflow, str):
        wf = find_by_name(workflow.strip())
        if wf is None:
            raise RotaError(f'no workflow named "{workflow}"')
        body, existing = workflow_body(wf), wf
    else:
        body = workflow
        name = body.get("name") if isinstance(body, dict) else None
        existing = find_by_name(name) if isinstance(name, str) else None
    clean = _clean({**body, "status": WorkflowStatus.ACTIVE}, existing, settings)
    return Activation(
        name=clean["name"], resume=existing is not None and existing.status == WorkflowStatus.PAUSED,
        counts=_counts(clean, now, settings), next_run=_next_run(clean, now, settings),
        timezone=_tz(clean, settings), actions=action_lines(public_body(clean)["actions"]),
    )


# ---------------------------------------------------------------- change in words


def _pause_days(days: list[str]) -> str:
    if not days:
        return "none"
    return ", ".join(date.fromisoformat(d).strftime("%a %d %b %Y") for d in days)


def _setting_words(before: dict, after: dict) -> list[str]:
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        label = SETTING_LABELS.get(key, key.replace("_", " ").capitalize())
        if key == "pause_dates":
            out.append(f"{label}: {_pause_days(old or [])} → {_pause_days(new or [])}")
        else:
            out.append(f"{label}: {old if old not in (None, '') else 'none'} → "
                       f"{new if new not in (None, '') else 'none'}")
    return out


def _action_words(before: list[dict], after: list[dict]) -> list[str]:
    """Steps compared with their real values (so a changed secret is noticed) and shown
    masked (so it is never printed)."""
    shown_b, shown_a = mask_actions(before), mask_actions(after)
    out = []
    for i in range(max(len(before), len(after))):
        old = before[i] if i < len(before) else None
        new = after[i] if i < len(after) else None
        if old == new:
            continue
        if old is None:
            out.append(f"Step {i + 1} added: {describe_step(shown_a[i])}")
        elif new is None:
            out.append(f"Step {i + 1} removed: {describe_step(shown_b[i])}")
        else:
            a, b = describe_step(shown_b[i]), describe_step(shown_a[i])
            if a != b:
                out.append(f"Step {i + 1}: {a} → {b}")
            else:  # the change is in a detail the one-line description leaves out
                fields = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) or ["details"]
                out.append(f"Step {i + 1} ({a}): {', '.join(fields)} changed")
    return out


def change_words(before: dict, after: dict, settings: Settings | None = None) -> list[str]:
    """The audit diff (``engine.audit.diff_bodies``) of two bodies in words; secrets
    (webhook header values) are compared but never shown."""
    settings = settings or load_settings()
    # str(): a body without an object type reads "None" in the error, as get_type says it
    type_b, type_a = str(before.get("object_type")), str(after.get("object_type"))
    out = []
    for key, _, _ in audit.diff_bodies(before, after):
        label = KEY_LABELS.get(key, key)
        old, new = before.get(key), after.get(key)
        if key == "schedule":
            describe = [parse_schedule(s, settings.timezone).describe() for s in (old, new)]
            out.append(f"{label}: {describe[0]} → {describe[1]}")
        elif key in ("criteria", "suppression", "unenrollment"):
            empty = key == "criteria"
            out.append(f"{label}: {crit.describe_criteria(old or [], type_b, empty=empty)} → "
                       f"{crit.describe_criteria(new or [], type_a, empty=empty)}")
        elif key == "actions":
            out += _action_words(old or [], new or [])
        elif key == "settings":
            out += _setting_words(old or {}, new or {})
        else:
            out.append(f'{label}: {old} → {new}')
    return out


def preview_change(original_name: str, body: dict, *, now: datetime | None = None) -> Change:
    """Saving ``body`` over the stored workflow ``original_name``: what changes, and the
    next run and the counts before and after (as ``save_workflow`` would set them)."""
    now = now or utcnow()
    settings = load_settings()
    wf = find_by_name(original_name)
    if wf is None:
        raise RotaError(f'no workflow named "{original_name}"')
    before = workflow_body(wf)
    clean = _clean(body, wf, settings)
    timing = before["schedule"] != clean["schedule"] or before["status"] != clean["status"]
    next_after = wf.next_run_at
    if timing:
        next_after = _next_run(clean, now, settings) if clean["status"] == WorkflowStatus.ACTIVE else None
    return Change(
        name=clean["name"],
        changes=change_words(before, clean, settings),
        next_before=wf.next_run_at, next_after=next_after,
        counts_before=_counts(before, now, settings), counts_after=_counts(clean, now, settings),
        timezone=_tz(clean, settings),
    )


# -------------------------------------------------------------------- as text


def activation_lines(a: Activation, operator_tz: str) -> list[str]:
    lines = [f'{"Resumed" if a.resume else "Activated"} "{a.name}"',
             f"Records meeting the criteria now: {a.counts.words()}",
             f"Next run: {format_instant(a.next_run, operator_tz, a.timezone)}",
             "Actions:" if a.actions else "Actions: none (records are enrolled, nothing else happens)"]
    return lines + [f"  {line}" for line in a.actions]


def change_lines(c: Change, operator_tz: str) -> list[str]:
    if c.unchanged:
        return [f'"{c.name}": no changes']
    lines = [f'Changes to active workflow "{c.name}":'] + [f"  {line}" for line in c.changes]
    before = format_instant(c.next_before, operator_tz, c.timezone)
    after = format_instant(c.next_after, operator_tz, c.timezone)
    lines.append(f"Next run: {before}" if before == after else f"Next run: {before} → {after}")
    b, a = c.counts_before.words(), c.counts_after.words()
    lines.append(f"Records meeting the criteria now: {b}" if b == a
                 else f"Records meeting the criteria now: {b} → {a}")
    return lines


def import_summary(body, *, now: datetime | None = None) -> list[str] | None:
    """Lines to print when ``rota workflow import`` saves an active workflow: the change
    summary for one that is active already, the activation summary for one that becomes
    active. None otherwise, or when the body is invalid (saving reports that)."""
    if not isinstance(body, dict):
        return None
    settings = load_settings()
    try:
        existing = find_by_name(str(body.get("name") or "").strip())
        if existing is not None and existing.status == WorkflowStatus.ACTIVE:
            change = preview_change(existing.name, body, now=now)
            return None if change.unchanged else change_lines(change, settings.timezone)
        if body.get("status") == WorkflowStatus.ACTIVE:
            return activation_lines(preview_activation(body, now=now), settings.timezone)
    except RotaError:
        return None
    return None


# ------------------------------------------------------------------------ review


@dataclass(frozen=True)
class Occurrence:
    at: datetime
    mark: str | None


@dataclass(frozen=True)
class ReviewSummary:
    """Everything the review screen says, as plain data (issue 14 §5)."""

    name: str
    object_type: str
    status: str
    timezone: str
    schedule: str
    criteria: str
    suppression: str
    unenrollment: str
    pause_days: str
    other_settings: list[str]
    actions: list[str]
    counts: Counts
    next_runs: list[Occurrence]


def review_summary(name: str, *, now: datetime | None = None, runs: int = 3) -> ReviewSummary:
    """The workflow in words, the count now and the next ``runs`` occurrences (as if
    activated now when it is not active), each marked when it falls on a pause day."""
    now = now or utcnow()
    settings = load_settings()
    wf = find_by_name(name.strip())
    if wf is None:
        raise RotaError(f'no workflow named "{name}"')
    body = workflow_body(wf)
    type_name = body["object_type"]
    tz = _tz(body, settings)
    schedule = parse_schedule(body["schedule"], settings.timezone)
    pause = (body["settings"] or {}).get("pause_dates") or []
    upcoming = schedule.next_n(now, runs, calendar=calendar_of(settings))
    days = {d if isinstance(d, date) else date.fromisoformat(str(d)) for d in pause}
    other = _setting_words({}, {k: v for k, v in (body["settings"] or {}).items() if k != "pause_dates"})
    return ReviewSummary(
        name=wf.name, object_type=get_type(type_name).label, status=wf.status, timezone=tz,
        schedule=schedule.describe(),
        criteria=crit.describe_criteria(body["criteria"], type_name),
        suppression=crit.describe_criteria(body["suppression"], type_name, empty=False)
        if body["suppression"] else "none",
        unenrollment=crit.describe_criteria(body["unenrollment"], type_name, empty=False)
        if body["unenrollment"] else "none",
        pause_days=_pause_days(pause),
        other_settings=[line.replace(": none → ", ": ") for line in other],
        actions=action_lines(public_body(body)["actions"]),
        counts=_counts(body, now, settings),
        next_runs=[Occurrence(at, pause_note(at, zone(tz), days)) for at in upcoming],
    )
