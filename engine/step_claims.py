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
from models.enums import STEP_COUNTERS, OnStepFailure
from models.schema import Enrollment
from models.store import steps as store
from models.store.bulk import update_ids
from models.store.dialect import write_transaction
from models.timeutil import from_micros

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than a round can take (webhook timeouts are ≤ 300 s)
PARK = timedelta(seconds=60)  # how long a paused/draft workflow's enrollments are set aside
MAX_ROUNDS = 200  # a bound on steps per enrollment per call; the rest resumes next call
BATCH = 50_000  # enrollments per database pass (measured: tests/bench/bench_steps.py)
HISTORY_COLUMNS = ["workflow", "at", "type", "record_id", "run", "enrollment", "scheduled_for", "step", "detail"]


class LostClaim(Exception):
    """Another engine took over an enrollment this one held (its lease ran out)."""


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
    return (ctx.wf.settings or {}).get("on_step_failure") == OnStepFailure.CONTINUE


def count_items(items: list[Item], finished: set[int] | None = None) -> None:
    """Add the items' step outcomes (their ``step_succeeded`` / ``step_failed`` events)
    and, for the ids in ``finished``, the enrollments that ended, to their runs."""
    counts: dict[int, dict[str, int]] = {}
    for it in items:
        c = counts.setdefault(it.run_id, {})
        for kind, _pos, _detail in it.events:
            col = STEP_COUNTERS.get(kind)
            if col:
                c[col] = c.get(col, 0) + 1
        if finished is not None and it.id in finished:
            c["in_progress"] = c.get("in_progress", 0) - 1
            c["completed"] = c.get("completed", 0) + 1
    store.add_to_runs(counts)
