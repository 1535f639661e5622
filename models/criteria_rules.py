"""The criteria language (SPEC §3): operators per property type, their words,
validation to the one normal form, and criteria described in plain words.

``models/criteria.py`` compiles the normal form to SQL and to a Python evaluator; both
start from what ``validate_criteria`` returns here, so neither back end re-decides
what a filter means. A filter may name an ``association`` (issue 13 §2): its property
is then the associated type's.
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from models.associations import associations_of, find_association
from models.db import fold
from models.errors import RotaError
from models.objects import Prop, get_props, get_type

# --------------------------------------------------------------------- vocabulary

OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "string": ("eq", "neq", "is_any_of", "is_none_of", "contains", "not_contains", "starts_with",
               "known", "unknown"),
    "number": ("eq", "neq", "lt", "lte", "gt", "gte", "between", "known", "unknown"),
    "bool": ("is_true", "is_false", "known", "unknown"),
    "enumeration": ("is_any_of", "is_none_of", "known", "unknown"),
    "date": ("on", "before", "after", "between", "in_last_days", "in_next_days", "more_than_days_ago",
             "known", "unknown"),
    "datetime": ("on", "before", "after", "between", "in_last_days", "in_next_days", "more_than_days_ago",
                 "known", "unknown"),
}
"""What the UI's operator picker offers, per property type, in display order."""

# Accepted besides the picker's list: single-value forms people write by hand in JSON.
_EXTRA_OPERATORS: dict[str, tuple[str, ...]] = {"enumeration": ("eq", "neq")}

OPERATOR_LABELS: dict[str, str] = {
    "eq": "is",
    "neq": "is not",
    "is_any_of": "is any of",
    "is_none_of": "is none of",
    "contains": "contains",
    "not_contains": "doesn't contain",
    "starts_with": "starts with",
    "known": "is known",
    "unknown": "is unknown",
    "lt": "is less than",
    "lte": "is at most",
    "gt": "is greater than",
    "gte": "is at least",
    "between": "is between",
    "is_true": "is true",
    "is_false": "is false",
    "on": "is on",
    "before": "is before",
    "after": "is after",
    "in_last_days": "is in the last N days",
    "in_next_days": "is in the next N days",
    "more_than_days_ago": "is more than N days ago",
}
"""Plain words for each operator (the picker shows these)."""

NEGATIVE_OPERATORS = frozenset({"neq", "is_none_of", "not_contains"})
"""Operators that also match an unknown value (SPEC §3)."""

_NO_VALUE = frozenset({"known", "unknown", "is_true", "is_false"})
_LIST_VALUE = frozenset({"is_any_of", "is_none_of"})
_PAIR_VALUE = frozenset({"between"})
_DAYS_VALUE = frozenset({"in_last_days", "in_next_days", "more_than_days_ago"})
_DATE_OPS = frozenset({"on", "before", "after", "between"}) | _DAYS_VALUE
DATE_OPERATORS = _DATE_OPS  # for the index advisor (models/indexes.py)

MAX_DAYS = 100_000  # ~270 years: keeps today ± N inside the calendar
_MIN_DATE = date(1000, 1, 1)
_MAX_DATE = date(9998, 12, 31)

_TYPE_NOUN = {
    "string": "a string", "number": "a number", "bool": "a bool", "enumeration": "an enumeration",
    "date": "a date", "datetime": "a datetime",
}


def _or_list(items) -> str:
    """'a, b, c or d' — how an error lists the choices."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


# --------------------------------------------------------------------- validation


def validate_criteria(groups, type_name: str, *, where: str = "criteria") -> list[list[dict]]:
    """Check criteria against the object type's properties and return the normal form.

    The normal form uses internal property names, enumeration option names, stripped
    text, numbers as int (when whole) or float, dates as ISO strings and day counts as
    int; "value" is absent for operators that take none. Normalizing twice gives the
    same result, so a workflow exported after import reads exactly as saved.

    Raises RotaError naming the group, filter, property and what is wrong, e.g.
    'criteria group 2, filter 1 (lifecycle_stage): operator "lt" does not apply to an
    enumeration; use is_any_of, is_none_of, known or unknown'. ``where`` names the
    criteria set in messages ("suppression", "unenrollment", "branch 2 criteria" …).
    """
    if groups is None:
        return []
    if not isinstance(groups, (list, tuple)):
        raise RotaError(f"{where} must be a list of filter groups (each a list of filters)")
    otype = get_type(type_name)  # one lookup; everything below reuses it
    props = get_props(otype)
    out: list[list[dict]] = []
    for gi, group in enumerate(groups, 1):
        if not isinstance(group, (list, tuple)):
            raise RotaError(f"{where} group {gi} must be a list of filters")
        if not group:
            raise RotaError(f"{where} group {gi} has no filters: add a filter or remove the group")
        out.append([_validate_filter(f, otype.name, props, f"{where} group {gi}, filter {fi}")
                    for fi, f in enumerate(group, 1)])
    return out


def _validate_filter(raw, type_name: str, props: dict[str, Prop], at: str) -> dict:
    if not isinstance(raw, dict):
        raise RotaError(f'{at}: a filter is an object with "property", "operator" and "value"')
    extra = sorted(set(raw) - {"association", "property", "operator", "value"})
    if extra:
        raise RotaError(f'{at}: unexpected key "{extra[0]}"; a filter has "property", "operator" and "value" '
                        '(and "association" for an associated record\'s property)')
    norm: dict[str, Any] = {}
    if "association" in raw:
        name = raw["association"]
        assoc = find_association(type_name, name) if isinstance(name, str) and name.strip() else None
        if assoc is None:
            known = list(associations_of(type_name)) or ["(none)"]
            raise RotaError(f'{at}: {type_name} has no association "{name}"; use {_or_list(known)}')
        norm["association"] = assoc.name
        type_name, props = assoc.other_type, get_props(assoc.other_type)
    key = raw.get("property")
    if not isinstance(key, str) or not key.strip():
        raise RotaError(f'{at}: "property" is missing; name one of the {type_name} properties')
    prop = _find_prop(props, key)
    if prop is None:
        raise RotaError(f'{at}: {type_name} has no property "{key}"; use one of {_or_list(list(props))}')
    at = f"{at} ({norm['association'] + ' · ' if norm else ''}{prop.name})"
    op = raw.get("operator")
    allowed = OPERATORS_BY_TYPE[prop.type]
    if not isinstance(op, str) or not op.strip():
        raise RotaError(f'{at}: "operator" is missing; use {_or_list(allowed)}')
    op = op.strip().lower()
    if op not in allowed and op not in _EXTRA_OPERATORS.get(prop.type, ()):
        if op in OPERATOR_LABELS:
            raise RotaError(f'{at}: operator "{op}" does not apply to {_TYPE_NOUN[prop.type]}; use {_or_list(allowed)}')
        raise RotaError(f'{at}: operator "{op}" is unknown; use {_or_list(allowed)}')
    value = raw.get("value")
    norm.update(property=prop.name, operator=op)
    if op in _NO_VALUE:
        if value not in (None, "", []):
            raise RotaError(f"{at}: {op} takes no value")
        return norm
    if op in _DAYS_VALUE:
        norm["value"] = _days(value, at, op)
    elif op in _LIST_VALUE:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)) or not value:
            raise RotaError(f"{at}: {op} needs a non-empty list of values")
        seen, items = set(), []
        for item in value:
            v = _scalar(prop, item, at, op)
            k = fold(v) if prop.type == "string" else v
            if k not in seen:
                seen.add(k)
                items.append(v)
        norm["value"] = items
    elif op in _PAIR_VALUE:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise RotaError(f"{at}: between needs two values [low, high]")
        lo, hi = (_scalar(prop, v, at, op) for v in value)
        if _sort_key(prop, lo) > _sort_key(prop, hi):
            raise RotaError(f"{at}: between needs the low value first, got [{lo}, {hi}]")
        norm["value"] = [lo, hi]
    else:
        norm["value"] = _scalar(prop, value, at, op)
    return norm


def _find_prop(props: dict[str, Prop], key: str) -> Prop | None:
    """``objects.find_prop`` over properties already loaded (one query per validation,
    not one per filter)."""
    k = key.strip().lower()
    if k in props:
        return props[k]
    return next((p for p in props.values() if p.label.strip().lower() == k or p.name.lower() == k), None)


def _sort_key(prop: Prop, v):
    return date.fromisoformat(v) if prop.type in ("date", "datetime") else v


def _days(value, at: str, op: str) -> int:
    """A day count: a whole number from 0 to MAX_DAYS (JSON may carry it as 30.0 or "30")."""
    n = None
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
    if n is None or not 0 <= n <= MAX_DAYS:
        raise RotaError(f"{at}: {op} needs a whole number of days from 0 to {MAX_DAYS}, got {value!r}")
    return n


def _scalar(prop: Prop, value, at: str, op: str):
    """One comparison value in normal form for the property's type."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RotaError(f"{at}: {op} needs a value")
    t = prop.type
    if t == "string":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise RotaError(f"{at}: expected text, got {value!r}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()
    if t == "number":
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            try:
                number = float(value.strip().replace(",", ""))
            except ValueError:
                number = None
        if number is None or math.isnan(number) or math.isinf(number):
            raise RotaError(f"{at}: expected a number, got {value!r}")
        if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
            return int(number)
        return number
    if t == "enumeration":
        name = prop.match_option(str(value)) if isinstance(value, str) else None
        if name is None:
            raise RotaError(f"{at}: {value!r} is not an option; use {_or_list(prop.option_names)}")
        return name
    if t in ("date", "datetime"):
        day = None
        if isinstance(value, datetime):
            day = None
        elif isinstance(value, date):
            day = value
        elif isinstance(value, str):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                day = None
        if day is None:
            raise RotaError(f"{at}: expected a date such as 2026-03-31, got {value!r}")
        if not _MIN_DATE <= day <= _MAX_DATE:
            raise RotaError(f"{at}: the date {day.isoformat()} is outside {_MIN_DATE} to {_MAX_DATE}")
        return day.isoformat()
    raise RotaError(f"{at}: {op} does not apply to {_TYPE_NOUN.get(t, t)}")


# ------------------------------------------------------------------- plain words


def describe_criteria(groups, type_name: str, *, empty: bool = True) -> str:
    """The criteria in plain words, e.g. "(Lifecycle Stage is any of Customer, Lead and
    Create Date is more than 30 days ago) or (Email is unknown)"."""
    otype = get_type(type_name)
    normal = validate_criteria(groups, otype)
    if not normal:
        return f"every {otype.label.lower()}" if empty else f"no {otype.label.lower()}"
    props = get_props(otype)
    assocs = associations_of(otype)

    def one(f: dict) -> str:
        if "association" not in f:
            return _describe_filter(f, props[f["property"]])
        assoc = assocs[f["association"]]
        prop = get_props(assoc.other_type)[f["property"]]
        prefix = f"any associated {assoc.label}" if assoc.many else assoc.label
        return _describe_filter(f, replace(prop, label=f"{prefix} · {prop.label}"))

    parts = [" and ".join(one(f) for f in group) for group in normal]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({p})" for p in parts)


def _describe_filter(f: dict, prop: Prop) -> str:
    op = f["operator"]
    v: Any = f.get("value")  # validated (validate_criteria): its shape follows the operator

    def word(x):
        if prop.type == "enumeration":
            return prop.option_label(x)
        if prop.type == "string":
            return f'"{x}"'
        return str(x)

    if op in _NO_VALUE:
        return f"{prop.label} {OPERATOR_LABELS[op]}"
    if op in _DAYS_VALUE:
        days = "1 day" if v == 1 else f"{v} days"
        phrase = {"in_last_days": f"is in the last {days}", "in_next_days": f"is in the next {days}",
                  "more_than_days_ago": f"is more than {days} ago"}[op]
        return f"{prop.label} {phrase}"
    if op == "between":
        return f"{prop.label} is between {word(v[0])} and {word(v[1])}"
    if op in _LIST_VALUE:
        return f"{prop.label} {OPERATOR_LABELS[op]} {', '.join(word(x) for x in v)}"
    return f"{prop.label} {OPERATOR_LABELS[op]} {word(v)}"
