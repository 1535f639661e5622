"""Enrollment criteria: validation, one SQL compiler, one Python evaluator (SPEC §3).

Criteria are a list of filter groups; the groups are ORed, the filters inside a group
are ANDed. A filter is ``{"property": name or label, "operator": op, "value": …}``.

The SQL compiler and the Python evaluator must select exactly the same records (a
hypothesis test checks it on SQLite and PostgreSQL), so every decision that could
drift between them is taken once, here, before either runs:

* values are normalized at validation (property internal names, enumeration option
  names, text stripped, numbers as int/float, dates as ISO strings);
* text is compared folded (stripped and lowercased): ``models.db.fold`` in Python,
  the same function registered as ``rota_fold`` in SQLite, ``lower()`` on PostgreSQL
  (stored text is already stripped on write, and the comparison value is folded in
  Python before it reaches SQL). PostgreSQL's ``lower()`` agrees with Python for ASCII
  and Latin letters such as ÅÄÖÉÜ; exotic case mappings (Turkish İ, final sigma …)
  may differ — the property test keeps to the letters where both agree;
* day-relative and date operators become one interval of local calendar days, and
  for datetime properties that interval becomes one half-open interval of instants
  (see ``_day_interval`` and ``_instant_bounds``). SQL compares the stored integer
  microseconds against those instants (so an index on the column works) and Python
  compares the stored instant against the very same instants.

Unknown values: a NULL column is an unknown value (``coerce_value`` stores empty text
as NULL). Negative operators (``neq``, ``is_none_of``, ``not_contains``) match unknown
values; every other operator except ``unknown`` does not. In SQL a positive filter on
a NULL column yields NULL, which WHERE treats as not matching — exactly the rule —
without an ``IS NOT NULL`` guard per filter (guards cost ~50% more on an index scan).
NULL would turn ``NOT (…)`` wrong, so the compiled criteria are a node whose ``~``
renders ``NOT COALESCE((…), FALSE)``: ``~compile_criteria(…)`` is the exact complement
of the matching set (suppression and unenrollment rely on that). Negate the compiled
criteria themselves, not a larger expression built around them.

Day semantics (the workflow's time zone ``tz``; "today" is the local date of ``now``):

=====================  ============================================
operator               local calendar dates that match
=====================  ============================================
``on D``               D
``before D``           every date < D
``after D``            every date > D
``between [A, B]``     A ≤ date ≤ B (both ends included)
``in_last_days N``     today − N ≤ date ≤ today  (N = 0: today only)
``in_next_days N``     today ≤ date ≤ today + N
``more_than_days_ago`` date < today − N
=====================  ============================================

A date property compares its stored date with those dates directly. A datetime
property matches when its instant lies in ``[start(first date), start(last date + 1))``
where ``start(d)`` is the first instant the local clock in ``tz`` reads ``d`` 00:00 or
later (``timeutil.start_of_local_day``). That makes every instant belong to exactly one
local day even across DST changes: a 23- or 25-hour day is one day, and where a
fall-back crosses midnight the repeated hour belongs to the day that had already begun.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Callable

import peewee as pw

from models.db import fold
from models.errors import RotaError
from models.associations import Assoc, associations_of, find_association, links_of, semi_join
from models.objects import Prop, get_props, get_record, get_type, record_model
from models.store import criteria_sql as sql
from models.timeutil import start_of_local_day, to_micros, zone

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


# ------------------------------------------------------------------- day windows


def _day_interval(op: str, value, today: date) -> tuple[date | None, date | None]:
    """The inclusive range of local calendar dates a date operator accepts (None: open)."""
    if op == "on":
        d = date.fromisoformat(value)
        return d, d
    if op == "before":
        return None, date.fromisoformat(value) - timedelta(days=1)
    if op == "after":
        return date.fromisoformat(value) + timedelta(days=1), None
    if op == "between":
        return date.fromisoformat(value[0]), date.fromisoformat(value[1])
    if op == "in_last_days":
        return today - timedelta(days=value), today
    if op == "in_next_days":
        return today, today + timedelta(days=value)
    if op == "more_than_days_ago":
        return None, today - timedelta(days=value + 1)
    raise AssertionError(op)


def _instant_bounds(lo: date | None, hi: date | None, tz) -> tuple[int | None, int | None]:
    """[start(lo), start(hi + 1)) in microseconds: the instants of those local days."""
    return (
        to_micros(start_of_local_day(lo, tz)) if lo is not None else None,
        to_micros(start_of_local_day(hi + timedelta(days=1), tz)) if hi is not None else None,
    )


# ------------------------------------------------------------------ the plan
# Both the compiler and the evaluator start from a _Plan: one resolved filter whose
# values are final (folded text, option names, date bounds, instant bounds). The two
# back ends then only translate, never decide.


@dataclass(frozen=True)
class _Plan:
    prop: Prop
    op: str
    value: Any = None  # folded text / number / tuple of either / option name(s)
    lo: Any = None  # date or micros bound (inclusive)
    hi: Any = None  # date bound inclusive, micros bound exclusive
    assoc: Assoc | None = None  # the filter is on an associated record's property


_MEMBERSHIP = ("eq", "is_any_of")


def _plan(groups, otype, now: datetime, tz: str) -> list[list[_Plan]]:
    normal = validate_criteria(groups, otype)
    assocs = associations_of(otype) if any("association" in f for g in normal for f in g) else {}
    own = get_props(otype)

    def prop_of(f: dict) -> Prop:
        return get_props(assocs[f["association"]].other_type)[f["property"]] if "association" in f \
            else own[f["property"]]

    dated = lambda f: f["operator"] in _DATE_OPS and prop_of(f).type in ("date", "datetime")  # noqa: E731
    if any(dated(f) for g in normal for f in g):
        if now is None or now.tzinfo is None:
            raise ValueError("criteria with date operators need an aware 'now'")
        zinfo = zone(tz)
        today = now.astimezone(zinfo).date()
    plans = []
    for group in normal:
        row = []
        for f in group:
            prop, op, value = prop_of(f), f["operator"], f.get("value")
            assoc = assocs[f["association"]] if "association" in f else None
            if dated(f):
                lo, hi = _day_interval(op, value, today)
                if prop.type == "datetime":
                    lo, hi = _instant_bounds(lo, hi, zinfo)
                row.append(_Plan(prop, "range", lo=lo, hi=hi, assoc=assoc))
                continue
            if prop.type == "string" and value is not None:
                value = tuple(fold(v) for v in value) if isinstance(value, list) else fold(value)
            elif isinstance(value, list):
                value = tuple(value)
            if prop.type == "enumeration" and op in ("eq", "neq"):
                op, value = ("is_any_of" if op == "eq" else "is_none_of"), (value,)
            row.append(_Plan(prop, op, value, assoc=assoc))
        plans.append(row)
    return _fold_groups(plans)


def _fold_groups(plans: list[list[_Plan]]) -> list[list[_Plan]]:
    """Merge OR groups that differ only in one "is"/"is any of" filter on the same
    property into one group with one "is any of" over all their values.

    ``(email is a) or (email is b) or …`` becomes ``email is any of a, b, …``: the same
    records, one IN (one bound JSON list when long) instead of hundreds of ORs. Done on
    the plan, so the SQL and the Python evaluator still decide from the same thing.
    """
    def candidates(group):
        for i, p in enumerate(group):
            if p.op in _MEMBERSHIP and p.assoc is None:
                yield (p.prop.name, tuple(group[:i] + group[i + 1:])), p

    shared: dict[tuple, int] = {}
    for group in plans:
        for key, _ in candidates(group):
            shared[key] = shared.get(key, 0) + 1
    merged: dict[tuple, list] = {}
    out: list[list[_Plan] | tuple] = []
    for group in plans:
        best = max(candidates(group), key=lambda c: shared[c[0]], default=None)
        if best is None or shared[best[0]] < 2:
            out.append(group)
            continue
        key, p = best
        values = p.value if p.op == "is_any_of" else (p.value,)
        if key in merged:
            merged[key][1].extend(values)
            continue
        merged[key] = [p, list(values), key[1]]
        out.append(key)
    result = []
    for item in out:
        if isinstance(item, tuple):
            p, values, rest = merged[item]
            unique = tuple(dict.fromkeys(values))
            result.append([_Plan(p.prop, "is_any_of", unique), *rest])
        else:
            result.append(item)
    return result


# ---------------------------------------------------------------- SQL compiler

LONG_LIST = 50  # from this many values a list is bound as one JSON array parameter
MAX_GROUPS = 1000  # OR groups left after folding; more are refused at save (check_runnable)


def _column(model, prop: Prop):
    """The SQL a filter compares: text folded the same way Python folds it."""
    col = getattr(model, prop.name)
    return sql.fold_column(col) if prop.type == "string" else col


def _in_list(col, values, negate: bool = False):
    """``col IN (…)``: placeholders for a short list, one JSON array parameter for a
    long one (100,000 values are one parameter, not 100,000)."""
    values = list(values)
    source = values if len(values) < LONG_LIST else sql.json_values(values)
    return col.not_in(source) if negate else col.in_(source)


def _sql_filter(p: _Plan, model):
    if p.assoc is not None:
        # Any associated record matches: the own ids linked to a matching other record,
        # a semi-join through the link table's (association, to/from, from/to) index.
        other = record_model(p.assoc.other_type)
        matching = other.select(other.id).where(_sql_filter(replace(p, assoc=None), other))
        return model.id.in_(semi_join(p.assoc, matching))
    # Nullness is tested on the plain column: fold(NULL) is NULL and fold(text) is not,
    # so it means the same, and on SQLite it spares a call into Python per row.
    raw = getattr(model, p.prop.name)
    col = _column(model, p.prop)
    op, v = p.op, p.value
    if op == "unknown":
        return raw.is_null(True)
    if op == "known":
        return raw.is_null(False)
    if op in NEGATIVE_OPERATORS:
        if op == "neq":
            cond = col != v
        elif op == "is_none_of":
            cond = _in_list(col, v, negate=True)
        else:  # not_contains
            cond = sql.contains_position(col, v) == 0
        return pw.NodeList((raw.is_null(True), pw.SQL("OR"), cond), parens=True)
    if op == "eq":
        cond = col == v
    elif op == "is_any_of":
        cond = _in_list(col, v)
    elif op == "contains":
        cond = sql.contains_position(col, v) > 0
    elif op == "starts_with":
        cond = pw.fn.substr(col, 1, len(v)) == v
    elif op == "lt":
        cond = col < v
    elif op == "lte":
        cond = col <= v
    elif op == "gt":
        cond = col > v
    elif op == "gte":
        cond = col >= v
    elif op == "between":
        cond = col.between(v[0], v[1])
    elif op == "is_true":
        cond = col == True  # noqa: E712 — peewee builds SQL from the comparison
    elif op == "is_false":
        cond = col == False  # noqa: E712
    elif op == "range":
        parts = []
        if p.lo is not None:
            parts.append(col >= p.lo)
        if p.hi is not None:
            parts.append(col < p.hi if p.prop.type == "datetime" else col <= p.hi)
        cond = _joined(parts, "AND")
    else:
        raise AssertionError(op)
    return cond  # NULL on an unknown value: not matching (see _Criteria for negation)


def _joined(parts: list, glue: str):
    """``a AND b AND c`` flat, each part parenthesised: no nesting one level per term,
    which overflows SQLite's parser stack at ~100 groups and Python's recursion limit
    when peewee renders ~1,500 (both seen with nested binary ORs)."""
    if len(parts) == 1:
        return parts[0]
    items = []
    for i, part in enumerate(parts):
        if i:
            items.append(pw.SQL(glue))
        items.append(pw.NodeList((part,), parens=True))
    return pw.NodeList(items, parens=True)


class _Criteria(pw.ColumnBase):
    """Compiled criteria: renders as its expression; ``~`` is the exact complement.

    The expression is TRUE for a matching record and FALSE or NULL for any other (a
    positive filter on an unknown value is NULL). Plain ``NOT`` keeps NULL as NULL,
    which would drop those records from a complement, so negation coalesces first.
    """

    def __init__(self, expr):
        super().__init__()
        self.expr = expr

    def __sql__(self, ctx):
        return ctx.sql(self.expr)

    def __invert__(self):
        return pw.NodeList((pw.SQL("NOT"), pw.fn.COALESCE(self.expr, False)), parens=True)


_TRUE = pw.SQL("(1 = 1)")
_FALSE = pw.SQL("(1 = 0)")


def compile_criteria(groups, type_name: str, *, now: datetime, tz: str, empty: bool = True):
    """A peewee expression over ``record_model(type_name)`` that is TRUE exactly for the
    records meeting the criteria (FALSE or NULL for the others; ``~expr`` is the exact
    complement, see ``_Criteria``).

    ``empty`` is what no groups at all mean: True selects every record (enrollment
    criteria), False selects none (suppression, unenrollment). ``now`` (aware) and
    ``tz`` (IANA name) fix "today" for the day-relative operators.
    """
    otype = get_type(type_name)
    plans = _plan(groups, otype, now, tz)
    if not plans:
        return _Criteria(_TRUE if empty else _FALSE)
    model = record_model(otype)
    ors = [_joined([_sql_filter(p, model) for p in group], "AND") for group in plans]
    return _Criteria(_joined(ors, "OR"))


def matching_query(type_name: str, groups, *, now: datetime, tz: str, suppression=None):
    """SELECT id of the records meeting ``groups`` and not ``suppression``.

    Built for the engine's INSERT … SELECT: the set is chosen in the database.
    Empty criteria select every record; empty (or no) suppression suppresses none.
    """
    otype = get_type(type_name)
    model = record_model(otype)
    where = compile_criteria(groups, otype, now=now, tz=tz, empty=True)
    if suppression:
        where = where & ~compile_criteria(suppression, otype, now=now, tz=tz, empty=False)
    return model.select(model.id).where(where)


def count_matching(type_name: str, groups, *, now: datetime, tz: str) -> int:
    """How many records meet the criteria now (one aggregate query)."""
    otype = get_type(type_name)
    model = record_model(otype)
    where = compile_criteria(groups, otype, now=now, tz=tz, empty=True)
    return int(model.select(pw.fn.COUNT(pw.SQL("*"))).where(where).scalar() or 0)


def check_runnable(type_name: str, sets: dict[str, Any], *, now: datetime, tz: str = "UTC") -> None:
    """Refuse criteria the database cannot run, before they are saved.

    ``sets`` maps a name ("criteria", "suppression", …) to its filter groups. Each is
    compiled and the database asked to plan it (EXPLAIN, nothing runs); a refusal
    becomes a RotaError that says what to change. Groups left after folding are also
    limited to MAX_GROUPS, a limit stated in the message.
    """
    otype = get_type(type_name)
    model = record_model(otype)
    for where, groups in sets.items():
        if not groups:
            continue
        plans = _plan(groups, otype, now, tz)
        if len(plans) > MAX_GROUPS:
            raise RotaError(f"{where}: {len(plans):,} filter groups; at most {MAX_GROUPS:,} are allowed. Put the "
                            'alternatives for one property into one "is any of" filter, or split the workflow')
        query = model.select(pw.fn.COUNT(pw.SQL("*"))).where(compile_criteria(groups, otype, now=now, tz=tz))
        try:
            sql.explain(query)
        except (pw.DatabaseError, RecursionError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RotaError(f"{where}: the database cannot run these criteria ({reason}); use fewer filter groups "
                            'or filters, e.g. one "is any of" filter instead of many "is" groups') from None


# -------------------------------------------------------------- Python evaluator


def _py_filter(p: _Plan) -> Callable[[Any], bool]:
    """A predicate on one stored value, mirroring ``_sql_filter`` operator by operator."""
    op, v, text = p.op, p.value, p.prop.type == "string"
    key = (lambda x: fold(x)) if text else (lambda x: x)
    if op == "unknown":
        return lambda x: x is None
    if op == "known":
        return lambda x: x is not None
    if op == "neq":
        return lambda x: x is None or key(x) != v
    if op in ("is_any_of", "is_none_of"):
        v = frozenset(v)  # 100,000 values: one hash lookup per record, not a scan
    if op == "is_none_of":
        return lambda x: x is None or key(x) not in v
    if op == "not_contains":
        return lambda x: x is None or v not in key(x)
    if op == "eq":
        test = lambda x: key(x) == v  # noqa: E731
    elif op == "is_any_of":
        test = lambda x: key(x) in v  # noqa: E731
    elif op == "contains":
        test = lambda x: v in key(x)  # noqa: E731
    elif op == "starts_with":
        test = lambda x: key(x).startswith(v)  # noqa: E731
    elif op == "lt":
        test = lambda x: x < v  # noqa: E731
    elif op == "lte":
        test = lambda x: x <= v  # noqa: E731
    elif op == "gt":
        test = lambda x: x > v  # noqa: E731
    elif op == "gte":
        test = lambda x: x >= v  # noqa: E731
    elif op == "between":
        test = lambda x: v[0] <= x <= v[1]  # noqa: E731
    elif op == "is_true":
        test = lambda x: bool(x) is True  # noqa: E731
    elif op == "is_false":
        test = lambda x: bool(x) is False  # noqa: E731
    elif op == "range":
        lo, hi = p.lo, p.hi
        if p.prop.type == "datetime":
            def test(x):
                m = x if isinstance(x, int) else to_micros(x)
                return (lo is None or m >= lo) and (hi is None or m < hi)
        else:
            def test(x):
                d = x if isinstance(x, date) and not isinstance(x, datetime) else _as_date(x)
                return (lo is None or d >= lo) and (hi is None or d <= hi)
    else:
        raise AssertionError(op)
    return lambda x: x is not None and test(x)


def _as_date(x) -> date:
    if isinstance(x, datetime):
        return x.date()
    return date.fromisoformat(str(x))


def evaluator(groups, type_name: str, *, now: datetime, tz: str, empty: bool = True) -> Callable[[dict], bool]:
    """A reusable ``record -> bool`` for many records against the same criteria.

    Validation, folding and day boundaries are worked out once, here.
    """
    plans = _plan(groups, get_type(type_name), now, tz)
    if not plans:
        return lambda record: empty
    links: dict[tuple[int, int], list[int]] = {}
    others: dict[tuple[str, int], dict] = {}

    def own(p: _Plan) -> Callable[[dict], bool]:
        name, test = p.prop.name, _py_filter(p)
        return lambda record: test(record.get(name))

    def associated(p: _Plan) -> Callable[[dict], bool]:
        """Any associated record matches (read from the database, cached per evaluator)."""
        assoc, name, test = p.assoc, p.prop.name, _py_filter(replace(p, assoc=None))

        def check(record: dict) -> bool:
            key = (assoc.id if assoc.forward else -assoc.id, record["id"])
            if key not in links:
                links[key] = links_of(assoc, [record["id"]])[record["id"]]
            for oid in links[key]:
                if (assoc.other_type, oid) not in others:
                    others[(assoc.other_type, oid)] = get_record(assoc.other_type, oid) or {}
                if test(others[(assoc.other_type, oid)].get(name)):
                    return True
            return False

        return check

    compiled = [[associated(p) if p.assoc else own(p) for p in group] for group in plans]

    def match(record: dict) -> bool:
        return any(all(test(record) for test in group) for group in compiled)

    return match


def matches(groups, record: dict, type_name: str, *, now: datetime, tz: str, empty: bool = True) -> bool:
    """Whether one record (as ``models.objects.get_record`` returns it) meets the
    criteria — the same answer the SQL compiler gives for it."""
    return evaluator(groups, type_name, now=now, tz=tz, empty=empty)(record)


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
    op, v = f["operator"], f.get("value")

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
