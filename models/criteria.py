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

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import peewee as pw

from models.associations import Assoc, associations_of, count_linked, links_of, semi_join
from models.criteria_rules import (  # noqa: F401 - re-exported
    DATE_OPERATORS,
    NEGATIVE_OPERATORS,
    OPERATOR_LABELS,
    OPERATORS_BY_TYPE,
    describe_criteria,
    validate_criteria,
)
from models.db import fold
from models.errors import RotaError
from models.objects import Prop, get_props, get_record, get_type, record_model
from models.store import criteria_sql as sql
from models.timeutil import start_of_local_day, to_micros, zone

_DATE_OPS = DATE_OPERATORS

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
                lo_day, hi_day = _day_interval(op, value, today)
                lo, hi = _instant_bounds(lo_day, hi_day, zinfo) if prop.type == "datetime" else (lo_day, hi_day)
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


def matching_query(type_name: str, groups, *, now: datetime, tz: str, suppression=None, empty: bool = True):
    """SELECT id of the records meeting ``groups`` and not ``suppression``.

    Built for the engine's INSERT … SELECT: the set is chosen in the database.
    Empty criteria select every record (none with ``empty=False``); empty (or no)
    suppression suppresses none.
    """
    otype = get_type(type_name)
    model = record_model(otype)
    where = compile_criteria(groups, otype, now=now, tz=tz, empty=empty)
    if suppression:
        where = where & ~compile_criteria(suppression, otype, now=now, tz=tz, empty=False)
    return model.select(model.id).where(where)


def matching_sql(type_name: str, groups, *, now: datetime, tz: str, empty: bool = True) -> tuple[str, tuple]:
    """:func:`matching_query` as SQL text and parameters, for a statement that embeds it."""
    sql, params = matching_query(type_name, groups, now=now, tz=tz, empty=empty).sql()
    return sql, tuple(params)


def count_matching(type_name: str, groups, *, now: datetime, tz: str) -> int:
    """How many records meet the criteria now (one aggregate query)."""
    otype = get_type(type_name)
    plans = _plan(groups, otype, now, tz)
    if len(plans) == 1 and len(plans[0]) == 1 and (assoc := plans[0][0].assoc) is not None:
        # One association filter alone: counted in the link table's index, without a
        # lookup per matching record (1M contacts: ~4x faster, bench_associations.py).
        p = plans[0][0]
        other = record_model(assoc.other_type)
        return count_linked(assoc, other.select(other.id).where(_sql_filter(replace(p, assoc=None), other)))
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

    def associated(p: _Plan, assoc: Assoc) -> Callable[[dict], bool]:
        """Any associated record matches (read from the database, cached per evaluator)."""
        name, test = p.prop.name, _py_filter(replace(p, assoc=None))

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

    compiled = [[associated(p, p.assoc) if p.assoc else own(p) for p in group] for group in plans]

    def match(record: dict) -> bool:
        return any(all(test(record) for test in group) for group in compiled)

    return match


def matches(groups, record: dict, type_name: str, *, now: datetime, tz: str, empty: bool = True) -> bool:
    """Whether one record (as ``models.objects.get_record`` returns it) meets the
    criteria — the same answer the SQL compiler gives for it."""
    return evaluator(groups, type_name, now=now, tz=tz, empty=empty)(record)
