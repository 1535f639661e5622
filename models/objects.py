"""Object types as the code sees them: the type registry, property definitions, the
per-type record models, property values (input coercion, JSON output) and one-record
reads and writes.

Each object type has its own table (``rec_contact``, ``rec_company``, …) with one real,
typed column per property. Criteria then compile to plain column comparisons that
SQLite and PostgreSQL can index and scan fast, instead of JSON extraction per row.

Creating and changing types and properties (definition rows and DDL together) is
``models.store.object_types``; the built-in types are ``models.builtin_types``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import peewee as pw
from dateutil import parser as dtparser

from models.db import db
from models.errors import RotaError
from models.fields import InstantField
from models.schema import ObjectType, PropertyDef
from models.timeutil import UTC, out_of_range, resolve_wall, utcnow, zone

PROPERTY_TYPES = ("string", "number", "bool", "date", "datetime", "enumeration")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = {"id", "createdate", "updated_at"}


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


def prop_from_row(row: PropertyDef) -> Prop:
    options = tuple((o["name"], o.get("label") or o["name"]) for o in (row.options or []))
    return Prop(row.name, row.label, row.type, options, bool(row.required), bool(row.builtin))


# ---------------------------------------------------------------------------- types

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


def field_for(ptype: str) -> pw.Field:
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
    props = {r.name: prop_from_row(r) for r in rows}
    attrs: dict[str, Any] = {"id": pw.BigAutoField()}
    for r in rows:
        # No single-column indexes: on a 50%-selective column SQLite's planner would pick
        # one and look up half the table row by row (5 s at 1M rows, against a 0.7 s scan).
        # Criteria get composite covering indexes from the advisor (models/criteria.py).
        attrs[r.name] = InstantField() if r.name in RESERVED else field_for(r.type)
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
            raise RotaError(f'property "{prop.name}": {exc}', field=prop.name) from None
    return out


def create_record(type_name: str, values: dict[str, Any], now: datetime | None = None, tz_name: str = "UTC") -> int:
    model = record_model(type_name)
    data = prepare_values(type_name, values, tz_name)
    now = now or utcnow()
    data.setdefault("createdate", now)
    data["updated_at"] = data.get("updated_at") or now
    missing = [p.name for p in get_props(type_name).values() if p.required and data.get(p.name) is None]
    if missing:
        raise RotaError(f'{type_name} needs a value for {", ".join(missing)}', field=",".join(missing))
    return model.insert(**data).execute()


def update_record(type_name: str, record_id: int, values: dict[str, Any], now: datetime | None = None,
                  tz_name: str = "UTC") -> None:
    model = record_model(type_name)
    data = prepare_values(type_name, values, tz_name)
    cleared = [p.name for p in get_props(type_name).values() if p.required and p.name in data and data[p.name] is None]
    if cleared:
        raise RotaError(f'{type_name} needs a value for {", ".join(cleared)}', field=",".join(cleared))
    data["updated_at"] = now or utcnow()
    if model.update(**data).where(model.id == record_id).execute() == 0:
        raise RotaError(f"{type_name} {record_id} does not exist")


def get_record(type_name: str, record_id: int) -> dict[str, Any] | None:
    """A record as {property name: stored value} plus ``id``; None when it does not exist."""
    model = record_model(type_name)
    row = model.select().where(model.id == record_id).dicts().first()
    return row
