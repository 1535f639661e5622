"""The review-and-publish screen's one write: save the records that meet a workflow's
criteria now as a static list, a single INSERT … SELECT whatever their number. What
the screen shows is read by ``engine.preview_change.review_summary``.
"""
from __future__ import annotations

from datetime import datetime

from engine.due import workflow_timezone
from engine.workflows import get_workflow
from models import criteria as crit
from models.errors import RotaError
from models.settings import load_settings
from models.store.workflows import save_matching_as_list
from models.timeutil import utcnow


def save_as_static_list(workflow_name: str, list_name: str, now: datetime | None = None) -> int:
    """Save the records meeting the criteria now as a new static list; returns its size.

    One transaction: the list and all its members, or nothing. The set is exactly the
    one the review screen counts (criteria only; suppression is an enrollment rule).
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
