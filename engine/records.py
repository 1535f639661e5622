"""A record's story across workflows (issue 13 §3, SPEC §9 ``rota record show``).

The timeline merges, newest first: every enrollment and step of the record in every
workflow of its type (read through ``engine.history``, so it follows that module's
storage), its static-list memberships and the tasks workflows made for it. Property
changes made by workflows are the ``step_succeeded`` events of set/copy steps, which
carry the value set.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.history import history, summary
from models.associations import associations_of, linked_ids
from models.errors import RotaError
from models.objects import get_props, get_record, get_type, to_json_value
from models.store import records as store
from models.timeutil import iso_z

TIMELINE_LIMIT = 500


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_story(type_name: str, record_id: int, *, limit: int = TIMELINE_LIMIT) -> dict:
    """{"type", "id", "properties", "associations", "timeline": [newest first]}."""
    otype = get_type(type_name)
    try:
        rid = int(record_id)
    except (TypeError, ValueError):
        raise RotaError(f'record id "{record_id}" is not a number') from None
    if not -2**63 <= rid < 2**63:
        raise RotaError(f"record id {record_id} is out of range")
    record = get_record(otype.name, rid)
    if record is None:
        raise RotaError(f"no {otype.name} with id {rid}")
    props = get_props(otype)
    timeline: list[dict] = []
    for wf_name in store.workflow_names_of(otype.name):
        for row in history(wf_name, record_id=rid, limit=limit):
            timeline.append({"at": row["at"], "kind": row["type"], "workflow": wf_name, "step": row["step"],
                             "detail": row["detail"], "text": summary(row) or row["type"].replace("_", " ")})
    for m in store.record_lists(otype.name, rid):
        timeline.append({"at": _iso(m["at"]), "kind": "list_member", "workflow": None, "step": None,
                         "detail": {"list": m["list"]}, "text": f'member of list "{m["list"]}"'})
    for t in store.record_tasks(otype.name, rid):
        done = "done" if t["done"] else f"due {_iso(t['due_date'])}" if t["due_date"] else "open"
        timeline.append({"at": _iso(t["at"]), "kind": "task", "workflow": t["workflow"], "step": None,
                         "detail": {"title": t["title"], "done": bool(t["done"]), "owner": t["owner"]},
                         "text": f'task "{t["title"]}" ({done})'})
    timeline.sort(key=lambda r: r["at"] or "", reverse=True)
    return {
        "type": otype.name, "id": rid,
        "properties": {name: to_json_value(p, record.get(name)) for name, p in props.items()},
        "associations": {name: linked_ids(otype.name, name, rid) for name in associations_of(otype)},
        "timeline": timeline[:limit],
    }
