"""SQL for simulation (engine/simulate.py): how many of a type's records would enroll
and be suppressed at given instants. Reads only.

Conditions come compiled by ``models.criteria.compile_criteria`` (the caller compiles
them as of each instant, as ``save_matching_as_list`` and the run writes take them), so
the store does not import the criteria module, which imports the store.

- :func:`counts_at`: one scan for a batch of instants, two ``SUM(CASE …)`` columns each;
- :func:`group_rows`: one ``GROUP BY`` scan that the engine then judges date by date
  (what the groups are, and why that is exact: ``engine.simulate._grouped_counts``).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import peewee as pw

from models.objects import record_model
from models.timeutil import resolve_wall, to_micros, transitions, zone


def counts_at(type_name: str, conditions: list[tuple[Any, Any | None]]) -> list[tuple[int, int]]:
    """``(would enroll, suppressed)`` for each ``(criteria, suppression or None)`` pair of
    compiled conditions (one pair per instant), in one scan of the records."""
    columns = []
    for where, supp in conditions:
        if supp is not None:
            enroll, suppressed = where & ~supp, where & supp
        else:
            enroll, suppressed = where, pw.SQL("(1 = 0)")
        columns += [pw.fn.SUM(pw.Case(None, [(enroll, 1)], 0)), pw.fn.SUM(pw.Case(None, [(suppressed, 1)], 0))]
    row: Any = record_model(type_name).select(*columns).tuples().get()
    return [(int(row[2 * i] or 0), int(row[2 * i + 1] or 0)) for i in range(len(conditions))]


def group_rows(type_name: str, static: list[Any], relative: dict[str, str], tz: str,
               low_day: date, high_day: date, limit: int) -> list[tuple]:
    """The records grouped, at most ``limit`` groups: each row is the truth (1 or 0) of
    each compiled condition in ``static``, then for each property in ``relative`` (name
    → its type) the record's local day — a date's own value, a datetime's noon of its
    local day in ``tz`` (clamped just outside [low_day, high_day]) — then the group's
    size."""
    model = record_model(type_name)
    zinfo = zone(tz)
    columns = [pw.Case(None, [(expr, 1)], 0) for expr in static]
    for name, kind in relative.items():
        col = getattr(model, name)
        columns.append(col if kind == "date" else _local_noon(col, zinfo, low_day, high_day))
    positions = [pw.SQL(str(i + 1)) for i in range(len(columns))]
    query = model.select(*columns, pw.fn.COUNT(pw.SQL("*")))
    if positions:
        query = query.group_by(*positions)
    return list(query.tuples().limit(limit))


def _local_noon(col: Any, zinfo: ZoneInfo, low_day: date, high_day: date) -> Any:
    """SQL: the instant (micros) of noon on ``col``'s local day in ``zinfo``, with values
    before ``low_day`` / after ``high_day`` clamped just outside that window.

    The offset is picked by the UTC-offset periods in the window, so the local day is
    exact across DST changes; noon keeps the result inside that day whatever the shift.
    """
    start = resolve_wall(datetime.combine(low_day, time(0)), zinfo)
    end = resolve_wall(datetime.combine(high_day, time(0)), zinfo)
    lo, hi = to_micros(start), to_micros(end)
    periods = [(moment, after) for moment, _, after in transitions(zinfo, start, end)]
    offset0 = start.astimezone(zinfo).utcoffset() or timedelta(0)
    day, noon = 86_400_000_000, 43_200_000_000

    def noon_of(offset: timedelta) -> Any:
        off = int(offset.total_seconds()) * 1_000_000
        return ((col + off) / day) * day - off + noon

    whens: list[tuple[Any, Any]] = [(col.is_null(), None), (col < lo, lo - 1), (col >= hi, hi)]
    offset = offset0
    for moment, after in periods:
        whens.append((col < to_micros(moment), noon_of(offset)))
        offset = after or timedelta(0)
    return pw.Case(None, whens, noon_of(offset))
