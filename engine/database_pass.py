"""The database pass of the step executor (engine/executor.py): one transaction takes
due enrollments into the batch, runs their database steps set-based round after round,
and writes the history and the pointers with them. Groups that reach a network step
leave it claimed for the network pass (engine/network_pass.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from engine.step_claims import HISTORY_COLUMNS, LEASE, MAX_ROUNDS, PARK, continues, count_items
from engine.steps import run_db, run_set
from engine.steps.context import Context, Item
from engine.steps.positions import (
    Position,
    advance,
    decode_path,
    encode_path,
    path_label,
    resolve,
    step_of,
)
from engine.steps.run_db import db_error_types
from engine.steps.run_network import is_external
from models.enums import IN_PROGRESS_STATES, EnrollmentState, EventType, WorkflowStatus
from models.schema import HistoryEvent
from models.settings import load_settings
from models.store import steps as store
from models.store import value_sql
from models.store.bulk import insert_tuples
from models.store.dialect import write_transaction
from models.store.step_rows import run_instants
from models.store.workflows import workflows_by_ids
from models.timeutil import from_micros, iso_z, to_micros


@dataclass
class Group:
    """Rows of the batch with one tag: one workflow, one position, one fate."""

    g: int
    ctx: Context
    pos: Position | None
    tries: int
    state: EnrollmentState = EnrollmentState.ACTIVE
    next_at: datetime | None = None
    network: bool = False  # stopped at a network step: claimed for the network pass
    empty: bool = False  # every enrollment left it (unenrolled): nothing to write


def database_pass(now: datetime, engine_id: str, limit: int) -> tuple[int, list[Group]]:
    """One transaction: take due enrollments, run their database steps set-based,
    round after round, and write the history and the pointers with them.

    A crash rolls all of it back (nothing done, nothing recorded), so a database step
    never runs twice and is never skipped. Groups that reach a network step leave the
    transaction claimed (``claimed_by``/``claimed_until``) for the network pass.
    """
    now_us = to_micros(now)
    with write_transaction():
        keys = store.claim_batch(now_us, limit, IN_PROGRESS_STATES)
        if not keys:
            return 0, []
        settings = load_settings()
        wf_ids = sorted({k[1] for k in keys})
        contexts = {wf.id: Context(wf, settings, now) for wf in workflows_by_ids(wf_ids)}
        tags = [max(k[0] for k in keys)]

        def new_tag() -> int:
            tags[0] += 1
            return tags[0]

        p = run_set.Pass(now, new_tag)
        groups: list[Group] = []
        count = 0
        pos: Position | None  # a group's position; None once its enrollments are done
        for g, wf_id, step, path in keys:
            ctx = contexts.get(wf_id)
            if ctx is None:  # a deleted workflow took its enrollments
                store.move_rows(g, 0)
                continue
            pos, tries = decode_path(step, path)
            groups.append(Group(g, ctx, pos, tries))
        for grp in list(groups):  # records deleted since they enrolled
            gone = new_tag()
            if store.move_missing(grp.g, gone, grp.ctx.model._meta.table_name):
                body = {"path": path_label(grp.pos)} if grp.pos else {}
                store.write_row_history(gone, grp.ctx.id, now_us, EventType.STEP_FAILED, grp.pos[0] + 1 if grp.pos else None,
                                        value_sql.json_merge(body, {"error": value_sql.concat([
                                            value_sql.literal(f"{grp.ctx.type_name} "), "CAST(b.record_id AS TEXT)",
                                            value_sql.literal(" no longer exists")])}), grp.ctx.model._meta.table_name)
                groups.append(Group(gone, grp.ctx, grp.pos, grp.tries, state=EnrollmentState.FAILED))
                count += store.group_count(gone)
        live = [grp for grp in groups if grp.state == EnrollmentState.ACTIVE]
        for _ in range(MAX_ROUNDS):
            if not live:
                break
            born: list[Group] = []
            for grp in live:
                n = store.group_count(grp.g)
                born += _step_group(p, grp, now)
                if not grp.network:  # a network step is counted when it has run
                    count += n
            groups += born
            live = [grp for grp in groups if grp.state == EnrollmentState.ACTIVE and not grp.network and not grp.empty
                    and grp.next_at is not None and grp.next_at <= now]
        lease_end = to_micros(now + LEASE)
        network = []
        for grp in groups:
            if grp.g == 0 or grp.empty:
                continue
            total = len(grp.ctx.actions)
            pos = grp.pos
            step = pos[0] if pos else total
            path = encode_path(pos, grp.tries) if pos else None
            next_us = to_micros(grp.next_at) if grp.next_at else None
            if grp.network:
                store.write_pointers(grp.g, EnrollmentState.ACTIVE, step, path, now_us, engine_id, lease_end)
                network.append(grp)
            elif grp.state == EnrollmentState.ACTIVE and grp.next_at is not None and grp.next_at <= now:
                # the round cap: the rest resumes next call
                store.write_pointers(grp.g, EnrollmentState.ACTIVE, step, path, next_us, None, None)
            else:
                store.write_pointers(grp.g, grp.state, step, path, next_us, None, None)
    return count, network


def _step_group(p: run_set.Pass, grp: Group, now: datetime) -> list[Group]:
    """Move one group one step on (or set it aside); returns the groups split off."""
    ctx = grp.ctx
    born: list[Group] = []
    if ctx.status != WorkflowStatus.ACTIVE:
        grp.state, grp.next_at = EnrollmentState.WAITING, now + PARK
        return born
    pos = resolve(ctx.actions, grp.pos) if grp.pos else None
    if pos is None:
        grp.pos, grp.state, grp.next_at, grp.tries = None, EnrollmentState.DONE, None, 0
        return born
    if pos != grp.pos:
        grp.pos, grp.tries = pos, 0
    table = ctx.model._meta.table_name
    if ctx.wf.unenrollment:
        sql, params = run_set.criteria_sql(ctx, ctx.wf.unenrollment)
        gone = p.new_tag()
        if store.move_matching(grp.g, gone, table, sql, params):
            p.event(gone, ctx, run_set.Event(EventType.UNENROLLED, pos, {"reason": "meets the unenrollment criteria"}))
            born.append(Group(gone, ctx, pos, grp.tries, state=EnrollmentState.UNENROLLED))
        if not store.group_count(grp.g):
            grp.empty = True
            return born
    if ctx.pause_dates and now.astimezone(ctx.tz).date() in ctx.pause_dates:
        # On a pause day each enrollment waits until the wall time its step was due,
        # on the next day that is not paused: one part per distinct due instant.
        day = now.astimezone(ctx.tz).date().isoformat()
        dues = sorted(store.distinct_due(grp.g))
        parts = [(grp, dues[0])]
        for due in dues[1:]:
            tag = p.new_tag()
            store.move_rows(grp.g, tag, f"due = {int(due)}")
            part = Group(tag, ctx, pos, grp.tries)
            born.append(part)
            parts.append((part, due))
        for part, due in parts:
            until = ctx.paused_until(_Due(from_micros(due)))
            p.event(part.g, ctx, run_set.Event(EventType.PAUSED, pos, {"pause_day": day, "until": iso_z(until)}))
            part.state, part.next_at = EnrollmentState.WAITING, until
        return born
    step = step_of(ctx.actions, pos)
    if is_external(step):
        grp.network, grp.next_at = True, now
        return born
    outcomes = _run_step(p, grp, pos, step)
    for out in outcomes:
        target = grp if out.new_g is None else Group(out.new_g, ctx, pos, 0)
        target.state, target.pos, target.next_at, target.tries = out.state, out.pos, out.next_at, out.tries
        if out.state == EnrollmentState.FAILED and continues(ctx):
            target.pos, target.tries = advance(ctx.actions, pos), 0
            target.state, target.next_at = (EnrollmentState.ACTIVE, now) if target.pos else (EnrollmentState.DONE, None)
        if out.state == EnrollmentState.DONE:
            target.pos = None
        if out.new_g is not None:
            born.append(target)
    return born


class _Due:
    """What ``Context.paused_until`` reads of an enrollment: when its step was due."""

    def __init__(self, due: datetime):
        self.due = due


def _run_step(p: run_set.Pass, grp: Group, pos: Position, step: dict) -> list[run_set.Outcome]:
    """The group's step, set-based; per record where only that gives the same result;
    recorded as failed (never retried forever) when it cannot run at all."""
    ctx = grp.ctx
    try:
        with write_transaction():  # a savepoint: one bad group does not sink the pass
            try:
                return run_set.run_group(p, ctx, grp.g, pos, step)
            except run_set.NeedsRecords:
                pass
        with write_transaction():
            return _per_record(p, grp, pos, step)
    except db_error_types():
        raise
    except Exception as exc:  # a step that cannot run: recorded, never retried forever
        message = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        p.event(grp.g, ctx, run_set.Event(EventType.STEP_FAILED, pos, {"error": message}))
        return [run_set.Outcome(EnrollmentState.FAILED, pos, None)]


def _per_record(p: run_set.Pass, grp: Group, pos: Position, step: dict) -> list[run_set.Outcome]:
    """The per-record runners of ``run_db`` for one group: each outcome becomes a
    group of its own, each event a ``history_event`` row."""
    ctx = grp.ctx
    rows = store.group_ids(grp.g)
    ctx.load_records(sorted({r for _, r, _ in rows}))
    sched = run_instants(list({r for _, _, r in rows}))
    items = [Item(id=eid, run_id=run_id, workflow_id=ctx.id, record_id=rid, manual=False, enrolled_at=None,
                  due=p.now, scheduled_for=sched.get(run_id), pos=pos, tries=grp.tries) for eid, rid, run_id in rows]
    run_db.run_db_step(ctx, pos, step, items)
    _history_rows(p.now, items)
    by_outcome: dict[tuple, list[int]] = {}
    for it in items:
        by_outcome.setdefault((it.state, it.pos, it.tries, it.next_at), []).append(it.id)
    outs = []
    for i, ((state, new_pos, tries, next_at), ids) in enumerate(by_outcome.items()):
        tag = None
        if i > 0:
            tag = p.new_tag()
            store.move_ids(grp.g, tag, ids)
        outs.append(run_set.Outcome(state, new_pos, next_at, new_g=tag, tries=tries))
    return outs


def _history_rows(now: datetime, items: list[Item]) -> None:
    """Per-record events as ``history_event`` rows."""
    now_us = to_micros(now)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    rows = []
    count_items(items)  # their pointers (and the runs' in_progress) are written with the group's
    for it in items:
        sched = to_micros(it.scheduled_for) if it.scheduled_for else None
        for kind, pos, detail in it.events:
            body = {**detail, "path": path_label(pos)} if pos else detail
            rows.append((it.workflow_id, now_us, kind, it.record_id, it.run_id, it.id, sched,
                         pos[0] + 1 if pos else None, dumps(body)))
        it.events = []
    insert_tuples(HistoryEvent, HISTORY_COLUMNS, rows)
