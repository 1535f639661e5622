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
   group (set-based where it can). Network work (webhooks, e-mail) is handed to the
   engine's network pool (``steps/run_network.py``) and never waited for: those
   enrollments stay claimed, on a heartbeat lease, until their calls come back and a
   later pass records them (``_apply_network``). Then one transaction writes the
   steps' database effects, the new step pointers and the history events — together. A crash therefore either
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
from datetime import datetime, timedelta

import peewee as pw

from engine.steps import run_db, run_network
from engine.steps.context import Context, Item, needs_record
from engine.steps.positions import (
    decode_path,
    encode_path,
    path_label,
    resolve,
    step_at,
)
from engine.steps.run_db import db_error_types
from engine.steps.run_network import is_external
from models.db import db
from models.schema import Enrollment, HistoryEvent, Run, Workflow
from models.settings import load_settings
from models.store.dialect import dialect, write_transaction
from models.store.steps import insert_tuples, update_ids
from models.timeutil import from_micros, to_micros

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than a round can take (webhook timeouts are ≤ 300 s)
PARK = timedelta(seconds=60)  # how long a paused/draft workflow's enrollments are set aside
MAX_ROUNDS = 200  # a bound on steps per enrollment per call; the rest resumes next call
ACTIVE_STATES = ("active", "waiting")
HISTORY_COLUMNS = ["workflow", "at", "type", "record_id", "run", "enrollment", "scheduled_for", "step", "detail"]


class _LostClaim(Exception):
    """Another engine took over an enrollment this one held (its lease ran out)."""


_tx = write_transaction  # IMMEDIATE on SQLite: writers queue on the busy timeout


# ------------------------------------------------------------------------ claiming


def _claim(now: datetime, engine_id: str, limit: int) -> list[Item]:
    """Take up to ``limit`` due, unclaimed (or lease-expired, or our own) enrollments.

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
           f'AND (e."claimed_by" IS NULL OR e."claimed_until" < {mark} OR e."claimed_by" = {mark}) '
           f'ORDER BY e."next_step_at" LIMIT {int(limit)}' + d.skip_locked_sql("e"))
    now_us = to_micros(now)
    with _tx():
        cursor = db.cursor()
        cursor.execute(sql, (now_us, *ACTIVE_STATES, now_us, engine_id))
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


def run_due_steps(now: datetime, engine_id: str, limit: int = 500) -> int:
    """Claim up to ``limit`` due enrollments and run their steps.

    Every enrollment is taken as far as it can go now: to its end, a delay, a pause
    day, a retry wait or a failure. Returns the outcomes recorded — steps run, plus
    one for each enrollment that only waited, left or was parked — so 0 means nothing
    was due and ``while run_due_steps(now, id): pass`` drains everything due. Safe to
    call from several engines at once.
    """
    applied = _apply_network(now, engine_id)
    items = _claim(now, engine_id, limit)
    if not items:
        return applied
    settings = load_settings()
    wf_ids = sorted({it.workflow_id for it in items})
    contexts = {wf.id: Context(wf, settings, now) for wf in Workflow.select().where(Workflow.id.in_(wf_ids))}
    live = [it for it in items if it.workflow_id in contexts]  # a deleted workflow took its enrollments
    steps = applied
    try:
        for _ in range(MAX_ROUNDS):
            if not live:
                break
            try:
                steps += _round(now, engine_id, contexts, live)
            except _LostClaim:  # the round rolled back; let go of what is still ours
                break
            live = [it for it in live if it.state == "active" and it.next_at is not None and it.next_at <= now
                    and "hold_until" not in it.extra]
    finally:
        _release(engine_id, live)
    return steps


def _round(now: datetime, engine_id: str, contexts: dict[int, Context], live: list[Item]) -> int:
    for it in live:
        it.settled, it.events, it.steps_run = False, [], 0
    groups: dict[tuple, list[Item]] = {}
    by_wf: dict[int, list[Item]] = {}
    for it in live:
        by_wf.setdefault(it.workflow_id, []).append(it)
    for wf_id, its in by_wf.items():
        ctx = contexts[wf_id]
        if ctx.status != "active":
            for it in its:
                it.state, it.next_at, it.settled = "waiting", now + PARK, True
            continue
        leaves = ctx.unenroll_test()
        pending = []
        for it in its:
            pos = resolve(ctx.actions, it.pos) if it.pos else None
            if pos is None:
                ctx.finish(it)
                continue
            if pos != it.pos:
                it.pos, it.tries = pos, 0
            pending.append(it)
        full = leaves is not None or any(needs_record(step_at(ctx.actions, p))
                                         for p in {it.pos for it in pending})
        ctx.load_records(sorted({it.record_id for it in pending}), full=full)
        for it in pending:
            pos = it.pos
            record = ctx.records.get(it.record_id)
            if record is None:
                ctx.fail(it, pos, f"{ctx.type_name} {it.record_id} no longer exists")
                continue
            if leaves is not None and leaves(record):
                ctx.unenroll(it, "meets the unenrollment criteria")
                continue
            until = ctx.paused_until(it)
            if until is not None:
                ctx.wait(it, "paused", pos, pos, until,
                         {"pause_day": now.astimezone(ctx.tz).date().isoformat()})
                continue
            groups.setdefault((wf_id, pos), []).append(it)

    for (wf_id, pos), its in groups.items():  # to the network pool, outside any transaction
        ctx = contexts[wf_id]
        step = step_at(ctx.actions, pos)
        if is_external(step):
            run_network.submit_group(ctx, pos, step, its, engine_id)

    with _tx():
        for (wf_id, pos), its in groups.items():
            todo = [it for it in its if not it.settled]
            if not todo:
                continue
            ctx = contexts[wf_id]
            step = step_at(ctx.actions, pos)
            try:
                with db.atomic():  # a savepoint: one bad group does not sink the round
                    run_db.run_db_step(ctx, pos, step, todo)
            except db_error_types():
                raise
            except Exception as exc:  # a step that cannot run: recorded, never retried forever
                for it in todo:
                    it.events, it.settled, it.steps_run = [], False, 0
                    ctx.fail(it, pos, f"internal error: {type(exc).__name__}: {exc}".splitlines()[0])
        _write(now, engine_id, contexts, live)
    # An enrollment that only waited, left or was parked still counts once, so that
    # "0" means exactly "nothing was due" and callers can loop until it.
    return sum(it.steps_run or 1 for it in live)


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
        continuing = it.state == "active" and it.next_at is not None and it.next_at <= now
        total = len(contexts[it.workflow_id].actions)
        step = it.pos[0] if it.pos else total
        next_at = hold or it.next_at
        key = (it.state, step, encode_path(it.pos, it.tries) if it.pos else None,
               to_micros(next_at) if next_at else None, continuing, hold)
        updates.setdefault(key, []).append(it.id)
        if it.events:
            sched = to_micros(it.scheduled_for) if it.scheduled_for else None
            for kind, pos, detail in it.events:
                body = {**detail, "path": path_label(pos)} if pos else detail
                history.append((it.workflow_id, now_us, kind, it.record_id, it.run_id, it.id, sched,
                                pos[0] + 1 if pos else None, dumps(body)))
    changed = 0
    lease_end = now + LEASE
    for (state, step, path, next_at, continuing, hold), ids in updates.items():
        changed += update_ids(Enrollment, {
            "state": state, "step": step, "path": path, "next_step_at": next_at,
            "claimed_by": engine_id if continuing or hold else None,
            "claimed_until": hold or (lease_end if continuing else None),
        }, ids, where={"claimed_by": engine_id})
    if changed != sum(len(v) for v in updates.values()):
        raise _LostClaim()
    insert_tuples(HistoryEvent, HISTORY_COLUMNS, history)


# ------------------------------------------------------------------------- network


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
            items.append(flight.item)
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


# ------------------------------------------------------------------------- waking


def next_step_due() -> datetime | None:
    """The earliest instant at which some enrollment's next step is due (or its lease
    runs out), for the engine to sleep until; None when nothing is waiting."""
    E = Enrollment
    rows = list(E.select(E.next_step_at, E.claimed_until)
                .where(E.next_step_at.is_null(False) & E.state.in_(ACTIVE_STATES))
                .order_by(E.next_step_at).limit(100).tuples())
    if not rows:
        return None
    best = None
    for due, until in rows:
        due_m = due if isinstance(due, int) else to_micros(due)
        until_m = None if until is None else (until if isinstance(until, int) else to_micros(until))
        effective = max(due_m, until_m) if until_m is not None else due_m
        best = effective if best is None else min(best, effective)
    if len(rows) == 100:
        last = rows[-1][0]
        best = min(best, last if isinstance(last, int) else to_micros(last))
    return from_micros(best)
