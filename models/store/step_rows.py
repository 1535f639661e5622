"""The step passes' small reads and writes by id list (engine/executor.py,
engine/database_pass.py, engine/network_pass.py, engine/steps/run_db.py): when the
next step is due, which claims an engine still holds, the runs' instants, and list
members removed record by record. The set-based statements are in steps.py."""
from __future__ import annotations

from datetime import datetime

import peewee as pw

from models.db import db
from models.schema import Enrollment, ListMember, Run, StaticList

CHUNK = 500  # ids per IN (…): well under every database's parameter limit


def earliest_due(states: tuple[str, ...], limit: int = 100) -> list[tuple]:
    """(next_step_at, claimed_until, claimed_by) of the ``limit`` enrollments due
    first in these states, earliest first."""
    E = Enrollment
    return list(E.select(E.next_step_at, E.claimed_until, E.claimed_by)
                .where(E.next_step_at.is_null(False) & E.state.in_(states))
                .order_by(E.next_step_at).limit(limit).tuples())


def held_by(ids: list[int], engine_id: str) -> list[int]:
    """Which of ``ids`` ``engine_id`` still holds."""
    E = Enrollment
    out: list[int] = []
    for i in range(0, len(ids), CHUNK):
        out += [r for (r,) in E.select(E.id).where(E.id.in_(ids[i:i + CHUNK]) & (E.claimed_by == engine_id)).tuples()]
    return out


def enrollment_rows(ids: list[int]) -> list[tuple]:
    """(id, run, workflow, record, manual, enrolled_at, next_step_at, step, path, the
    run's scheduled_for) of these enrollments, the shape a claim reads."""
    E = Enrollment
    out: list[tuple] = []
    for i in range(0, len(ids), CHUNK):
        out += list(E.select(E.id, E.run, E.workflow, E.record_id, E.manual, E.enrolled_at, E.next_step_at, E.step,
                             E.path, Run.scheduled_for).join(Run, on=(E.run == Run.id))
                    .where(E.id.in_(ids[i:i + CHUNK])).tuples())
    return out


def run_instants(run_ids: list[int]) -> dict[int, datetime | None]:
    """Each run's scheduled instant (None for a manual run)."""
    return dict(Run.select(Run.id, Run.scheduled_for).where(Run.id.in_(sorted(run_ids))).tuples())


def list_named(name: str, *, create_for: int | None = None, now: datetime | None = None) -> StaticList | None:
    """The static list ``name``; with ``create_for`` (an object type id), created when
    missing, by one engine even when two race (the loser reads the winner's)."""
    lst = StaticList.get_or_none(StaticList.name == name)
    if lst is None and create_for is not None:
        try:
            with db.atomic():  # another engine may create it at the same moment
                lst = StaticList.create(name=name, object_type=create_for, created_at=now)
        except pw.IntegrityError:
            lst = StaticList.get(StaticList.name == name)
    return lst


def remove_list_members(list_id: int, record_ids: list[int]) -> None:
    for i in range(0, len(record_ids), CHUNK):
        ListMember.delete().where((ListMember.list == list_id)
                                  & ListMember.record_id.in_(record_ids[i:i + CHUNK])).execute()
