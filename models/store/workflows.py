"""Workflow rows: look-ups, the newest run of each, and the writes of the service layer
(engine/workflows.py validates; this module stores)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee as pw

from models.errors import RotaError
from models.objects import record_model
from models.schema import Enrollment, ListMember, ObjectType, Run, SkipNote, StaticList, Workflow
from models.store.dialect import write_transaction
from models.timeutil import to_micros


def get_workflow(name_or_id: str | int) -> Workflow:
    """The workflow with this id (an int) or name, or a RotaError that says where to look."""
    if isinstance(name_or_id, int):
        wf = Workflow.get_or_none(Workflow.id == name_or_id)
    else:
        wf = Workflow.get_or_none(Workflow.name == str(name_or_id).strip())
    if wf is None:
        raise RotaError(f'no workflow named "{name_or_id}" (see the workflows screen or `rota workflow export`)')
    return wf


def list_workflows() -> list[Workflow]:
    return list(Workflow.select().order_by(Workflow.name))


def last_runs() -> dict[int, Run]:
    """The newest run of every workflow, in one query."""
    newest = Run.select(pw.fn.MAX(Run.id)).group_by(Run.workflow)
    return {r.workflow_id: r for r in Run.select().where(Run.id.in_(newest))}


def find_by_name(name: str) -> Workflow | None:
    return Workflow.get_or_none(Workflow.name == name)


def workflows_by_ids(ids) -> list[Workflow]:
    """The workflows with these ids, in one query (the step passes' contexts)."""
    return list(Workflow.select().where(Workflow.id.in_(list(ids))))


def has_runs(workflow_id: int) -> bool:
    return Run.select().where(Run.workflow == workflow_id).exists()


def set_next_run(workflow_id: int, next_run_at: datetime | None, last_scheduled_for: datetime | None) -> None:
    """Move the workflow's schedule on: its next run time and the newest instant handled."""
    Workflow.update(next_run_at=next_run_at, last_scheduled_for=last_scheduled_for).where(
        Workflow.id == workflow_id).execute()


def workflows_of_type(object_type: ObjectType) -> list[Workflow]:
    return list(Workflow.select().where(Workflow.object_type == object_type))


_BODY_FIELDS = ("schedule", "criteria", "suppression", "unenrollment", "actions", "settings")


def insert_workflow(clean: dict, object_type: ObjectType, next_run_at: datetime | None, now: datetime) -> Workflow:
    """A new workflow row (version 1) from a validated body."""
    return Workflow.create(name=clean["name"], object_type=object_type, status=clean["status"],
                           **{k: clean[k] for k in _BODY_FIELDS}, next_run_at=next_run_at, version=1,
                           created_at=now, updated_at=now)


def update_workflow(wf: Workflow, clean: dict, object_type: ObjectType, now: datetime, *,
                    reschedule: bool = False, next_run_at: datetime | None = None) -> Workflow:
    """Write a validated body over ``wf`` as its next version (and ``next_run_at`` if
    ``reschedule``)."""
    wf.name = clean["name"]
    wf.object_type = object_type
    wf.status = clean["status"]
    for k in _BODY_FIELDS:
        setattr(wf, k, clean[k])
    if reschedule:
        wf.next_run_at = next_run_at
    wf.version = wf.version + 1
    wf.updated_at = now
    wf.save()
    return wf


def delete_workflow(wf: Workflow) -> None:
    """The workflow and everything it owns.

    Enrollments and skip notes hold no enforced reference (models.schema.LooseForeignKey):
    they go here, found run by run through the unique (run, record) key. The rest cascades.
    """
    runs = Run.select(Run.id).where(Run.workflow == wf.id)
    Enrollment.delete().where(Enrollment.run.in_(runs)).execute()
    SkipNote.delete().where(SkipNote.run.in_(runs)).execute()
    wf.delete_instance(recursive=False)


def save_matching_as_list(wf: Workflow, list_name: str, where: Any, *, now: datetime) -> int:
    """A new static list of the workflow type's records meeting ``where`` (a compiled
    criteria condition, models.criteria), in one transaction (one INSERT … SELECT
    whatever the number of records); returns its size."""
    type_name = wf.object_type.name
    model = record_model(type_name)
    with write_transaction():
        if StaticList.get_or_none(StaticList.name == list_name) is not None:
            raise RotaError(f'a static list named "{list_name}" exists already; choose another name')
        lst = StaticList.create(name=list_name, object_type=wf.object_type_id, created_at=now)
        source = model.select(pw.Value(lst.id), model.id, pw.Value(to_micros(now))).where(where)
        ListMember.insert_from(source, [ListMember.list, ListMember.record_id, ListMember.added_at]).execute()
        return ListMember.select().where(ListMember.list == lst.id).count()
