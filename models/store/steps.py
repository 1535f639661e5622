"""SQL for the executor's step pass: the batch of claimed enrollments (a temporary
table), its groups and their aggregates, and the writes a step makes for a whole group
(run counters, history, pointers).

The bulk statements over id lists are in models/store/bulk.py, the value-to-text
expressions in models/store/value_sql.py.
"""
from __future__ import annotations

import threading
from typing import Any

from models.db import db, is_postgres
from models.enums import FINISHED_STATES, STEP_COUNTERS, EnrollmentState, EventType
from models.store.claims import dead_engines_sql
from models.store.value_sql import literal

# ----------------------------------------------------------------------- the batch
#
# A step pass works on a *batch*: the due enrollments it took, copied into a temporary
# table ``rota_batch`` (group tag ``g``, enrollment id, record id, run id, due instant).
# A group is the rows with one tag: one workflow, one position. Steps are statements
# joined to ``rota_batch WHERE g = ?``; a split (a branch, records that leave) moves
# rows to a new tag. The temporary table lives on the connection and is emptied at the
# start of each pass, inside the pass's transaction.

BATCH = "rota_batch"
_local = threading.local()  # per connection's thread, like the temporary table


def _shapes() -> dict[int, tuple]:
    """Group ``g`` -> ``(min run, max run, first id, last id, count, min record, max
    record)``, read once per
    group and forgotten when its rows move (``move_rows``), when a new batch is claimed,
    and when a savepoint that may have moved rows rolls back (``forget_shapes``)."""
    shapes = getattr(_local, "shapes", None)
    if shapes is None:
        shapes = _local.shapes = {}
    return shapes


def forget_shapes() -> None:
    _shapes().clear()


def _shape(g: int) -> tuple:
    shapes = _shapes()
    shape = shapes.get(g)
    if shape is None:
        shape = shapes[g] = tuple(_exec(f"SELECT MIN(run_id), MAX(run_id), MIN(id), MAX(id), COUNT(*), "
                                        f"MIN(record_id), MAX(record_id) FROM {BATCH} WHERE g = {int(g)}").fetchone())
    return shape


def _within(g: int, col: str, records: bool = True) -> str:
    """On PostgreSQL, `` AND col BETWEEN lo AND hi``: the group's range of record ids
    (or, ``records=False``, of enrollment ids). Joined to a whole table, PostgreSQL
    otherwise hashes or merges over all of it (a merge join starts at the index's
    first entry), for every group of every batch; the range makes it an index range
    scan. SQLite probes each id of the batch by rowid and needs none of this."""
    if not is_postgres():
        return ""
    shape = _shape(g)
    lo, hi = (shape[5], shape[6]) if records else (shape[2], shape[3])
    if lo is None:
        return ""
    return f" AND {col} BETWEEN {int(lo)} AND {int(hi)}"


def _p() -> str:
    return "%s" if is_postgres() else "?"


def _exec(sql: str, params=()) -> Any:
    cursor = db.cursor()
    cursor.execute(sql, tuple(params))
    return cursor


def ensure_batch() -> None:
    if is_postgres():
        _exec(f"CREATE TEMP TABLE IF NOT EXISTS {BATCH} (g integer NOT NULL, id bigint NOT NULL, "
              "record_id bigint NOT NULL, run_id bigint NOT NULL, due bigint, wf bigint, step integer, path text, "
              "PRIMARY KEY (g, id))")
    else:
        _exec(f"CREATE TEMP TABLE IF NOT EXISTS {BATCH} (g INTEGER NOT NULL, id INTEGER NOT NULL, "
              "record_id INTEGER NOT NULL, run_id INTEGER NOT NULL, due INTEGER, wf INTEGER, step INTEGER, path TEXT, "
              "PRIMARY KEY (g, id)) WITHOUT ROWID")


def claim_batch(now_us: int, limit: int, states: tuple[str, ...]) -> list[tuple]:
    """Take up to ``limit`` due enrollments into the batch, tagged by (workflow, step,
    path); returns ``(g, workflow_id, step, path)`` per group, in that key's order.

    Runs inside the pass's write transaction: on SQLite that transaction holds the
    write lock; on PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` until it
    commits, so another engine's pass takes other rows. Rows claimed for network work
    by a live engine (``claimed_until`` in the future) are left alone; those of an
    engine whose heartbeat expired are taken back at once (models/store/claims.py).

    On SQLite the few distinct keys are read first (a tiny ephemeral index) and the
    rows are tagged by a ``CASE`` over them: numbering them with a window function
    sorts the whole batch, which cost as much as the step itself. Both statements see
    the same rows: the transaction holds the only write lock.
    """
    p = _p()
    ensure_batch()
    if is_postgres():
        # TRUNCATE: a temporary table is never vacuumed, and each pass's deleted rows
        # would stay in it. The batch's sorts and hashes fit in memory (the default
        # 4 MB spilled the claim's sort to disk).
        _exec(f"TRUNCATE {BATCH}")
        # The batch's statements are simple and big: compiling them (JIT) costs more
        # than it saves.
        _exec("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")
    else:
        _exec(f"DELETE FROM {BATCH}")
    forget_shapes()
    marks = ", ".join(p for _ in states)
    lock = " FOR UPDATE OF e SKIP LOCKED" if is_postgres() else ""
    due = (f'SELECT e.id, e.record_id, e.run_id, e.next_step_at, e.workflow_id, e.step, e.path '
           f'FROM "enrollment" AS e WHERE e.next_step_at <= {p} AND e.state IN ({marks}) '
           f'AND (e.claimed_by IS NULL OR e.claimed_until < {p} OR e.claimed_by IN ({dead_engines_sql()})) '
           f'ORDER BY e.next_step_at LIMIT {int(limit)}')
    params = (now_us, *states, now_us, now_us)
    cols = "c.id, c.record_id, c.run_id, c.next_step_at, c.workflow_id, c.step, c.path"
    insert = f"INSERT INTO {BATCH} (g, id, record_id, run_id, due, wf, step, path) "
    if not is_postgres():
        keys = sorted(_exec(f"SELECT DISTINCT c.workflow_id, c.step, c.path FROM ({due}) AS c", params).fetchall(),
                      key=lambda k: (k[0], k[1], k[2] is not None, k[2] or ""))
        if not keys:
            return []
        if len(keys) <= _CASE_KEYS:
            whens = " ".join(f"WHEN c.workflow_id = {int(wf)} AND c.step = {int(step)} AND c.path "
                             f"{'IS NULL' if path is None else '= ' + literal(path)} THEN {g}"
                             for g, (wf, step, path) in enumerate(keys, 1))
            # ELSE NULL: a row outside the keys (impossible under the write lock) fails loudly
            _exec(f"{insert}SELECT CASE {whens} ELSE NULL END, {cols} FROM ({due}) AS c", params)
            return [(g, *k) for g, k in enumerate(keys, 1)]
    if is_postgres():
        # Only the due-step index gives the rows in due order without sorting them all.
        # Right after a big run enrolled, the statistics still say few enrollments are
        # active, and the planner would rather sort every due one (a million) than
        # walk that index: no sort below the numbering, then sorts allowed again.
        _exec("SET LOCAL enable_sort = off")
    _exec(f"{insert}SELECT DENSE_RANK() OVER (ORDER BY c.workflow_id, c.step, c.path), {cols} "
          f"FROM ({due}{lock}) AS c", params)
    if is_postgres():
        _exec("SET LOCAL enable_sort = on")
        _exec(f"ANALYZE {BATCH}")
    return list(_exec(f"SELECT g, MIN(wf), MIN(step), MIN(path) FROM {BATCH} GROUP BY g ORDER BY g").fetchall())


_CASE_KEYS = 16  # above this many groups in one batch, the window numbering is cheaper than the CASE


def batch_sql(g: int) -> str:
    """The record ids of group ``g`` as a sub-select (``g`` is ours: an integer)."""
    return f"SELECT record_id FROM {BATCH} WHERE g = {int(g)}"


def move_rows(g: int, new_g: int, where: str = "", params=()) -> int:
    """Move the rows of group ``g`` that meet ``where`` (SQL over ``rota_batch`` columns)
    to group ``new_g``; returns how many moved."""
    cond = f" AND ({where})" if where else ""
    moved = max(_exec(f"UPDATE {BATCH} SET g = {int(new_g)} WHERE g = {int(g)}{cond}", params).rowcount, 0)
    if moved:
        shapes = _shapes()
        shapes.pop(int(g), None)
        shapes.pop(int(new_g), None)
    return moved


def move_matching(g: int, new_g: int, table: str, cond_sql: str, params=()) -> int:
    """Move the rows of ``g`` whose record (in ``table``) meets ``cond_sql``, a
    ``SELECT id FROM table WHERE …`` compiled by the criteria compiler."""
    within = _within(g, "m.id")
    if within:  # PostgreSQL: the criteria scan only the group's range of records
        return move_rows(g, new_g, f"record_id IN (SELECT m.id FROM ({cond_sql}) AS m WHERE TRUE{within})", params)
    return move_rows(g, new_g, f"record_id IN ({cond_sql})", params)


def move_missing(g: int, new_g: int, table: str) -> int:
    """Move the rows of ``g`` whose record no longer exists. On SQLite ``NOT IN`` is a
    rowid probe per row, four times cheaper than the correlated ``NOT EXISTS`` that
    PostgreSQL turns into an anti-join.

    First the common case, in one count over the primary key: a group of ``n`` rows
    whose record ids span exactly ``n`` ids, all of which exist, lacks no record (one
    missing record would leave at most ``n - 1`` in that span, duplicates or not)."""
    _runs_lo, _runs_hi, _lo, _hi, n, lo_rec, hi_rec = _shape(g)
    if n and hi_rec - lo_rec + 1 == n and _exec(
            f'SELECT COUNT(*) FROM "{table}" WHERE id BETWEEN {int(lo_rec)} AND {int(hi_rec)}').fetchone()[0] == n:
        return 0
    if is_postgres():
        return move_rows(g, new_g, f'NOT EXISTS (SELECT 1 FROM "{table}" AS r WHERE r.id = {BATCH}.record_id'
                                   f'{_within(g, "r.id")})')
    return move_rows(g, new_g, f'record_id NOT IN (SELECT id FROM "{table}")')


def group_count(g: int) -> int:
    return _shape(g)[4]


def distinct_due(g: int) -> list[int]:
    return [r[0] for r in _exec(f"SELECT DISTINCT due FROM {BATCH} WHERE g = {int(g)}").fetchall()]


def group_ids(g: int) -> list[tuple[int, int, int]]:
    """``(enrollment id, record id, run id)`` of a group, for the per-record paths."""
    return list(_exec(f"SELECT id, record_id, run_id FROM {BATCH} WHERE g = {int(g)} ORDER BY id").fetchall())


def update_group_records(table: str, g: int, sets: str, params=()) -> int:
    """``UPDATE table AS r SET sets WHERE r.id IN (the group's records)``."""
    return _exec(f'UPDATE "{table}" AS r SET {sets} WHERE r.id IN ({batch_sql(g)}){_within(g, "r.id")}',
                 params).rowcount


def insert_from_group(target: str, columns: list[str], select_exprs: list[str], table: str, g: int,
                      params=(), *, tail: str = "") -> int:
    """``INSERT INTO target (columns) SELECT exprs FROM rota_batch b JOIN table r ON
    r.id = b.record_id WHERE b.g = ?``: expressions may use ``b.`` and ``r.``."""
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = (f'INSERT INTO "{target}" ({cols}) SELECT {", ".join(select_exprs)} FROM {BATCH} AS b '
           f'JOIN "{table}" AS r ON r.id = b.record_id{_within(g, "r.id")} WHERE b.g = {int(g)} ORDER BY b.id{tail}')
    return max(_exec(sql, params).rowcount, 0)


def first_value(sql_from_group: str, table: str, g: int, params=()) -> Any:
    """The first row of ``SELECT <expr> FROM rota_batch b JOIN table r … WHERE b.g = ?``."""
    row = _exec(f'SELECT {sql_from_group} FROM {BATCH} AS b JOIN "{table}" AS r ON r.id = b.record_id'
                f'{_within(g, "r.id")} WHERE b.g = {int(g)} LIMIT 1', params).fetchone()
    return row


def delete_list_members(list_id: int, g: int) -> None:
    _exec(f'DELETE FROM "list_member" WHERE "list_id" = {int(list_id)} AND "record_id" IN ({batch_sql(g)})')


def add_list_members(list_id: int, g: int, now_us: int) -> None:
    _exec(f'INSERT INTO "list_member" ("list_id", "record_id", "added_at") '
          f'SELECT DISTINCT {int(list_id)}, record_id, {int(now_us)} FROM {BATCH} WHERE g = {int(g)} '
          f'ON CONFLICT DO NOTHING')


def _group_runs(g: int) -> list[tuple[int, int, int, int]]:
    """``(run_id, first id, last id, count)`` of group ``g`` when all its rows are one
    run and one unbroken range of enrollment ids (nearly always: a run's enrollments
    are inserted together and claimed in id order), else ``[]``; one aggregate."""
    lo_run, hi_run, lo, hi, n = _shape(g)[:5]
    if n and lo_run == hi_run and hi - lo + 1 == n:
        return [(lo_run, lo, hi, n)]
    return []


def _islands(g: int) -> list[tuple[int, int, int, int]]:
    """Group ``g`` as ``(run_id, first, last, count)`` per run and unbroken id range."""
    return _group_runs(g) or list(_exec(
        f"SELECT run_id, MIN(id), MAX(id), COUNT(*) FROM (SELECT id, run_id, "
        f"id - ROW_NUMBER() OVER (ORDER BY id) AS k FROM {BATCH} WHERE g = {int(g)}) AS s "
        f"GROUP BY k, run_id ORDER BY MIN(id)").fetchall())


def _per_run(g: int) -> dict[int, int]:
    """How many of group ``g``'s enrollments each run has."""
    one = _group_runs(g)
    rows = [(r, n) for r, _lo, _hi, n in one] if one else \
        _exec(f"SELECT run_id, COUNT(*) FROM {BATCH} WHERE g = {int(g)} GROUP BY run_id").fetchall()
    return {r: n for r, n in rows if n}


def count_group_in_runs(g: int, sets: dict[str, int], per_run: dict[int, int] | None = None) -> None:
    """Add ``sign × (the group's enrollments in that run)`` to each run's columns in
    ``sets`` (``{"completed": 1, "in_progress": -1}``): one statement per run."""
    per_run = _per_run(g) if per_run is None else per_run
    add_to_runs({r: {c: sign * n for c, sign in sets.items()} for r, n in per_run.items()})


def add_to_runs(counts: dict[int, dict[str, int]]) -> None:
    """Add per-run amounts (``{run_id: {"steps_failed": 2, …}}``) to the run counters,
    one prepared statement run once per run."""
    cols = ("steps_succeeded", "steps_failed", "in_progress", "completed")
    rows = [(*(c.get(k, 0) for k in cols), run_id) for run_id, c in counts.items() if any(c.values())]
    if not rows:
        return
    p = _p()
    sets = ", ".join(f'"{k}" = "{k}" + {p}' for k in cols)
    db.cursor().executemany(f'UPDATE "run" SET {sets} WHERE "id" = {p}', rows)


def write_group_history(g: int, workflow_id: int, at_us: int, kind: EventType, step: int | None, detail: str | None,
                        value_sql: str | None = None, table: str | None = None) -> None:
    """The group's event: one ``history_group`` row per run and contiguous range of
    enrollment ids (usually one), and with ``value_sql`` (a JSON-object expression over
    ``r.`` record columns) each enrollment's own part in ``history_value``."""
    p = _p()
    islands = _islands(g)
    if kind in STEP_COUNTERS:
        per_run: dict[int, int] = {}
        for run_id, _lo, _hi, n in islands:
            per_run[run_id] = per_run.get(run_id, 0) + n
        count_group_in_runs(g, {STEP_COUNTERS[kind]: 1}, per_run)
    varies = value_sql is not None
    pg = is_postgres()
    seq = _exec('SELECT MAX("id") FROM "history_event"').fetchone()[0] or 0
    for run_id, lo, hi, n in islands:
        sql = (f'INSERT INTO "history_group" ("workflow_id", "run_id", "at", "type", "step", "detail", "first", '
               f'"last", "count", "varies", "seq") VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})')
        params = (workflow_id, run_id, at_us, kind, step, detail, lo, hi, n, varies, seq)
        if pg:
            gid = _exec(sql + ' RETURNING "id"', params).fetchone()[0]
        else:
            gid = _exec(sql, params).lastrowid
        if varies:
            _exec(f'INSERT INTO "history_value" ("group_id", "enrollment", "detail") '
                  f'SELECT {int(gid)}, b.id, {value_sql} FROM {BATCH} AS b JOIN "{table}" AS r ON r.id = b.record_id'
                  f'{_within(g, "r.id")} WHERE b.g = {int(g)} AND b.run_id = {int(run_id)} AND b.id BETWEEN {int(lo)} AND {int(hi)} '
                  f'ORDER BY b.id')


def write_row_history(g: int, workflow_id: int, at_us: int, kind: EventType, step: int | None, detail_sql: str,
                      table: str, params=()) -> None:
    """Per-record ``history_event`` rows for what differs per record and is rare
    (a failure naming the record, a pause with its own resume time)."""
    if kind in STEP_COUNTERS:
        count_group_in_runs(g, {STEP_COUNTERS[kind]: 1})
    _exec(f'INSERT INTO "history_event" ("workflow_id", "at", "type", "record_id", "run_id", "enrollment_id", '
          f'"scheduled_for", "step", "detail") SELECT {int(workflow_id)}, {int(at_us)}, {_p()}, b.record_id, '
          f'b.run_id, b.id, (SELECT "scheduled_for" FROM "run" WHERE "run"."id" = b.run_id), {_p()}, {detail_sql} '
          f'FROM {BATCH} AS b LEFT JOIN "{table}" AS r ON r.id = b.record_id{_within(g, "r.id")} '
          f'WHERE b.g = {int(g)} ORDER BY b.id',
          (kind, step, *params))


def write_pointers(g: int, state: EnrollmentState, step: int, path: str | None, next_at_us: int | None,
                   claimed_by: str | None, claimed_until_us: int | None) -> int:
    """Where the group's enrollments are now: one UPDATE for the group. Enrollments
    that finish here move from their run's ``in_progress`` to ``completed``."""
    p = _p()
    if state in FINISHED_STATES:
        count_group_in_runs(g, {"in_progress": -1, "completed": 1})
    return _exec(f'UPDATE "enrollment" SET "state" = {p}, "step" = {p}, "path" = {p}, "next_step_at" = {p}, '
                 f'"claimed_by" = {p}, "claimed_until" = {p} WHERE "id" IN (SELECT id FROM {BATCH} WHERE g = {int(g)})'
                 f'{_within(g, "id", records=False)}',
                 (state, step, path, next_at_us, claimed_by, claimed_until_us)).rowcount


def move_ids(g: int, new_g: int, ids: list[int]) -> None:
    """Move the listed enrollments of ``g`` to ``new_g`` (the per-record fallback)."""
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        move_rows(g, new_g, f"id IN ({', '.join(str(int(x)) for x in chunk)})")


def any_row(cond: str, table: str, g: int) -> bool:
    """Whether a row of group ``g`` (joined to its record as ``r``) meets ``cond``."""
    return _exec(f'SELECT 1 FROM {BATCH} AS b JOIN "{table}" AS r ON r.id = b.record_id{_within(g, "r.id")} '
                 f'WHERE b.g = {int(g)} AND ({cond}) LIMIT 1').fetchone() is not None
