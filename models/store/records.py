"""Read models and deletes for records and static lists: what the records, lists and
types screens and the ``rota record`` / ``rota list`` commands show (issue 13 §3–4).

Screens get plain data from here, never a peewee query. Record pages are keyset-paged
by id (``id > after``), so the millionth page costs what the first does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee as pw

from models.associations import associations_of
from models.db import fold
from models.errors import RotaError
from models.objects import Prop, coerce_value, get_props, get_type, record_model
from models.schema import AssociationLink, Enrollment, ListMember, RecordView, Run, StaticList, Task, Workflow
from models.store.criteria_sql import contains_position, fold_column
from models.store.dialect import write_transaction

HIDDEN = ("createdate", "updated_at")


@dataclass(frozen=True)
class Page:
    type_name: str
    columns: list[Prop]
    rows: list[dict]  # {"id": …, property: stored value, …}
    after: int
    more: bool


# ------------------------------------------------------------------- searching


def search_condition(type_name: str, text: str, prop_name: str | None = None, tz_name: str = "UTC"):
    """Typing in the records screen: by default every text property contains the text
    (ignoring case); a chosen text property alone; another type, equality with the
    converted value (a bad value is a RotaError naming the property)."""
    model = record_model(type_name)
    props = get_props(type_name)
    needle = fold(text.strip())
    if prop_name:
        prop = props.get(prop_name)
        if prop is None:
            raise RotaError(f'{type_name} has no property "{prop_name}"')
        if prop.type != "string":
            try:
                value = coerce_value(prop, text, tz_name)
            except ValueError as exc:
                raise RotaError(f'search in "{prop.label}": {exc}') from None
            return getattr(model, prop.name) == value
        return contains_position(fold_column(getattr(model, prop.name)), needle) > 0
    texts = [p for p in props.values() if p.type == "string"]
    if not texts:
        return pw.SQL("(1 = 0)")
    parts = [contains_position(fold_column(getattr(model, p.name)), needle) > 0 for p in texts]
    out = parts[0]
    for part in parts[1:]:
        out = out | part
    return out


def record_page(type_name: str, *, after: int = 0, limit: int = 100, search: str = "",
                search_prop: str | None = None, columns: list[str] | None = None, tz_name: str = "UTC") -> Page:
    model = record_model(type_name)
    props = get_props(type_name)
    shown = [props[c] for c in (columns or view_columns(type_name)) if c in props]
    q = model.select(model.id, *[getattr(model, p.name) for p in shown]).where(model.id > after)
    if search.strip():
        q = q.where(search_condition(type_name, search, search_prop, tz_name))
    rows = list(q.order_by(model.id).limit(limit + 1).dicts())
    return Page(get_type(type_name).name, shown, rows[:limit], after, len(rows) > limit)


def count_records(type_name: str, search: str = "", search_prop: str | None = None, tz_name: str = "UTC") -> int:
    model = record_model(type_name)
    q = model.select(pw.fn.COUNT(pw.SQL("*")))
    if search.strip():
        q = q.where(search_condition(type_name, search, search_prop, tz_name))
    return int(q.scalar() or 0)


# ----------------------------------------------------------------- chosen columns


def view_columns(type_name: str) -> list[str]:
    """The columns the operator chose for this type, else every property but the two
    Rota keeps itself, in definition order."""
    otype = get_type(type_name)
    props = get_props(otype)
    row = RecordView.get_or_none(RecordView.object_type == otype.id)
    if row is not None:
        chosen = [c for c in row.columns or [] if c in props]
        if chosen:
            return chosen
    return [p for p in props if p not in HIDDEN]


def save_view_columns(type_name: str, columns: list[str]) -> list[str]:
    otype = get_type(type_name)
    props = get_props(otype)
    unknown = [c for c in columns if c not in props]
    if unknown:
        raise RotaError(f'{otype.name} has no property "{unknown[0]}"')
    if not columns:
        raise RotaError("choose at least one column")
    with write_transaction():
        RecordView.delete().where(RecordView.object_type == otype.id).execute()
        RecordView.create(object_type=otype.id, columns=list(dict.fromkeys(columns)))
    return view_columns(otype)


# ---------------------------------------------------------------- delete


def _enrollments_of(type_name: str, record_id: int):
    otype = get_type(type_name)
    runs = Run.select(Run.id).join(Workflow, on=(Run.workflow == Workflow.id)).where(Workflow.object_type == otype.id)
    return Enrollment.select().where(Enrollment.run.in_(runs) & (Enrollment.record_id == record_id))


def _memberships_of(type_name: str, record_id: int):
    otype = get_type(type_name)
    lists = StaticList.select(StaticList.id).where(StaticList.object_type == otype.id)
    return ListMember.select().where(ListMember.list.in_(lists) & (ListMember.record_id == record_id))


def delete_impact(type_name: str, record_id: int) -> dict[str, int]:
    """What goes with the record if it is deleted: enrollments and list memberships."""
    if get_record_exists(type_name, record_id) is False:
        raise RotaError(f"{type_name} {record_id} does not exist")
    return {"enrollments": _enrollments_of(type_name, record_id).count(),
            "list_memberships": _memberships_of(type_name, record_id).count()}


def get_record_exists(type_name: str, record_id: int) -> bool:
    model = record_model(type_name)
    return model.select(model.id).where(model.id == record_id).exists()


def delete_record(type_name: str, record_id: int) -> dict[str, int]:
    """Delete a record with its enrollments, list memberships and association links, in
    one transaction; returns how many of each went. History events are kept: they are
    the record of what happened."""
    otype = get_type(type_name)
    model = record_model(otype)
    with write_transaction():
        if not get_record_exists(otype.name, record_id):
            raise RotaError(f"{otype.name} {record_id} does not exist")
        impact = {
            "enrollments": Enrollment.delete().where(
                Enrollment.id.in_(_enrollments_of(otype.name, record_id).select(Enrollment.id))).execute(),
            "list_memberships": ListMember.delete().where(
                ListMember.id.in_(_memberships_of(otype.name, record_id).select(ListMember.id))).execute(),
        }
        for assoc in associations_of(otype).values():
            own = getattr(AssociationLink, assoc.own_column)
            AssociationLink.delete().where((AssociationLink.association == assoc.id) & (own == record_id)).execute()
        model.delete().where(model.id == record_id).execute()
    return impact


# ------------------------------------------------------------------ lists


def list_summaries() -> list[dict]:
    """Every static list: name, object type, member count, created (newest first)."""
    counts = (ListMember.select(ListMember.list, pw.fn.COUNT(ListMember.id).alias("n")).group_by(ListMember.list))
    by_list = {row.list_id: row.n for row in counts}
    out = []
    for lst in StaticList.select().order_by(StaticList.created_at.desc(), StaticList.id.desc()):
        out.append({"name": lst.name, "object_type": lst.object_type.name, "count": by_list.get(lst.id, 0),
                    "created_at": lst.created_at})
    return out


def get_list(name: str) -> StaticList:
    lst = StaticList.get_or_none(StaticList.name == str(name).strip())
    if lst is None:
        known = ", ".join(f'"{n.name}"' for n in StaticList.select(StaticList.name).order_by(StaticList.name)
                          .limit(5))
        raise RotaError(f'no static list named "{name}"' + (f" (lists: {known})" if known else " (there are none)"))
    return lst


def list_member_ids(name: str, *, after: int = 0, limit: int | None = None) -> list[int]:
    lst = get_list(name)
    q = (ListMember.select(ListMember.record_id).where((ListMember.list == lst.id) & (ListMember.record_id > after))
         .order_by(ListMember.record_id))
    if limit is not None:
        q = q.limit(limit)
    return [r[0] for r in q.tuples()]


def list_info(name: str) -> dict:
    lst = get_list(name)
    count = ListMember.select().where(ListMember.list == lst.id).count()
    return {"name": lst.name, "object_type": lst.object_type.name, "count": count}


def list_member_records(name: str, batch: int = 1000):
    """The members' records in id order, in batches (for the CSV export)."""
    lst = get_list(name)
    model = record_model(lst.object_type.name)
    after = 0
    while True:
        members = ListMember.select(ListMember.record_id).where(ListMember.list == lst.id)
        rows = list(model.select().where(model.id.in_(members) & (model.id > after)).order_by(model.id)
                    .limit(batch).dicts())
        if not rows:
            return
        yield from rows
        after = rows[-1]["id"]


def delete_list(name: str) -> int:
    """Delete a static list and its memberships (not the records); returns the count."""
    lst = get_list(name)
    with write_transaction():
        count = ListMember.delete().where(ListMember.list == lst.id).execute()
        lst.delete_instance()
    return count


# -------------------------------------------------------------- a record's story


def record_lists(type_name: str, record_id: int) -> list[dict]:
    otype = get_type(type_name)
    q = (ListMember.select(ListMember.added_at, StaticList.name).join(StaticList)
         .where((StaticList.object_type == otype.id) & (ListMember.record_id == record_id)))
    return [{"at": added, "list": name} for added, name in q.tuples()]


def record_tasks(type_name: str, record_id: int) -> list[dict[str, Any]]:
    otype = get_type(type_name)
    q = (Task.select(Task.created_at, Task.title, Task.done, Task.due_date, Task.owner, Workflow.name)
         .join(Workflow, pw.JOIN.LEFT_OUTER, on=(Task.workflow == Workflow.id))
         .where((Task.object_type == otype.id) & (Task.record_id == record_id)))
    return [{"at": at, "title": title, "done": done, "due_date": due, "owner": owner, "workflow": wf}
            for at, title, done, due, owner, wf in q.tuples()]


def workflow_names_of(type_name: str) -> list[str]:
    otype = get_type(type_name)
    return [w.name for w in Workflow.select(Workflow.name).where(Workflow.object_type == otype.id)
            .order_by(Workflow.name)]
