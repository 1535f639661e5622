"""Object types, property definitions and the per-type record tables.

Each object type has its own table (``rec_contact``, ``rec_company``, …) with one real,
typed column per property. Criteria then compile to plain column comparisons that
SQLite and PostgreSQL can index and scan fast, instead of JSON extraction per row.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import peewee as pw
from dateutil import parser as dtparser

from models.db import db, is_postgres
from models.errors import RotaError
from models.fields import InstantField
from models.schema import AssociationDef, ObjectType, PropertyDef
from models.timeutil import UTC, out_of_range, resolve_wall, utcnow, zone

PROPERTY_TYPES = ("string", "number", "bool", "date", "datetime", "enumeration")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = {"id", "createdate", "updated_at"}


def _opts(*names: str) -> list[dict]:
    return [{"name": n, "label": n.replace("_", " ").title()} for n in names]


_OWN = ("owner", "Owner", "string")
BUILTIN_TYPES: dict[str, dict] = {
    "contact": {
        "label": "Contact",
        "plural": "Contacts",
        "properties": [
            ("firstname", "First Name", "string"),
            ("lastname", "Last Name", "string"),
            ("email", "Email", "string"),
            ("phone", "Phone", "string"),
            ("city", "City", "string"),
            ("country", "Country", "string"),
            ("jobtitle", "Job Title", "string"),
            _OWN,
            ("lifecycle_stage", "Lifecycle Stage", "enumeration", _opts(
                "subscriber", "lead", "marketing_qualified_lead", "sales_qualified_lead",
                "opportunity", "customer", "evangelist", "other")),
            ("last_activity_date", "Last Activity Date", "datetime"),
            ("email_opt_out", "Email Opt-Out", "bool"),  # send_email steps skip these records
        ],
    },
    "company": {
        "label": "Company",
        "plural": "Companies",
        "properties": [
            ("name", "Name", "string"),
            ("domain", "Domain", "string"),
            ("city", "City", "string"),
            ("country", "Country", "string"),
            _OWN,
            ("industry", "Industry", "enumeration", _opts(
                "software", "retail", "manufacturing", "finance", "healthcare", "education",
                "media", "logistics", "energy", "consulting")),
            ("num_employees", "Number of Employees", "number"),
            ("annual_revenue", "Annual Revenue", "number"),
        ],
    },
    "deal": {
        "label": "Deal",
        "plural": "Deals",
        "properties": [
            ("dealname", "Deal Name", "string"),
            _OWN,
            ("pipeline", "Pipeline", "string"),
            ("dealstage", "Deal Stage", "enumeration", _opts(
                "appointment_scheduled", "qualified_to_buy", "presentation_scheduled",
                "decision_maker_bought_in", "contract_sent", "closed_won", "closed_lost")),
            ("amount", "Amount", "number"),
            ("closedate", "Close Date", "date"),
        ],
    },
    "ticket": {
        "label": "Ticket",
        "plural": "Tickets",
        "properties": [
            ("subject", "Subject", "string"),
            _OWN,
            ("status", "Status", "enumeration", _opts("new", "waiting_on_contact", "waiting_on_us", "closed")),
            ("priority", "Priority", "enumeration", _opts("low", "medium", "high", "urgent")),
        ],
    },
}
COMMON_PROPERTIES = [("createdate", "Create Date", "datetime"), ("updated_at", "Updated At", "datetime")]


@dataclass(frozen=True)
class Prop:
    """A property definition as the rest of the code sees it (immutable, no DB access)."""

    name: str
    label: str
    type: str
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False
    builtin: bool = False

    @property
    def option_names(self) -> list[str]:
        return [n for n, _ in self.options]

    def option_label(self, name: str) -> str:
        return dict(self.options).get(name, name)

    def match_option(self, text: str) -> str | None:
        """The option name a value refers to, by name or label, ignoring case and spaces."""
        key = str(text).strip().lower()
        for name, label in self.options:
            if key == name.lower() or key == label.strip().lower():
                return name
        return None


def _prop_from_row(row: PropertyDef) -> Prop:
    options = tuple((o["name"], o.get("label") or o["name"]) for o in (row.options or []))
    return Prop(row.name, row.label, row.type, options, bool(row.required), bool(row.builtin))


# ---------------------------------------------------------------------------- types


# (from type, name, label, to type, cardinality, inverse name, inverse label)
BUILTIN_ASSOCIATIONS = [
    ("contact", "company", "Company", "company", "many_to_one", "contacts", "Contacts"),
    ("deal", "contacts", "Contacts", "contact", "many_to_many", "deals", "Deals"),
    ("deal", "company", "Company", "company", "many_to_one", "deals", "Deals"),
    ("ticket", "contact", "Contact", "contact", "many_to_one", "tickets", "Tickets"),
]


def install_builtin_types() -> None:
    """The four built-in types and their associations (idempotent)."""
    for name, spec in BUILTIN_TYPES.items():
        if ObjectType.get_or_none(ObjectType.name == name) is None:
            _create_type(name, spec["label"], spec["plural"], spec["properties"], builtin=True)
            continue
        # A database made by an older release lacks the built-in properties added since
        # (e.g. contact.email_opt_out): add each one, definition and column together.
        have = set(get_props(name))
        for prop in spec["properties"]:
            if prop[0] not in have:
                add_property(name, prop[0], prop[1], prop[2], prop[3] if len(prop) > 3 else None,
                             prop[4] if len(prop) > 4 else False)
                PropertyDef.update(builtin=True).where(
                    PropertyDef.object_type == get_type(name), PropertyDef.name == prop[0]).execute()
                invalidate_cache()
    for from_name, name, label, to_name, cardinality, inverse, inverse_label in BUILTIN_ASSOCIATIONS:
        source = get_type(from_name)
        if AssociationDef.get_or_none(AssociationDef.from_type == source, AssociationDef.name == name) is None:
            AssociationDef.create(name=name, label=label, from_type=source, to_type=get_type(to_name),
                                  cardinality=cardinality, inverse=inverse, inverse_label=inverse_label, builtin=True)


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise RotaError(
            f'{kind} name "{name}" is not valid: use lowercase letters, digits and _ , starting with a letter'
        )


def _normalise_options(options) -> list[dict]:
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


def _create_type(name: str, label: str, plural: str, properties: list, builtin: bool) -> ObjectType:
    _check_name("object type", name)
    with db.atomic():
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
                "options": _normalise_options(options) if ptype == "enumeration" else None,
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
        _check_name("property", spec[0])
        if spec[0] in RESERVED:
            raise RotaError(f'property name "{spec[0]}" is reserved')
    return _create_type(name, label, plural or label + "s", props, builtin=False)


def add_property(type_name: str, name: str, label: str, type: str, options=None, required: bool = False) -> Prop:
    """Add a property to an object type: a definition row and a new column, together."""
    otype = get_type(type_name)
    _check_name("property", name)
    if name in RESERVED:
        raise RotaError(f'property name "{name}" is reserved')
    if type not in PROPERTY_TYPES:
        raise RotaError(f'type "{type}" is unknown: use one of {", ".join(PROPERTY_TYPES)}')
    if PropertyDef.get_or_none(PropertyDef.object_type == otype, PropertyDef.name == name):
        raise RotaError(f'{otype.name} already has a property "{name}"')
    if type == "enumeration" and not _normalise_options(options):
        raise RotaError(f'property "{name}": an enumeration needs at least one option')
    with db.atomic():
        pos = PropertyDef.select(pw.fn.MAX(PropertyDef.position)).where(PropertyDef.object_type == otype).scalar() or 0
        PropertyDef.create(
            object_type=otype, name=name, label=label, type=type,
            options=_normalise_options(options) if type == "enumeration" else None,
            required=required, builtin=False, position=pos + 1,
        )
        db.execute_sql(f'ALTER TABLE "{otype.table_name}" ADD COLUMN {_column_ddl(otype, name, type)}')
        invalidate_cache()
    return get_props(type_name)[name]


def _column_ddl(otype: ObjectType, name: str, ptype: str) -> str:
    """The column definition (``"name" TYPE``) a property of ``ptype`` gets."""
    field = _field_for(ptype)
    field.bind(record_model(otype), name)  # gives the field its column name
    field.column_name = name
    ctx = db.get_sql_context()
    return ctx.sql(field.ddl(ctx)).query()[0]


def _indexes_on(otype: ObjectType, column: str) -> list[str]:
    """Rota's own criteria indexes on the type's table that use ``column``."""
    table = otype.table_name
    # Catalog SQL outside the store: models.store reads records through this module, so
    # it cannot call the store's dialect without a ring (see the Layout in README.md).
    if is_postgres():
        rows = db.execute_sql("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                              "AND tablename = %s", (table,)).fetchall()
    else:
        rows = db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                              (table,)).fetchall()
    word = re.compile(rf"\b{re.escape(column)}\b")
    return [n for n, sql in rows if n.startswith("rota_crit_") and sql and word.search(sql.split("(", 1)[-1])]


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
        opts = _normalise_options(options)
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
    old = _prop_from_row(row)
    opts = _normalise_options(options) if new_type == "enumeration" else None
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
    with db.atomic():
        for index in _indexes_on(otype, name):
            db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN {_column_ddl(otype, tmp, new_type)}')
        field = _field_for(new_type)
        param = db.obj.param
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
    with db.atomic():
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


def type_spec(type_name) -> dict:
    """The type as the type file shape (``rota type export``): every property but the
    two Rota keeps itself (createdate, updated_at)."""
    otype = get_type(type_name)
    props = []
    for p in get_props(otype).values():
        if p.name in RESERVED:
            continue
        item: dict[str, Any] = {"name": p.name, "label": p.label, "type": p.type}
        if p.type == "enumeration":
            item["options"] = [{"name": n, "label": lab} for n, lab in p.options]
        item["required"] = p.required
        props.append(item)
    return {"name": otype.name, "label": otype.label, "plural": otype.plural, "properties": props}


_TYPES: dict[tuple[int, str], ObjectType] = {}


def get_type(name_or_type) -> ObjectType:
    if isinstance(name_or_type, ObjectType):
        return name_or_type
    key = (id(db.obj), str(name_or_type).strip().lower())
    otype = _TYPES.get(key)
    if otype is not None:
        return otype
    otype = ObjectType.get_or_none(ObjectType.name == key[1])
    if otype is not None:
        _TYPES[key] = otype
        return otype
    if otype is None:
        known = ", ".join(t.name for t in ObjectType.select().order_by(ObjectType.id))
        raise RotaError(f'object type "{name_or_type}" is unknown: use one of {known}')
    return otype


def list_types() -> list[ObjectType]:
    return list(ObjectType.select().order_by(ObjectType.id))


# ------------------------------------------------------------- dynamic record models

_CACHE: dict[tuple[int, str], tuple[type[pw.Model], dict[str, Prop]]] = {}


INVALIDATE_HOOKS: list = []  # other caches of type data (models.associations) register here


def invalidate_cache() -> None:
    _CACHE.clear()
    _TYPES.clear()
    for hook in INVALIDATE_HOOKS:
        hook()


def _field_for(ptype: str) -> pw.Field:
    return {
        "string": lambda: pw.TextField(null=True),
        "enumeration": lambda: pw.TextField(null=True),
        "number": lambda: pw.DoubleField(null=True),
        "bool": lambda: pw.BooleanField(null=True),
        "date": lambda: pw.DateField(null=True),
        "datetime": lambda: InstantField(null=True),
    }[ptype]()


def _load(otype: ObjectType) -> tuple[type[pw.Model], dict[str, Prop]]:
    key = (id(db.obj), otype.name)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    rows = list(PropertyDef.select().where(PropertyDef.object_type == otype).order_by(PropertyDef.position))
    props = {r.name: _prop_from_row(r) for r in rows}
    attrs: dict[str, Any] = {"id": pw.BigAutoField()}
    for r in rows:
        # No single-column indexes: on a 50%-selective column SQLite's planner would pick
        # one and look up half the table row by row (5 s at 1M rows, against a 0.7 s scan).
        # Criteria get composite covering indexes from the advisor (models/criteria.py).
        attrs[r.name] = InstantField() if r.name in RESERVED else _field_for(r.type)
    attrs["Meta"] = type("Meta", (), {"database": db, "table_name": otype.table_name})
    model = type(f"Record_{otype.name}", (pw.Model,), attrs)
    _CACHE[key] = (model, props)
    return model, props


def record_model(type_name_or_type) -> type[pw.Model]:
    """The Peewee model of an object type's record table."""
    return _load(get_type(type_name_or_type))[0]


def get_props(type_name_or_type) -> dict[str, Prop]:
    """Property definitions by internal name, in display order."""
    return _load(get_type(type_name_or_type))[1]


def find_prop(type_name_or_type, key: str) -> Prop | None:
    """A property by internal name or label, ignoring case and surrounding spaces."""
    props = get_props(type_name_or_type)
    k = str(key).strip().lower()
    if k in props:
        return props[k]
    for p in props.values():
        if p.label.strip().lower() == k or p.name.lower() == k:
            return p
    return None


# ------------------------------------------------------------------ value handling

_TRUE = {"true", "yes", "y", "1", "on", "t"}
_FALSE = {"false", "no", "n", "0", "off", "f"}
_NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$")


def coerce_value(prop: Prop, raw: Any, tz_name: str = "UTC") -> Any:
    """Turn an input value (CSV text or JSON) into what the column stores.

    Empty text means unknown (None). Raises ValueError with a message such as
    'expected a number, got "abc"'.
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    t = prop.type
    if t == "string":
        return str(raw)
    if t == "number":
        if isinstance(raw, bool):
            raise ValueError(f'expected a number, got "{raw}"')
        if isinstance(raw, (int, float)):
            number = float(raw)
        else:
            text = str(raw).replace(" ", "")
            if not _NUMBER_RE.match(text) or text in ("", "+", "-", "."):
                raise ValueError(f'expected a number, got "{raw}"')
            number = float(text.replace(",", ""))
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f'expected a finite number, got "{raw}"')
        return number
    if t == "bool":
        if isinstance(raw, bool):
            return raw
        key = str(raw).strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise ValueError(f'expected true or false, got "{raw}"')
    if t == "enumeration":
        name = prop.match_option(str(raw))
        if name is None:
            raise ValueError(f'expected one of {", ".join(prop.option_names)}, got "{raw}"')
        return name
    if t == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            pass
        try:
            return dtparser.parse(str(raw), dayfirst=False, yearfirst=True).date()
        except (ValueError, OverflowError):
            raise ValueError(f'expected a date such as 2026-03-31, got "{raw}"') from None
    if t == "datetime":
        if isinstance(raw, datetime):
            value = raw
        elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
            try:
                return datetime.fromtimestamp(raw, UTC)
            except (OverflowError, OSError, ValueError):
                raise ValueError(out_of_range(str(raw))) from None
        else:
            text = str(raw)
            try:
                value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
            except ValueError:
                try:
                    value = dtparser.parse(text, dayfirst=False, yearfirst=True)
                except (ValueError, OverflowError):
                    raise ValueError(f'expected a date and time such as 2026-03-31 14:00, got "{raw}"') from None
        try:
            if value.tzinfo is None:
                value = resolve_wall(value, zone(tz_name))
            return value.astimezone(UTC)
        except OverflowError:  # year 1 east of UTC, year 9999 west of it
            raise ValueError(out_of_range(str(raw))) from None
    raise ValueError(f"unknown property type {t}")


def to_json_value(prop: Prop, value: Any) -> Any:
    """A stored value as JSON (dates ISO, instants ISO UTC with Z)."""
    if value is None:
        return None
    if prop.type == "datetime":
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if prop.type == "date":
        return value.isoformat()
    if prop.type == "number" and float(value).is_integer():
        return int(value)
    return value


# ------------------------------------------------------------------------ records


def prepare_values(type_name: str, values: dict[str, Any], tz_name: str = "UTC") -> dict[str, Any]:
    """Validate and convert a dict of property name/label → raw value."""
    out: dict[str, Any] = {}
    for key, raw in values.items():
        prop = find_prop(type_name, key)
        if prop is None:
            raise RotaError(f'{type_name} has no property "{key}"')
        try:
            out[prop.name] = coerce_value(prop, raw, tz_name)
        except ValueError as exc:
            raise RotaError(f'property "{prop.name}": {exc}') from None
    return out


def create_record(type_name: str, values: dict[str, Any], now: datetime | None = None, tz_name: str = "UTC") -> int:
    model = record_model(type_name)
    data = prepare_values(type_name, values, tz_name)
    now = now or utcnow()
    data.setdefault("createdate", now)
    data["updated_at"] = data.get("updated_at") or now
    missing = [p.name for p in get_props(type_name).values() if p.required and data.get(p.name) is None]
    if missing:
        raise RotaError(f'{type_name} needs a value for {", ".join(missing)}')
    return model.insert(**data).execute()


def update_record(type_name: str, record_id: int, values: dict[str, Any], now: datetime | None = None,
                  tz_name: str = "UTC") -> None:
    model = record_model(type_name)
    data = prepare_values(type_name, values, tz_name)
    cleared = [p.name for p in get_props(type_name).values() if p.required and p.name in data and data[p.name] is None]
    if cleared:
        raise RotaError(f'{type_name} needs a value for {", ".join(cleared)}')
    data["updated_at"] = now or utcnow()
    if model.update(**data).where(model.id == record_id).execute() == 0:
        raise RotaError(f"{type_name} {record_id} does not exist")


def get_record(type_name: str, record_id: int) -> dict[str, Any] | None:
    """A record as {property name: stored value} plus ``id``; None when it does not exist."""
    model = record_model(type_name)
    row = model.select().where(model.id == record_id).dicts().first()
    return row
