"""SQL for reading grouped step history (``history_group`` / ``history_value``).

A group row stands for the enrollments ``first``..``last`` of its run; these reads
expand it page by page, through the enrollment primary key, never by a scan.
"""
from __future__ import annotations

from typing import Any

from models.db import db, is_postgres


def _p() -> str:
    return "%s" if is_postgres() else "?"


def _rows(sql: str, params=()) -> list[tuple]:
    cursor = db.cursor()
    cursor.execute(sql, tuple(params))
    return cursor.fetchall()


def group_page(wf_id: int, type_: str | None, lo: int | None, hi: int | None, cursor, limit: int) -> list[tuple]:
    """Group rows of a workflow, newest first (``at`` then id), after ``cursor``; up to
    ``limit`` of them (each stands for at least one per-record row)."""
    p = _p()
    where: list[str] = ['"workflow_id" = ' + p]
    params: list[Any] = [wf_id]
    if type_ is not None:
        where.append('"type" = ' + p)
        params.append(type_)
    if lo is not None:
        where.append('"at" >= ' + p)
        params.append(lo)
    if hi is not None:
        where.append('"at" < ' + p)
        params.append(hi)
    if cursor is not None:
        at, src, a, b, _c = cursor
        if src == 1:  # events and groups share one order at an instant (2*seq+1 against 2*event id)
            where.append(f'("at" < {p} OR ("at" = {p} AND (2 * "seq" + 1 < {p} OR (2 * "seq" + 1 = {p} '
                         f'AND "id" <= {p}))))')
            params += [at, at, a, a, b]
        else:  # at an instant enrollments come last: only older instants remain
            where.append(f'"at" < {p}')
            params.append(at)
    sql = ('SELECT "id", "at", "type", "run_id", "step", "detail", "first", "last", "varies", "seq" '
           f'FROM "history_group" WHERE {" AND ".join(where)} ORDER BY "at" DESC, "seq" DESC, "id" DESC '
           f'LIMIT {int(limit) + 1}')  # + the cursor's own group, which may have no member left
    return _rows(sql, params)


def group_members(gid: int, run_id: int, first: int, last: int, below: int | None, limit: int) -> list[tuple]:
    """``(enrollment id, record id)`` of a group, highest enrollment first."""
    p = _p()
    hi = last if below is None else min(last, below - 1)
    return _rows(f'SELECT "id", "record_id" FROM "enrollment" WHERE "id" BETWEEN {p} AND {p} AND "run_id" = {p} '
                 f'ORDER BY "id" DESC LIMIT {int(max(limit, 0))}', (first, hi, run_id))


def group_values(gid: int, enrollment_ids: list[int]) -> dict[int, str]:
    if not enrollment_ids:
        return {}
    lo, hi = min(enrollment_ids), max(enrollment_ids)
    p = _p()
    return dict(_rows(f'SELECT "enrollment", "detail" FROM "history_value" WHERE "group_id" = {p} '
                      f'AND "enrollment" BETWEEN {p} AND {p}', (gid, lo, hi)))


def run_scheduled_for(run_id: int) -> Any:
    rows = _rows(f'SELECT "scheduled_for" FROM "run" WHERE "id" = {_p()}', (run_id,))
    return rows[0][0] if rows else None


def record_enrollments(wf_id: int, record_id: int) -> list[tuple]:
    """A record's enrollments in a workflow: ``(id, run id, scheduled_for)``, one probe
    of the (run, record) key per run."""
    p = _p()
    return _rows(f'SELECT e."id", e."run_id", r."scheduled_for" FROM "run" AS r JOIN "enrollment" AS e '
                 f'ON e."run_id" = r."id" AND e."record_id" = {p} WHERE r."workflow_id" = {p}', (record_id, wf_id))


def groups_of(run_id: int, enrollment_id: int) -> list[tuple]:
    """The group rows of a run that include an enrollment."""
    p = _p()
    return _rows(f'SELECT "id", "at", "type", "step", "detail", "varies", "seq" FROM "history_group" '
                 f'WHERE "run_id" = {p} AND "first" <= {p} AND "last" >= {p}', (run_id, enrollment_id, enrollment_id))
