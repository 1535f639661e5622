"""Defining and changing object types and properties: the definition rows and the
record tables' DDL (``CREATE TABLE``, ``ALTER TABLE … ADD/DROP/RENAME COLUMN``),
always together, in one transaction.

What types exist and how records look is ``models.objects`` (a registry this module
reads and invalidates); the built-in types are installed by ``models.builtin_types``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import peewee as pw

from models.db import db
from models.errors import RotaError
from models.objects import (
    COMMON_PROPERTIES,
    NAME_RE,
    PROPERTY_TYPES,
    RESERVED,
    Prop,
    coerce_value,
    field_for,
    get_props,
    get_type,
    invalidate_cache,
    prop_from_row,
    record_model,
    to_json_value,
)
from models.schema import ObjectType, PropertyDef
from models.store.dialect import dialect, write_transaction
from models.timeutil import utcnow


def check_name(kind: str, name: str) -> None:
    """Refuse a type or property name that is not a lowercase identifier."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise RotaError(
            f'{kind} name "{name}" is not valid: use lowercase letters, digits and _ , starting with a letter'
        )


def normalise_options(options) -> list[dict]:
    """Enumeration options as [{"name", "label"}]: a bare string is a name, whose label
    is made from it; names must be present and unique (ignoring case)."""
    out = []
    for o in options or []:
        if isinstance(o, str):
            o = {"name": o, "label": o.replace("_", " ").title()}
        if not isinstance(o, dict) or not str(o.get("name", "")).strip():
            raise RotaError("each enumeration option needs a name")
        out.append({"name": str(o["name"]).strip(), "label": str(o.get("label") or o["name"]).strip()})
    if len({o["name"].lower() for o in out}) != len(out):
        raise RotaError("enumeration option names must be unique")
    return out


def create_type(name: str, label: str, plural: str, properties: list, builtin: bool) -> ObjectType:
    """A type and its record table; ``properties`` are (name, label, type[, options[, required]]),
    after the two every type has (COMMON_PROPERTIES). ``create_object_type`` checks a
    custom type's names first; the built-in types come here directly."""
    check_name("object type", name)
    with write_transaction():
        otype = ObjectType.create(
            name=name, label=label, plural=plural, builtin=builtin, table_name=f"rec_{name}", created_at=utcnow()
        )
        rows = []
        for pos, spec in enumerate(list(COMMON_PROPERTIES) + list(properties)):
            pname, plabel, ptype = spec[0], spec[1], spec[2]
            options = spec[3] if len(spec) > 3 else None
            required = spec[4] if len(spec) > 4 else False
            if ptype not in PROPERTY_TYPES:
                raise RotaError(f'property "{pname}": type "{ptype}" is unknown: use one of {", ".join(PROPERTY_TYPES)}')
            rows.append({
                "object_type": otype.id, "name": pname, "label": plabel, "type": ptype,
                "options": normalise_options(options) if ptype == "enumeration" else None,
                "required": required, "builtin": builtin or pname in RESERVED, "position": pos,
            })
        if len({r["name"] for r in rows}) != len(rows):
            raise RotaError(f"object type {name}: property names must be unique")
        PropertyDef.insert_many(rows).execute()
        invalidate_cache()
        db.create_tables([record_model(otype)], safe=True)
    return otype


def create_object_type(name: str, label: str, plural: str | None = None, properties: Iterable = ()) -> ObjectType:
    """A custom object type; ``properties`` are (name, label, type[, options[, required]])."""
    if ObjectType.get_or_none(ObjectType.name == name) is not None:
        raise RotaError(f'object type "{name}" exists already')
    props = list(properties)
    for spec in props:
        check_name("property", spec[0])
        if spec[0] in RESERVED:
            raise RotaError(f'property name "{spec[0]}" is reserved')
    return create_type(name, label, plural or label + "s", props, builtin=False)


def add_property(type_name: str, name: str, label: str, type: str, options=None, required: bool = False) -> Prop:
    """Add a property to an object type: a definition row and a new column, together."""
    otype = get_type(type_name)
    check_name("property", name)
    if name in RESERVED:
        raise RotaError(f'property name "{name}" is reserved')
    if type not in PROPERTY_TYPES:
        raise RotaError(f'type "{type}" is unknown: use one of {", ".join(PROPERTY_TYPES)}')
    if PropertyDef.get_or_none(PropertyDef.object_type == otype, PropertyDef.name == name):
        raise RotaError(f'{otype.name} already has a property "{name}"')
    if type == "enumeration" and not normalise_options(options):
        raise RotaError(f'property "{name}": an enumeration needs at least one option')
    with write_transaction():
        pos = PropertyDef.select(pw.fn.MAX(PropertyDef.position)).where(PropertyDef.object_type == otype).scalar() or 0
        PropertyDef.create(
            object_type=otype, name=name, label=label, type=type,
            options=normalise_options(options) if type == "enumeration" else None,
            required=required, builtin=False, position=pos + 1,
        )
        db.execute_sql(f'ALTER TABLE "{otype.table_name}" ADD COLUMN {_column_ddl(otype, name, type)}')
        invalidate_cache()
    return get_props(type_name)[name]


def _column_ddl(otype: ObjectType, name: str, ptype: str) -> str:
    """The column definition (``"name" TYPE``) a property of ``ptype`` gets."""
    field = field_for(ptype)
    field.bind(record_model(otype), name)  # gives the field its column name
    field.column_name = name
    ctx = db.get_sql_context()
    return ctx.sql(field.ddl(ctx)).query()[0]


def _indexes_on(otype: ObjectType, column: str) -> list[str]:
    """Rota's own criteria indexes on the type's table that use ``column`` (dropped with
    the column; the advisor makes them again for the workflows that still need them)."""
    word = re.compile(rf"\b{re.escape(column)}\b")
    return [n for n, sql in dialect().indexes(otype.table_name)
            if n.startswith("rota_crit_") and word.search(sql.split("(", 1)[-1])]


def update_property(type_name: str, name: str, *, label: str | None = None, options=None,
                    required: bool | None = None) -> Prop:
    """Change what a property is called, its enumeration options or whether it is required.

    Removing an enumeration option that a record holds is refused, naming the record.
    """
    otype = get_type(type_name)
    row = PropertyDef.get_or_none(PropertyDef.object_type == otype, PropertyDef.name == name)
    if row is None:
        raise RotaError(f'{otype.name} has no property "{name}"')
    changes: dict[str, Any] = {}
    if label is not None and label.strip() and label.strip() != row.label:
        changes["label"] = label.strip()
    if options is not None and row.type == "enumeration":
        opts = normalise_options(options)
        if not opts:
            raise RotaError(f'property "{name}": an enumeration needs at least one option')
        if opts != (row.options or []):
            kept = {o["name"] for o in opts}
            model = record_model(otype)
            col = getattr(model, name)
            lost = (model.select(model.id, col).where(col.is_null(False) & col.not_in(list(kept)))
                    .order_by(model.id).tuples().first())
            if lost is not None:
                raise RotaError(f'property "{name}": option "{lost[1]}" is still held by {otype.name} {lost[0]}; '
                                f"keep the option or change that record first")
            changes["options"] = opts
    if required is not None and bool(required) != bool(row.required):
        if row.name in RESERVED:
            raise RotaError(f'property "{name}" is kept by Rota itself; it cannot be made required')
        changes["required"] = bool(required)
    if changes:
        PropertyDef.update(**changes).where(PropertyDef.id == row.id).execute()
        invalidate_cache()
    return get_props(otype)[name]


def change_property_type(type_name: str, name: str, new_type: str, options=None) -> Prop:
    """Give a property another type, converting every stored value.

    Refused, naming the first record, when a stored value does not convert (the text
    "abc" to a number, a value that is not one of the new enumeration's options …).
    The column is rebuilt: a new typed column is filled, the old one dropped and the
    new one renamed, all in the caller's transaction (or one of its own).
    """
    otype = get_type(type_name)
    row = PropertyDef.get_or_none(PropertyDef.object_type == otype, PropertyDef.name == name)
    if row is None:
        raise RotaError(f'{otype.name} has no property "{name}"')
    if new_type not in PROPERTY_TYPES:
        raise RotaError(f'property "{name}": type "{new_type}" is unknown: use one of {", ".join(PROPERTY_TYPES)}')
    if row.builtin:
        raise RotaError(f'property "{name}" is built in; its type cannot change')
    old = prop_from_row(row)
    opts = normalise_options(options) if new_type == "enumeration" else None
    if new_type == "enumeration" and not opts:
        raise RotaError(f'property "{name}": an enumeration needs at least one option')
    new = Prop(name, row.label, new_type, tuple((o["name"], o["label"]) for o in opts or []), bool(row.required))
    if old.type == new_type and (new_type != "enumeration" or list(old.options) == list(new.options)):
        return old
    model = record_model(otype)
    col = getattr(model, name)
    converted: list[tuple[Any, int]] = []
    for rid, value in model.select(model.id, col).where(col.is_null(False)).order_by(model.id).tuples().iterator():
        shown = to_json_value(old, value)
        raw = ("true" if shown else "false") if isinstance(shown, bool) else shown
        try:
            converted.append((coerce_value(new, raw if new_type != "string" else str(raw)), rid))
        except ValueError as exc:
            raise RotaError(f'cannot change {otype.name}.{name} to {new_type}: {otype.name} {rid} holds '
                            f'"{shown}", which does not convert ({exc}); change or clear that value first') from None
    table, tmp = otype.table_name, f"{name}__rota_new"
    with write_transaction():
        for index in _indexes_on(otype, name):
            db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN {_column_ddl(otype, tmp, new_type)}')
        field = field_for(new_type)
        param = dialect().param
        for i in range(0, len(converted), 5000):
            chunk = [(field.db_value(v), rid) for v, rid in converted[i:i + 5000]]
            db.cursor().executemany(f'UPDATE "{table}" SET "{tmp}" = {param} WHERE id = {param}', chunk)
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{name}"')
        db.execute_sql(f'ALTER TABLE "{table}" RENAME COLUMN "{tmp}" TO "{name}"')
        PropertyDef.update(type=new_type, options=opts).where(PropertyDef.id == row.id).execute()
        invalidate_cache()
    return get_props(otype)[name]


def drop_property(type_name: str, name: str) -> None:
    """Remove a custom property and its column, values and all (the caller checks that
    no workflow uses it: ``engine.types.remove_property``)."""
    otype = get_type(type_name)
    row = PropertyDef.get_or_none(PropertyDef.object_type == otype, PropertyDef.name == name)
    if row is None:
        raise RotaError(f'{otype.name} has no property "{name}"')
    if row.builtin:
        raise RotaError(f'property "{name}" is built in; it cannot be removed')
    with write_transaction():
        for index in _indexes_on(otype, name):
            db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
        db.execute_sql(f'ALTER TABLE "{otype.table_name}" DROP COLUMN "{name}"')
        row.delete_instance()
        invalidate_cache()


def update_type(type_name: str, *, label: str | None = None, plural: str | None = None) -> ObjectType:
    otype = get_type(type_name)
    changes = {}
    if label and label.strip() and label.strip() != otype.label:
        changes["label"] = label.strip()
    if plural and plural.strip() and plural.strip() != otype.plural:
        changes["plural"] = plural.strip()
    if changes:
        ObjectType.update(**changes).where(ObjectType.id == otype.id).execute()
        invalidate_cache()
    return get_type(otype.name)
