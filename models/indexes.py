"""The index advisor: which composite covering indexes a set of criteria needs, the DDL
that creates them and the catalog reads that find the ones no workflow needs any more.

Moved out of ``models/criteria.py`` (which compiles and evaluates criteria); the
dialect-specific SQL is in ``models/store/criteria_sql.py``.
"""
from __future__ import annotations

import hashlib

from models.associations import associations_of
from models.criteria import DATE_OPERATORS, validate_criteria
from models.db import db
from models.objects import Prop, get_props, get_type
from models.store.criteria_sql import fold_index_expression
from models.store.dialect import dialect

MAX_INDEX_COLUMNS = 6  # an advisor index wider than this costs more on writes than it saves


def existing_indexes(type_name) -> list[str]:
    """The advisor's indexes on the type's table (names start ``rota_crit_<table>_``)."""
    otype = get_type(type_name)
    prefix = f"rota_crit_{otype.table_name}_"
    return sorted(n for n, _ in dialect().indexes(otype.table_name) if n.startswith(prefix))


_EQUALITY = frozenset({"eq", "is_any_of", "is_true", "is_false", "unknown"})
_RANGE = frozenset({"lt", "lte", "gt", "gte", "between", "known"}) | DATE_OPERATORS


def _index_columns(group: list[dict], props: dict[str, Prop]) -> list[tuple[str, str, bool]]:
    """(kind, property, folded) in index order: equality columns, then range, then the rest.

    Equality-like columns go first because a B-tree can seek on any number of them
    and then on one range; the remaining columns only make the index covering, so the
    count is answered from the index without touching the table.
    """
    buckets: dict[str, list[str]] = {"eq": [], "range": [], "other": []}
    seen: set[str] = set()
    ranked = sorted(group, key=lambda f: 0 if _is_equality(f, props) else 1 if f["operator"] in _RANGE else 2)
    for f in ranked:
        name = f["property"]
        if name in seen:
            continue
        seen.add(name)
        kind = "eq" if _is_equality(f, props) else "range" if f["operator"] in _RANGE else "other"
        buckets[kind].append(name)
    # Text compared by value is indexed folded, as the compiler compares it; text only
    # tested for known/unknown is indexed plain, as the compiler tests it.
    folded = {f["property"] for f in group
              if props[f["property"]].type == "string" and f["operator"] not in ("known", "unknown")}
    return [(k, n, n in folded) for k in ("eq", "range", "other") for n in buckets[k]]


def _is_equality(f: dict, props: dict[str, Prop]) -> bool:
    if f["operator"] in _EQUALITY:
        return True
    # "on" a date property is one date: an equality; on a datetime it is a range.
    return f["operator"] == "on" and props[f["property"]].type == "date"


def _index_expression(prop: Prop, folded: bool) -> str:
    """Index text columns on the folded expression the compiler emits, so it is usable."""
    quoted = f'"{prop.name}"'
    return fold_index_expression(quoted) if folded else quoted


def criteria_index_plan(type_name: str, groups) -> list[tuple[str, str]]:
    """The advisor's indexes for these criteria as (name, CREATE INDEX statement),
    without creating anything (for ``ensure_criteria_indexes``, previews and tools).

    Per group: its equality-like columns, then its range columns, then the rest, at
    most MAX_INDEX_COLUMNS properties. A text property compared by value is indexed on
    its folded expression (what the compiled SQL compares, so the index is usable) and
    its plain column follows at the end of the index: the compiled SQL tests nullness
    on the plain column, and with it in the index the count needs no table row.
    """
    otype = get_type(type_name)
    normal = validate_criteria(groups, otype)
    props = get_props(otype)
    table = otype.table_name
    out: list[tuple[str, str]] = []
    for group in normal:
        for f in group:  # an associated record's property: indexed on the other table
            if "association" in f:
                out += [plan for plan in _association_plan(otype, f) if plan[0] not in (n for n, _ in out)]
        group = [f for f in group if "association" not in f]
        cols = _index_columns(group, props)[:MAX_INDEX_COLUMNS]
        if not cols or cols[0][0] == "other":
            continue
        exprs = [_index_expression(props[n], folded) for _, n, folded in cols]
        exprs += [f'"{n}"' for _, n, folded in cols if folded]
        digest = hashlib.sha1(f"{table}|{','.join(exprs)}".encode()).hexdigest()[:12]
        name = f"rota_crit_{table}_{digest}"[:63]
        if name not in (n for n, _ in out):
            out.append((name, f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({", ".join(exprs)})'))
    return out


def ensure_criteria_indexes(type_name: str, groups) -> list[str]:
    """Create (if missing) one composite covering index per filter group; return names.

    Call it when a workflow is saved. A full scan of a million rows costs ~250–300 ms
    on SQLite whatever the filters; a single-column index on a half-selective column
    is worse (a row lookup per match); a composite index whose leading columns are the
    group's equality filters and whose next column is its range filter answers the
    count from the index alone. Names derive from a hash of table and columns, so the
    same group always maps to the same index and saving twice creates nothing new.

    Groups without any seekable filter (only negative or contains filters) get no
    index: it would only be scanned whole. Indexes no workflow uses any more are not
    dropped here (that needs every workflow's criteria; the names all start with
    ``rota_crit_<table>_``). On SQLite a text index calls ``rota_fold``, which every
    connection Rota opens registers; a bare ``sqlite3`` shell cannot write to such a
    table.
    """
    plan = criteria_index_plan(type_name, groups)
    for _, statement in plan:
        db.execute_sql(statement)
    return [name for name, _ in plan]


def prune_criteria_indexes(type_name: str, criteria_sets) -> list[str]:
    """Drop the advisor's indexes on this type's table that none of ``criteria_sets``
    (every saved criteria, suppression, unenrollment and branch set of the type) would
    create; return the names dropped. Each index slows every write to the table, so one
    left behind by an edited workflow is pure cost.
    """
    otype = get_type(type_name)
    keep = {name for groups in criteria_sets for name, _ in criteria_index_plan(otype, groups or [])}
    stale = sorted(name for name in existing_indexes(otype) if name not in keep)
    for name in stale:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    return stale


def _association_plan(otype, f: dict) -> list[tuple[str, str]]:
    """The index on the associated type's table that the filter's inner condition seeks
    (named ``rota_assoc_…``: ``prune_criteria_indexes`` of that type leaves it alone, as
    another type's workflows need it). The link table's own indexes do the join."""
    assoc = associations_of(otype)[f["association"]]
    inner = {k: v for k, v in f.items() if k != "association"}
    return [(name.replace("rota_crit_", "rota_assoc_", 1), sql.replace("rota_crit_", "rota_assoc_", 1))
            for name, sql in criteria_index_plan(assoc.other_type, [[inner]])]
