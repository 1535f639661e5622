"""Claiming and running due action steps: the engine's second job after enrolling.

The engine loop calls ``run_due_steps(now, engine_id)`` and sleeps until
``next_step_due()``. One call:

1. **claims** up to ``limit`` due enrollments (``next_step_at <= now``) in a short
   transaction: ``claimed_by`` / ``claimed_until`` (a lease, as APScheduler's
   ``acquired_by`` / ``acquired_until``). On PostgreSQL the candidate rows are selected
   ``FOR UPDATE SKIP LOCKED``, so several engines share the work without waiting on
   each other; on SQLite the claim is a ``BEGIN IMMEDIATE`` transaction (one writer).
2. runs them in **rounds**: each round moves every claimed enrollment one step on.
   Enrollments of one workflow at the same step form a group, and a step runs once per
   group (set-based where it can). Network work (webhooks, e-mail) happens first,
   outside any transaction; then one transaction writes the steps' database effects,
   the new step pointers and the history events — together. A crash therefore either
   keeps a step with its pointer moved past it, or loses both: a database step never
   runs twice and is never skipped. A webhook whose POST went out just before a crash
   is sent again (at-least-once) with the same ``Idempotency-Key``.
3. releases whatever it still holds.

Before each step an enrollment is checked against the workflow's unenrollment
criteria (it leaves, with an ``unenrolled`` event) and its pause days (it waits until
the same wall time on the next non-paused day, with a ``paused`` event). Enrollments
of a workflow that is not active are parked and looked at again a minute later.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee as pw

from engine.steps import run_db, run_network, run_set
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
from models.db import db
from models.schema import Enrollment, HistoryEvent, Run, Workflow
from models.settings import load_settings
from models.store import steps as store
from models.store import value_sql
from models.store.bulk import insert_tuples, update_ids
from models.store.claims import dead_engines_sql, heartbeat_expiries
from models.store.dialect import dialect, write_transaction
from models.timeutil import from_micros, iso_z, to_micros

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than a round can take (webhook timeouts are ≤ 300 s)
PARK = timedelta(seconds=60)  # how long a paused/draft workflow's enrollments are set aside
MAX_ROUNDS = 200  # a bound on steps per enrollment per call; the rest resumes next call
BATCH = 50_000  # enrollments per database pass (measured: tests/bench/bench_steps.py)
ACTIVE_STATES = ("active", "waiting")
HISTORY_COLUMNS = ["workflow", "at", "type", "record_id", "run", "enrollment", "scheduled_for", "step", "detail"]


class _LostClaim(Exception):
    """Another engine took over an enrollment this one held (its lease ran out)."""


_tx = write_transaction  # IMMEDIATE on SQLite: writers queue on the busy timeout


# ------------------------------------------------------------------------ claiming


def _claim(now: datetime, engine_id: str, limit: int) -> list[Item]:
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
    with _tx():
        cursor = db.cursor()
        cursor.execute(sql, (now_us, *ACTIVE_STATES, now_us, engine_id, now_us))
        rows = cursor.fetchall()
        if not rows:
            return []
        update_ids(Enrollment, {"claimed_by": engine_id, "claimed_until": now + LEASE}, [row[0] for row in rows])
    items = []
    for eid, run_id, wf_id, record_id, manual, enrolled_at, due, step, path, scheduled_for in rows:
        pos, tries = decode_path(step, path)
        items.append(Item(id=eid, run_id=run_id, workflow_id=wf_id, record_id=record_id, manual=bool(manual),
                          enrolled_at=_instant(enrolled_at), due=_instant(due) or now,
                          scheduled_for=_instant(scheduled_for), pos=pos, tries=tries))
    items.sort(key=lambda it: it.id)
    return items


def _instant(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return from_micros(value)


def _release(engine_id: str, items: list[Item]) -> None:
    """Let go of enrollments still held (round cap reached, or a round failed).

    Best effort: if the database is unwell this fails too, and the lease running out
    (or this engine's next claim, which may take its own rows back) does the job.
    """
    ids = [it.id for it in items]
    if not ids:
        return
    try:
        with _tx():
            update_ids(Enrollment, {"claimed_by": None, "claimed_until": None}, ids, where={"claimed_by": engine_id})
    except (pw.OperationalError, pw.InterfaceError) as exc:
        log.warning("could not release %d claimed enrollments: %s", len(ids), exc)


# ------------------------------------------------------------------------- running


@dataclass
class _Group:
    """Rows of the batch with one tag: one workflow, one position, one fate."""

    g: int
    ctx: Context
    pos: Position | None
    tries: int
    state: str = "active"
    next_at: datetime | None = None
    network: bool = False  # stopped at a network step: claimed for the network pass


def run_due_steps(now: datetime, engine_id: str, limit: int = BATCH) -> int:
    """Run the steps of up to ``limit`` due enrollments.

    Every enrollment is taken as far as it can go now: to its end, a delay, a pause
    day, a retry wait or a failure. Returns the outcomes recorded — steps run, plus
    one for each enrollment that only waited, left or was parked — so 0 means nothing
    was due and ``while run_due_steps(now, id): pass`` drains everything due. Safe to
    call from several engines at once.
    """
    total = _apply_network(now, engine_id)
    for _ in range(MAX_ROUNDS):
        count, network = _database_pass(now, engine_id, limit)
        total += count
        if not network:
            break
        moved = _network_pass(now, engine_id, network)
        total += moved
    return total


def _database_pass(now: datetime, engine_id: str, limit: int) -> tuple[int, list[_Group]]:
    """One transaction: take due enrollments, run their database steps set-based,
    round after round, and write the history and the pointers with them.

    A crash rolls all of it back (nothing done, nothing recorded), so a database step
    never runs twice and is never skipped. Groups that reach a network step leave the
    transaction claimed (``claimed_by``/``claimed_until``) for the network pass.
    """
    now_us = to_micros(now)
    with _tx():
        keys = store.claim_batch(now_us, limit, ACTIVE_STATES)
        if not keys:
            return 0, []
        settings = load_settings()
        wf_ids = sorted({k[1] for k in keys})
        contexts = {wf.id: Context(wf, settings, now) for wf in Workflow.select().where(Workflow.id.in_(wf_ids))}
        tags = [max(k[0] for k in keys)]

        def new_tag() -> int:
            tags[0] += 1
            return tags[0]

        p = run_set.Pass(now, new_tag)
        groups: list[_Group] = []
        count = 0
        pos: Position | None  # a group's position; None once its enrollments are done
        for g, wf_id, step, path in keys:
            ctx = contexts.get(wf_id)
            if ctx is None:  # a deleted workflow took its enrollments
                store.move_rows(g, 0)
                continue
            pos, tries = decode_path(step, path)
            groups.append(_Group(g, ctx, pos, tries))
        for grp in list(groups):  # records deleted since they enrolled
            gone = new_tag()
            if store.move_missing(grp.g, gone, grp.ctx.model._meta.table_name):
                body = {"path": path_label(grp.pos)} if grp.pos else {}
                store.write_row_history(gone, grp.ctx.id, now_us, "step_failed", grp.pos[0] + 1 if grp.pos else None,
                                        value_sql.json_merge(body, {"error": value_sql.concat([
                                            value_sql.literal(f"{grp.ctx.type_name} "), "CAST(b.record_id AS TEXT)",
                                            value_sql.literal(" no longer exists")])}), grp.ctx.model._meta.table_name)
                groups.append(_Group(gone, grp.ctx, grp.pos, grp.tries, state="failed"))
                count += store.group_count(gone)
        live = [grp for grp in groups if grp.state == "active"]
        for _ in range(MAX_ROUNDS):
            if not live:
                break
            born: list[_Group] = []
            for grp in live:
                n = store.group_count(grp.g)
                born += _step_group(p, grp, now)
                if not grp.network:  # a network step is counted when it has run
                    count += n
            groups += born
            live = [grp for grp in groups if grp.state == "active" and not grp.network
                    and grp.next_at is not None and grp.next_at <= now]
        lease_end = to_micros(now + LEASE)
        network = []
        for grp in groups:
            if grp.g == 0 or grp.state == "empty":
                continue
            total = len(grp.ctx.actions)
            pos = grp.pos
            step = pos[0] if pos else total
            path = encode_path(pos, grp.tries) if pos else None
            next_us = to_micros(grp.next_at) if grp.next_at else None
            if grp.network:
                store.write_pointers(grp.g, "active", step, path, now_us, engine_id, lease_end)
                network.append(grp)
            elif grp.state == "active" and grp.next_at is not None and grp.next_at <= now:
                # the round cap: the rest resumes next call
                store.write_pointers(grp.g, "active", step, path, next_us, None, None)
            else:
                store.write_pointers(grp.g, grp.state, step, path, next_us, None, None)
    return count, network


def _step_group(p: run_set.Pass, grp: _Group, now: datetime) -> list[_Group]:
    """Move one group one step on (or set it aside); returns the groups split off."""
    ctx = grp.ctx
    born: list[_Group] = []
    if ctx.status != "active":
        grp.state, grp.next_at = "waiting", now + PARK
        return born
    pos = resolve(ctx.actions, grp.pos) if grp.pos else None
    if pos is None:
        grp.pos, grp.state, grp.next_at, grp.tries = None, "done", None, 0
        return born
    if pos != grp.pos:
        grp.pos, grp.tries = pos, 0
    table = ctx.model._meta.table_name
    if ctx.wf.unenrollment:
        sql, params = run_set.criteria_sql(ctx, ctx.wf.unenrollment)
        gone = p.new_tag()
        if store.move_matching(grp.g, gone, table, sql, params):
            p.event(gone, ctx, run_set.Event("unenrolled", pos, {"reason": "meets the unenrollment criteria"}))
            born.append(_Group(gone, ctx, pos, grp.tries, state="unenrolled"))
        if not store.group_count(grp.g):
            grp.state = "empty"
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
            part = _Group(tag, ctx, pos, grp.tries)
            born.append(part)
            parts.append((part, due))
        for part, due in parts:
            until = ctx.paused_until(_Due(from_micros(due)))
            p.event(part.g, ctx, run_set.Event("paused", pos, {"pause_day": day, "until": iso_z(until)}))
            part.state, part.next_at = "waiting", until
        return born
    step = step_of(ctx.actions, pos)
    if is_external(step):
        grp.network, grp.next_at = True, now
        return born
    outcomes = _run_step(p, grp, pos, step)
    for out in outcomes:
        target = grp if out.new_g is None else _Group(out.new_g, ctx, pos, 0)
        target.state, target.pos, target.next_at, target.tries = out.state, out.pos, out.next_at, out.tries
        if out.state == "failed" and continues(ctx):
            target.pos, target.tries = advance(ctx.actions, pos), 0
            target.state, target.next_at = ("active", now) if target.pos else ("done", None)
        if out.state == "done":
            target.pos = None
        if out.new_g is not None:
            born.append(target)
    return born


def continues(ctx: Context) -> bool:
    """Whether an enrollment goes on to the next step after a step fails for good
    (the workflow's ``on_step_failure`` is ``continue``; the default ``stop`` ends it)."""
    return (ctx.wf.settings or {}).get("on_step_failure") == "continue"


def _count_items(items: list[Item], finished: set[int] | None = None) -> None:
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


class _Due:
    """What ``Context.paused_until`` reads of an enrollment: when its step was due."""

    def __init__(self, due: datetime):
        self.due = due


def _run_step(p: run_set.Pass, grp: _Group, pos: Position, step: dict) -> list[run_set.Outcome]:
    """The group's step, set-based; per record where only that gives the same result;
    recorded as failed (never retried forever) when it cannot run at all."""
    ctx = grp.ctx
    try:
        with db.atomic():  # a savepoint: one bad group does not sink the pass
            try:
                return run_set.run_group(p, ctx, grp.g, pos, step)
            except run_set.NeedsRecords:
                pass
        with db.atomic():
            return _per_record(p, grp, pos, step)
    except db_error_types():
        raise
    except Exception as exc:  # a step that cannot run: recorded, never retried forever
        message = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        p.event(grp.g, ctx, run_set.Event("step_failed", pos, {"error": message}))
        return [run_set.Outcome("failed", pos, None)]


def _per_record(p: run_set.Pass, grp: _Group, pos: Position, step: dict) -> list[run_set.Outcome]:
    """The per-record runners of ``run_db`` for one group: each outcome becomes a
    group of its own, each event a ``history_event`` row."""
    ctx = grp.ctx
    rows = store.group_ids(grp.g)
    ctx.load_records(sorted({r for _, r, _ in rows}))
    sched = dict(Run.select(Run.id, Run.scheduled_for).where(Run.id.in_(sorted({r for _, _, r in rows}))).tuples())
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
    _count_items(items)  # their pointers (and the runs' in_progress) are written with the group's
    for it in items:
        sched = to_micros(it.scheduled_for) if it.scheduled_for else None
        for kind, pos, detail in it.events:
            body = {**detail, "path": path_label(pos)} if pos else detail
            rows.append((it.workflow_id, now_us, kind, it.record_id, it.run_id, it.id, sched,
                         pos[0] + 1 if pos else None, dumps(body)))
        it.events = []
    insert_tuples(HistoryEvent, HISTORY_COLUMNS, rows)


# ------------------------------------------------------------------ the network pass


def _network_pass(now: datetime, engine_id: str, groups: list[_Group]) -> int:
    """Network steps (webhooks, e-mail) for the groups the database pass left claimed:
    each call is rendered here and handed to the engine's network pool
    (``run_network.submit_group``, outside any transaction), never waited for. The
    enrollments stay claimed on a heartbeat lease while in flight; a later pass records
    what came back (``_apply_network``). Skipped and rate-limited ones are written now.
    """
    ids = []
    for grp in groups:
        ids += [eid for eid, _, _ in _claimed_ids(grp.g)]
    items = _load_items(ids, now)
    contexts = {grp.ctx.id: grp.ctx for grp in groups}
    by_pos: dict[tuple, list[Item]] = {}
    for it in items:
        by_pos.setdefault((it.workflow_id, it.pos), []).append(it)
    try:
        for (wf_id, pos), its in by_pos.items():
            ctx = contexts[wf_id]
            ctx.load_records(sorted({it.record_id for it in its}))
            for it in its:
                it.settled, it.events, it.steps_run = False, [], 0
            present = [it for it in its if it.record_id in ctx.records]
            for it in its:
                if it.record_id not in ctx.records:  # deleted since the database pass
                    ctx.fail(it, pos, f"{ctx.type_name} {it.record_id} no longer exists")
            run_network.submit_group(ctx, pos, step_of(ctx.actions, pos), present, engine_id)
        with _tx():
            _write(now, engine_id, contexts, items)
    except _LostClaim:
        _release(engine_id, items)
        return 0
    except BaseException:
        _release(engine_id, items)
        raise
    return sum(it.steps_run or 1 for it in items)


def _claimed_ids(g: int) -> list[tuple[int, int, int]]:
    return store.group_ids(g)


def _load_items(ids: list[int], now: datetime) -> list[Item]:
    items = []
    e, r = Enrollment._meta.table_name, Run._meta.table_name
    mark = dialect().param
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        cursor = db.cursor()
        cursor.execute(f'SELECT e."id", e."run_id", e."workflow_id", e."record_id", e."manual", e."enrolled_at", '
                       f'e."next_step_at", e."step", e."path", r."scheduled_for" FROM "{e}" AS e '
                       f'JOIN "{r}" AS r ON r."id" = e."run_id" WHERE e."id" IN ({", ".join(mark for _ in chunk)})',
                       chunk)
        for eid, run_id, wf_id, record_id, manual, enrolled_at, due, step, path, scheduled_for in cursor.fetchall():
            pos, tries = decode_path(step, path)
            items.append(Item(id=eid, run_id=run_id, workflow_id=wf_id, record_id=record_id, manual=bool(manual),
                              enrolled_at=_instant(enrolled_at), due=_instant(due) or now,
                              scheduled_for=_instant(scheduled_for), pos=pos, tries=tries))
    items.sort(key=lambda it: it.id)
    return items


def _apply_network(now: datetime, engine_id: str, done=None, interrupted=()) -> int:
    """Record the network calls that came back (and, at shutdown, those that did not)
    in one transaction; returns the outcomes recorded. Never waits on the network."""
    done = run_network.take_results(engine_id) if done is None else done
    if not done and not interrupted:
        return 0
    flights = [f for f, _ in done] + list(interrupted)
    settings = load_settings()
    wf_ids = sorted({f.item.workflow_id for f in flights})
    contexts = {wf.id: Context(wf, settings, now) for wf in Workflow.select().where(Workflow.id.in_(wf_ids))}
    with _tx():
        ours = set(select_claimed([f.item.id for f in flights], engine_id))  # a lapsed hold was taken over
        items = []
        by_group: dict[tuple, tuple[dict, list[Item]]] = {}
        for flight, result in done:
            ctx = contexts.get(flight.item.workflow_id)
            if ctx is None or flight.item.id not in ours:
                continue
            run_network.apply_result(ctx, flight, result)
            it = flight.item
            if it.settled and it.state == "failed" and continues(ctx):
                it.pos, it.tries = advance(ctx.actions, flight.pos), 0
                it.state, it.next_at = ("active", now) if it.pos else ("done", None)
            items.append(it)
            if not flight.item.settled:  # a notify e-mail settled: its inbox rows are a database step
                by_group.setdefault((ctx.id, flight.pos), (flight.step, []))[1].append(flight.item)
        for flight in interrupted:
            ctx = contexts.get(flight.item.workflow_id)
            if ctx is None or flight.item.id not in ours:
                continue
            run_network.interrupted(ctx, flight)
            items.append(flight.item)
        for (wf_id, pos), (step, todo) in by_group.items():
            ctx = contexts[wf_id]
            ctx.load_records(sorted({it.record_id for it in todo}))
            todo = [it for it in todo if it.record_id in ctx.records]
            if todo:
                run_db.run_db_step(ctx, pos, step, todo)
        for it in items:
            if not it.settled:  # a deleted record or a vanished step: let it go, a later pass decides
                it.state, it.next_at, it.settled = "active", now, True
        _write(now, engine_id, contexts, items)
    return sum(it.steps_run or 1 for it in items)


def select_claimed(ids: list[int], engine_id: str) -> list[int]:
    """Which of ``ids`` this engine still holds."""
    E = Enrollment
    out: list[int] = []
    for i in range(0, len(ids), 500):
        out += [r for (r,) in E.select(E.id).where(E.id.in_(ids[i:i + 500]) & (E.claimed_by == engine_id)).tuples()]
    return out


def renew_network_claims(engine_id: str, now: datetime) -> int:
    """The heartbeat: push the lease of every enrollment in flight on (few statements)."""
    ids = run_network.in_flight_ids(engine_id)
    if not ids:
        return 0
    until = run_network.hold_until(engine_id, now)
    with _tx():
        return update_ids(Enrollment, {"claimed_until": until, "next_step_at": until}, ids,
                          where={"claimed_by": engine_id})


def stop_network(engine_id: str, now: datetime, grace: float) -> tuple[int, int]:
    """Shutdown: wait at most ``grace`` seconds for calls in flight, record what came
    back, and record the rest as retries due at once, their claims released.
    Returns (recorded, interrupted)."""
    done, unfinished = run_network.stop(engine_id, grace)
    if not done and not unfinished:
        return 0, 0
    _apply_network(now, engine_id, done=done, interrupted=unfinished)
    return len(done), len(unfinished)


def _write(now: datetime, engine_id: str, contexts: dict[int, Context], items: list[Item]) -> None:
    """The round's pointers and history, grouped into few statements."""
    updates: dict[tuple, list[int]] = {}
    history: list[tuple] = []
    now_us = to_micros(now)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    for it in items:
        if not it.settled:  # pragma: no cover - every item gets an outcome
            continue
        hold = it.extra.get("hold_until")  # in flight on the network: claimed on a heartbeat lease
        total = len(contexts[it.workflow_id].actions)
        step = it.pos[0] if it.pos else total
        next_at = hold or it.next_at  # what moves on now is released: the next database pass takes it
        key = (it.state, step, encode_path(it.pos, it.tries) if it.pos else None,
               to_micros(next_at) if next_at else None, hold)
        updates.setdefault(key, []).append(it.id)
        if it.events:
            sched = to_micros(it.scheduled_for) if it.scheduled_for else None
            for kind, pos, detail in it.events:
                body = {**detail, "path": path_label(pos)} if pos else detail
                history.append((it.workflow_id, now_us, kind, it.record_id, it.run_id, it.id, sched,
                                pos[0] + 1 if pos else None, dumps(body)))
    changed = 0
    for (state, step, path, next_at, hold), ids in updates.items():
        changed += update_ids(Enrollment, {
            "state": state, "step": step, "path": path, "next_step_at": next_at,
            "claimed_by": engine_id if hold else None,
            "claimed_until": hold,
        }, ids, where={"claimed_by": engine_id})
    if changed != sum(len(v) for v in updates.values()):
        raise _LostClaim()
    _count_items([it for it in items if it.settled],
                 {it.id for it in items if it.settled and it.state in store.FINISHED})
    insert_tuples(HistoryEvent, HISTORY_COLUMNS, history)


# ------------------------------------------------------------------------- waking


def next_step_due(engine_id: str | None = None) -> datetime | None:
    """The earliest instant at which some enrollment's next step is due (or its claim
    can be taken back), for the engine to sleep until; None when nothing is waiting.

    A claim can be taken back when its ``claimed_until`` passes or, sooner, when the
    heartbeat of the engine holding it expires (models/store/claims.py): a killed
    engine's claims wake the others within seconds, not at the end of the claim.
    ``engine_id``'s own claims are left to its own lease.
    """
    E = Enrollment
    rows = list(E.select(E.next_step_at, E.claimed_until, E.claimed_by)
                .where(E.next_step_at.is_null(False) & E.state.in_(ACTIVE_STATES))
                .order_by(E.next_step_at).limit(100).tuples())
    if not rows:
        return None
    beats = None
    best = None
    for due, until, holder in rows:
        due_m = due if isinstance(due, int) else to_micros(due)
        until_m = None if until is None else (until if isinstance(until, int) else to_micros(until))
        if until_m is not None and holder is not None and holder != engine_id:
            if beats is None:
                beats = {k: to_micros(v) for k, v in heartbeat_expiries().items()}
            if holder in beats:
                until_m = min(until_m, beats[holder])
        effective = max(due_m, until_m) if until_m is not None else due_m
        best = effective if best is None else min(best, effective)
    assert best is not None  # rows is not empty
    if len(rows) == 100:
        last = rows[-1][0]
        best = min(best, last if isinstance(last, int) else to_micros(last))
    return from_micros(best)
