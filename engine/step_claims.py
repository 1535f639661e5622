"""What both step passes share (engine/database_pass.py, engine/network_pass.py): the
lease vocabulary and limits, claiming and releasing enrollments by ``claimed_by`` /
``claimed_until`` (models/store/claims.py has the whole picture), and adding step
outcomes to the runs' counters.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import peewee as pw

from engine.steps.context import Context, Item
from engine.steps.positions import (
    decode_path,
)
from models.db import db
from models.schema import Enrollment, Run
from models.store import steps as store
from models.store.bulk import update_ids
from models.store.claims import dead_engines_sql
from models.store.dialect import dialect, write_transaction
from models.timeutil import from_micros, to_micros

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than a round can take (webhook timeouts are ≤ 300 s)
PARK = timedelta(seconds=60)  # how long a paused/draft workflow's enrollments are set aside
MAX_ROUNDS = 200  # a bound on steps per enrollment per call; the rest resumes next call
BATCH = 50_000  # enrollments per database pass (measured: tests/bench/bench_steps.py)
ACTIVE_STATES = ("active", "waiting")
HISTORY_COLUMNS = ["workflow", "at", "type", "record_id", "run", "enrollment", "scheduled_for", "step", "detail"]


class LostClaim(Exception):
    """Another engine took over an enrollment this one held (its lease ran out)."""


def claim(now: datetime, engine_id: str, limit: int) -> list[Item]:
    """Take up to ``limit`` due, unclaimed (or lease-expired, or our own, or held by an
    engine whose heartbeat expired) enrollments.

    Plain SQL: this runs for every batch, and a peewee expression per row costs more
    than the database does. On PostgreSQL ``FOR UPDATE OF e SKIP LOCKED`` lets another
    engine's concurrent claim pass over these rows instead of waiting for them.
    """
    d = dialect()
    mark = d.param
    e, r = Enrollment._meta.table_name, Run._meta.table_name
    sql = (f'SELECT e."id", e."run_id", e."workflow_id", e."record_id", e."manual", e."enrolled_at", '
           f'e."next_step_at", e."step", e."path", r."scheduled_for" '
           f'FROM "{e}" AS e JOIN "{r}" AS r ON r."id" = e."run_id" '
           f'WHERE e."next_step_at" <= {mark} AND e."state" IN ({mark}, {mark}) '
           f'AND (e."claimed_by" IS NULL OR e."claimed_until" < {mark} OR e."claimed_by" = {mark} '
           f'OR e."claimed_by" IN ({dead_engines_sql()})) '
           f'ORDER BY e."next_step_at" LIMIT {int(limit)}' + d.skip_locked_sql("e"))
    now_us = to_micros(now)
    with write_transaction():
        cursor = db.cursor()
        cursor.execute(sql, (now_us, *ACTIVE_STATES, now_us, engine_id, now_us))
        rows = cursor.fetchall()
        if not rows:
            return []
        update_ids(Enrollment, {"claimed_by": engine_id, "claimed_until": now + LEASE}, [row[0] for row in rows])
    return items_from_rows(rows, now)


def items_from_rows(rows, now: datetime) -> list[Item]:
    """Claimed enrollment rows (id, run, workflow, record, manual, enrolled_at,
    next_step_at, step, path, the run's scheduled_for) as ``Item``s, oldest first."""
    items = []
    for eid, run_id, wf_id, record_id, manual, enrolled_at, due, step, path, scheduled_for in rows:
        pos, tries = decode_path(step, path)
        items.append(Item(id=eid, run_id=run_id, workflow_id=wf_id, record_id=record_id, manual=bool(manual),
                          enrolled_at=instant(enrolled_at), due=instant(due) or now,
                          scheduled_for=instant(scheduled_for), pos=pos, tries=tries))
    items.sort(key=lambda it: it.id)
    return items


def instant(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return from_micros(value)


def release(engine_id: str, items: list[Item]) -> None:
    """Let go of enrollments still held (round cap reached, or a round failed).

    Best effort: if the database is unwell this fails too, and the lease running out
    (or this engine's next claim, which may take its own rows back) does the job.
    """
    ids = [it.id for it in items]
    if not ids:
        return
    try:
        with write_transaction():
            update_ids(Enrollment, {"claimed_by": None, "claimed_until": None}, ids, where={"claimed_by": engine_id})
    except (pw.OperationalError, pw.InterfaceError) as exc:
        log.warning("could not release %d claimed enrollments: %s", len(ids), exc)


def continues(ctx: Context) -> bool:
    """Whether an enrollment goes on to the next step after a step fails for good
    (the workflow's ``on_step_failure`` is ``continue``; the default ``stop`` ends it)."""
    return (ctx.wf.settings or {}).get("on_step_failure") == "continue"


def count_items(items: list[Item], finished: set[int] | None = None) -> None:
    """Add the items' step outcomes (their ``step_succeeded`` / ``step_failed`` events)
    and, for the ids in ``finished``, the enrollments that ended, to their runs."""
    counts: dict[int, dict[str, int]] = {}
    for it in items:
        c = counts.setdefault(it.run_id, {})
        for kind, _pos, _detail in it.events:
            col = store.STEP_COUNTERS.get(kind)
            if col:
                c[col] = c.get(col, 0) + 1
        if finished is not None and it.id in finished:
            c["in_progress"] = c.get("in_progress", 0) - 1
            c["completed"] = c.get("completed", 0) + 1
    store.add_to_runs(counts)
