"""Workflow rows: look-ups, the newest run of each, and the writes of the service layer
(engine/workflows.py validates; this module stores)."""
from __future__ import annotations

import peewee as pw

from models.errors import RotaError
from models.schema import Run, Workflow


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
