"""What the review-and-publish screen needs: how many records meet the criteria now,
when the workflow would next run, and "save these records as a static list".

Counting and saving are single statements in the database (an aggregate, an
INSERT … SELECT), whatever the number of records.
"""
from __future__ import annotations

from datetime import datetime

from engine.due import calendar_of, workflow_schedule, workflow_timezone
from engine.workflows import ACTION_TIMES_REASON, get_workflow
from models import criteria as crit
from models.errors import RotaError
from models.settings import load_settings
from models.store.workflows import save_matching_as_list
from models.timeutil import utcnow


def review(workflow_name: str, now: datetime | None = None) -> dict:
    """``count`` meeting the criteria now; ``suppressed`` of those that suppression
    would keep out; ``would_enroll`` the rest; ``next_run`` (aware UTC, or None) the
    next scheduled instant after now — as if activated now when it is not active."""
    now = now or utcnow()
    settings = load_settings()
    wf = get_workflow(workflow_name)
    type_name = wf.object_type.name
    tz = workflow_timezone(wf, settings)
    count = crit.count_matching(type_name, wf.criteria or [], now=now, tz=tz)
    would = count
    if wf.suppression:
        would = crit.matching_query(type_name, wf.criteria or [], now=now, tz=tz,
                                    suppression=wf.suppression).count()
    next_run = workflow_schedule(wf, settings).next_after(now, calendar=calendar_of(settings))
    return {
        "count": count,
        "suppressed": count - would,
        "would_enroll": would,
        "next_run": next_run,
        "status": wf.status,
        "timezone": tz,
        "campaign": (wf.settings or {}).get("campaign") or "",
        "action_times": {"available": False, "reason": ACTION_TIMES_REASON},
    }


def save_as_static_list(workflow_name: str, list_name: str, now: datetime | None = None) -> int:
    """Save the records meeting the criteria now as a new static list; returns its size.

    One transaction: the list and all its members, or nothing. The set is exactly the
    one ``review`` counts (criteria only; suppression is an enrollment rule).
    """
    now = now or utcnow()
    name = (list_name or "").strip()
    if not name:
        raise RotaError("give the list a name")
    if len(name) > 200:
        raise RotaError("list name: at most 200 characters")
    settings = load_settings()
    wf = get_workflow(workflow_name)
    where = crit.compile_criteria(wf.criteria or [], wf.object_type.name, now=now,
                                  tz=workflow_timezone(wf, settings), empty=True)
    return save_matching_as_list(wf, name, where, now=now)
