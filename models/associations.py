"""Associations between records (issue 13 §2): contact → company, deal → contacts, …

An association is defined once (``AssociationDef``: from type, to type, cardinality)
and is seen from both ends: ``contact.company`` and ``company.contacts`` are the same
links read in two directions. Links are rows of ``AssociationLink``; both directions
are index seeks. A ``many_to_one`` association keeps at most one link per from record.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import peewee as pw

from models.db import db
from models.errors import RotaError
from models.objects import INVALIDATE_HOOKS, NAME_RE, find_prop, get_props, get_type, record_model
from models.schema import AssociationDef, AssociationLink, ObjectType

CARDINALITIES = ("many_to_one", "many_to_many")


@dataclass(frozen=True)
class Assoc:
    """An association as seen from one type: ``own`` records reach ``other`` records."""

    id: int
    name: str  # how this side calls it
    label: str
    own_type: str
    other_type: str
    many: bool  # this side can reach several records
    forward: bool  # this side is the definition's from side

    @property
    def own_column(self) -> str:
        return "from_id" if self.forward else "to_id"

    @property
    def other_column(self) -> str:
        return "to_id" if self.forward else "from_id"


_CACHE: dict[tuple[int, str], dict[str, Assoc]] = {}


def invalidate() -> None:
    _CACHE.clear()


INVALIDATE_HOOKS.append(invalidate)


def associations_of(type_name) -> dict[str, Assoc]:
    """Every association of a type, from both ends, by the name this side uses."""
    otype = get_type(type_name)
    key = (id(db.obj), otype.name)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    out: dict[str, Assoc] = {}
    query = (AssociationDef.select(AssociationDef, ObjectType)
             .join(ObjectType, on=(AssociationDef.to_type == ObjectType.id))
             .where((AssociationDef.from_type == otype.id) | (AssociationDef.to_type == otype.id))
             .order_by(AssociationDef.id))
    for a in query:
        from_name = get_type_by_id(a.from_type_id)
        if a.from_type_id == otype.id:
            out[a.name] = Assoc(a.id, a.name, a.label, otype.name, a.to_type.name,
                                a.cardinality == "many_to_many", True)
        if a.to_type_id == otype.id:
            out[a.inverse] = Assoc(a.id, a.inverse, a.inverse_label, otype.name, from_name, True, False)
    _CACHE[key] = out
    return out


def get_type_by_id(type_id: int) -> str:
    return ObjectType.get_by_id(type_id).name


def find_association(type_name, key: str) -> Assoc | None:
    """An association of the type by name or label, ignoring case."""
    assocs = associations_of(type_name)
    k = str(key).strip().lower()
    if k in assocs:
        return assocs[k]
    return next((a for a in assocs.values() if a.label.strip().lower() == k), None)


def define_association(from_type: str, name: object, to_type: str, cardinality: str = "many_to_one", *,
                       label: str | None = None, inverse: str | None = None,
                       inverse_label: str | None = None) -> Assoc:
    """A new association (or the same one again: nothing changes)."""
    source, target = get_type(from_type), get_type(to_type)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise RotaError(f'association name "{name}" is not valid: use lowercase letters, digits and _')
    if cardinality not in CARDINALITIES:
        raise RotaError(f'association {name}: cardinality "{cardinality}" is unknown; use {" or ".join(CARDINALITIES)}')
    inverse = inverse or (source.name + "s")
    if not NAME_RE.match(inverse):
        raise RotaError(f'association {name}: inverse name "{inverse}" is not valid')
    existing = AssociationDef.get_or_none(AssociationDef.from_type == source, AssociationDef.name == name)
    if existing is not None:
        if existing.to_type_id != target.id or existing.cardinality != cardinality:
            raise RotaError(f"association {source.name}.{name} exists already, to {existing.to_type.name} "
                            f"({existing.cardinality}); it cannot change")
        return associations_of(source)[name]
    if name in associations_of(source) or find_prop(source, name) is not None:
        raise RotaError(f'{source.name} already has a property or association named "{name}"')
    if inverse in associations_of(target) or find_prop(target, inverse) is not None:
        raise RotaError(f'{target.name} already has a property or association named "{inverse}"; '
                        'give the association another "inverse" name')
    AssociationDef.create(name=name, label=label or name.replace("_", " ").title(), from_type=source,
                          to_type=target, cardinality=cardinality, inverse=inverse,
                          inverse_label=inverse_label or inverse.replace("_", " ").title(), builtin=False)
    invalidate()
    return associations_of(source)[name]


def definitions_of(type_name) -> list[dict]:
    """The associations a type defines (its from side), as the type file writes them."""
    otype = get_type(type_name)
    rows = AssociationDef.select().where(AssociationDef.from_type == otype.id).order_by(AssociationDef.id)
    return [{"name": a.name, "label": a.label, "to": a.to_type.name, "cardinality": a.cardinality,
             "inverse": a.inverse} for a in rows]


# ----------------------------------------------------------------------- links


def link(type_name, assoc_name: str, pairs: list[tuple[int, int]]) -> int:
    """Link (own id, other id) pairs; a to-one side keeps only its newest link."""
    assoc = _need(type_name, assoc_name)
    rows = [{"association": assoc.id, assoc.own_column: own, assoc.other_column: other} for own, other in pairs]
    if not rows:
        return 0
    with db.atomic():
        if not assoc.many:
            owns = list({own for own, _ in pairs})
            col = getattr(AssociationLink, assoc.own_column)
            for i in range(0, len(owns), 500):
                AssociationLink.delete().where((AssociationLink.association == assoc.id)
                                               & col.in_(owns[i:i + 500])).execute()
        for i in range(0, len(rows), 5000):
            AssociationLink.insert_many(rows[i:i + 5000]).on_conflict_ignore().execute()
    return len(rows)


def unlink(type_name, assoc_name: str, own_id: int, other_id: int | None = None) -> int:
    assoc = _need(type_name, assoc_name)
    cond = (AssociationLink.association == assoc.id) & (getattr(AssociationLink, assoc.own_column) == own_id)
    if other_id is not None:
        cond &= getattr(AssociationLink, assoc.other_column) == other_id
    return AssociationLink.delete().where(cond).execute()


def linked_ids(type_name, assoc_name: str, own_id: int) -> list[int]:
    assoc = _need(type_name, assoc_name)
    own = getattr(AssociationLink, assoc.own_column)
    other = getattr(AssociationLink, assoc.other_column)
    q = AssociationLink.select(other).where((AssociationLink.association == assoc.id) & (own == own_id))
    return sorted(r[0] for r in q.tuples())


def links_of(assoc: Assoc, own_ids: list[int]) -> dict[int, list[int]]:
    """{own id: [other ids]} for many records at once (the Python evaluator)."""
    own = getattr(AssociationLink, assoc.own_column)
    other = getattr(AssociationLink, assoc.other_column)
    out: dict[int, list[int]] = {rid: [] for rid in own_ids}
    for i in range(0, len(own_ids), 500):
        q = AssociationLink.select(own, other).where((AssociationLink.association == assoc.id)
                                                     & own.in_(own_ids[i:i + 500]))
        for a, b in q.tuples():
            out[a].append(b)
    return out


def semi_join(assoc: Assoc, other_ids_query) -> pw.Select:
    """SELECT the own ids linked to any record of ``other_ids_query`` (an id subquery)."""
    own = getattr(AssociationLink, assoc.own_column)
    other = getattr(AssociationLink, assoc.other_column)
    return AssociationLink.select(own).where((AssociationLink.association == assoc.id)
                                             & other.in_(other_ids_query))


def count_linked(assoc: Assoc, other_ids_query) -> int:
    """How many own records link to any record of ``other_ids_query``, from the link
    table's (association, other, own) index alone. Exact because links never outlive
    their records (``models.store.records.delete_record`` removes them with the record)
    and a to-one side holds at most one link per record."""
    own = getattr(AssociationLink, assoc.own_column)
    counted = pw.fn.COUNT(pw.fn.DISTINCT(own)) if assoc.many else pw.fn.COUNT(pw.SQL("*"))
    other = getattr(AssociationLink, assoc.other_column)
    return int(AssociationLink.select(counted).where((AssociationLink.association == assoc.id)
                                                     & other.in_(other_ids_query)).scalar() or 0)


def resolve(type_name, assoc_name: str, text: str, by: str | None = None) -> int:
    """The other record a value names: its id, or (``by``) a property value that must be
    unique, such as a company's domain. Raises ValueError saying what is wrong."""
    assoc = _need(type_name, assoc_name)
    model = record_model(assoc.other_type)
    value = str(text).strip()
    if by is None:
        if not value.isdigit():
            raise ValueError(f'expected a {assoc.other_type} id, got "{value}"')
        if not model.select().where(model.id == int(value)).exists():
            raise ValueError(f"no {assoc.other_type} with id {value}")
        return int(value)
    prop = find_prop(assoc.other_type, by)
    if prop is None:
        raise ValueError(f'{assoc.other_type} has no property "{by}"')
    col = getattr(model, prop.name)
    ids = [r[0] for r in model.select(model.id).where(pw.fn.lower(col) == value.lower()).limit(2).tuples()]
    if not ids:
        raise ValueError(f'no {assoc.other_type} with {prop.name} "{value}"')
    if len(ids) > 1:
        raise ValueError(f'more than one {assoc.other_type} has {prop.name} "{value}"; use its id')
    return ids[0]


def _need(type_name, assoc_name: str) -> Assoc:
    assoc = find_association(type_name, assoc_name)
    if assoc is None:
        known = ", ".join(associations_of(type_name)) or "none"
        raise RotaError(f'{get_type(type_name).name} has no association "{assoc_name}" (known: {known})')
    return assoc


# ------------------------------------------------------------- editor choices


def property_choices(type_name) -> dict[str, object]:
    """What a filter can test, for the criteria editor: the type's own properties by
    name, then each associated type's properties as ``"assoc.property"`` with labels
    such as "Company · Number of Employees" (any associated: "Deals · Amount")."""
    out: dict[str, object] = dict(get_props(type_name))
    for assoc in associations_of(type_name).values():
        for prop in get_props(assoc.other_type).values():
            out[f"{assoc.name}.{prop.name}"] = replace(prop, label=f"{assoc.label} · {prop.label}")
    return out


def choice_key(f: dict) -> str | None:
    """The ``property_choices`` key a filter refers to."""
    prop = f.get("property")
    return f"{f['association']}.{prop}" if f.get("association") and prop else prop


def filter_target(key: str | None) -> dict:
    """{"association"?, "property"} for a ``property_choices`` key."""
    if key and "." in key:
        assoc, prop = key.split(".", 1)
        return {"association": assoc, "property": prop}
    return {"property": key}
