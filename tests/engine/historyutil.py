"""Every history event, one per record, read straight from the tables (brute force):
``history_event`` rows as they are, ``history_group`` rows expanded to each enrollment
of their range with ``history_value`` merged, and the skip notes (``run_skip``) as
``skipped_in_progress`` events at their run's instant. Tests use it to look at what happened
without going through engine/history.py, and to check that module against it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from models.schema import Enrollment, HistoryEvent, HistoryGroup, HistoryValue, Run, SkipNote
from models.timeutil import from_micros


@dataclass
class Ev:
    id: int
    workflow_id: int
    at: datetime
    type: str
    record_id: int | None
    run_id: int | None
    enrollment_id: int | None
    scheduled_for: datetime | None
    step: int | None
    detail: str | None
    order: tuple = ()


def _instant(v):
    if v is None or isinstance(v, datetime):
        return v
    return from_micros(v)


def all_events(kind: str | None = None, record_id: int | None = None, workflow_id: int | None = None) -> list[Ev]:
    """Oldest first (by instant, then by the order written)."""
    out: list[Ev] = []
    for e in HistoryEvent.select():
        out.append(Ev(e.id, e.workflow_id, _instant(e.at), e.type, e.record_id, e.run_id, e.enrollment_id,
                      _instant(e.scheduled_for), e.step, e.detail, (2 * e.id, 0, 0)))
    sched = dict(Run.select(Run.id, Run.scheduled_for).tuples())
    for grp in HistoryGroup.select():
        values = {v.enrollment: v.detail for v in HistoryValue.select().where(HistoryValue.group == grp.id)}
        members = (Enrollment.select(Enrollment.id, Enrollment.record_id)
                   .where(Enrollment.id.between(grp.first, grp.last) & (Enrollment.run == grp.run_id)).tuples())
        for eid, rid in members:
            detail = grp.detail
            if eid in values:
                detail = json.dumps({**json.loads(grp.detail), **json.loads(values[eid])}, ensure_ascii=False)
            out.append(Ev(grp.id, grp.workflow_id, _instant(grp.at), grp.type, rid, grp.run_id, eid,
                          _instant(sched.get(grp.run_id)), grp.step, detail, (2 * grp.seq + 1, grp.id, eid)))
    runs = {r.id: r for r in Run.select(Run.id, Run.workflow, Run.started_at, Run.scheduled_for)}
    for note in SkipNote.select():  # at an instant, before the events written in it (as history pages them)
        run = runs[note.run_id]
        out.append(Ev(0, run.workflow_id, _instant(run.started_at), "skipped_in_progress", note.record_id, run.id,
                      None, _instant(run.scheduled_for), None, None, (-1, run.id, note.record_id)))
    out = [e for e in out if (kind is None or e.type == kind) and (record_id is None or e.record_id == record_id)
           and (workflow_id is None or e.workflow_id == workflow_id)]
    out.sort(key=lambda e: (e.at, e.order))
    return out
