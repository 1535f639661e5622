"""The network pass of the step executor (engine/executor.py): webhooks and e-mail for
the groups the database pass left claimed, handed to the engine's network pool and
never waited for; recording what came back; the heartbeat that keeps calls in flight
claimed; and, at shutdown, recording what did not come back.
"""
from __future__ import annotations

import json
from datetime import datetime

from engine.database_pass import Group
from engine.step_claims import HISTORY_COLUMNS, LostClaim, continues, count_items, items_from_rows, release
from engine.steps import run_db, run_network
from engine.steps.context import Context, Item
from engine.steps.positions import (
    advance,
    encode_path,
    path_label,
    step_of,
)
from models.enums import FINISHED_STATES, EnrollmentState
from models.schema import Enrollment, HistoryEvent
from models.settings import load_settings
from models.store import steps as store
from models.store.bulk import insert_tuples, update_ids
from models.store.dialect import write_transaction
from models.store.step_rows import enrollment_rows, held_by
from models.store.workflows import workflows_by_ids
from models.timeutil import to_micros


def network_pass(now: datetime, engine_id: str, groups: list[Group]) -> int:
    """Network steps (webhooks, e-mail) for the groups the database pass left claimed:
    each call is rendered here and handed to the engine's network pool
    (``run_network.submit_group``, outside any transaction), never waited for. The
    enrollments stay claimed on a heartbeat lease while in flight; a later pass records
    what came back (``apply_network``). Skipped and rate-limited ones are written now.
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
        with write_transaction():
            write_items(now, engine_id, contexts, items)
    except LostClaim:
        release(engine_id, items)
        return 0
    except BaseException:
        release(engine_id, items)
        raise
    return sum(it.steps_run or 1 for it in items)


def _claimed_ids(g: int) -> list[tuple[int, int, int]]:
    return store.group_ids(g)


def _load_items(ids: list[int], now: datetime) -> list[Item]:
    items = items_from_rows(enrollment_rows(ids), now)
    items.sort(key=lambda it: it.id)
    return items


def apply_network(now: datetime, engine_id: str, done=None, interrupted=()) -> int:
    """Record the network calls that came back (and, at shutdown, those that did not)
    in one transaction; returns the outcomes recorded. Never waits on the network."""
    done = run_network.take_results(engine_id) if done is None else done
    if not done and not interrupted:
        return 0
    flights = [f for f, _ in done] + list(interrupted)
    settings = load_settings()
    wf_ids = sorted({f.item.workflow_id for f in flights})
    contexts = {wf.id: Context(wf, settings, now) for wf in workflows_by_ids(wf_ids)}
    with write_transaction():
        ours = set(held_by([f.item.id for f in flights], engine_id))  # a lapsed hold was taken over
        items = []
        by_group: dict[tuple, tuple[dict, list[Item]]] = {}
        for flight, result in done:
            ctx = contexts.get(flight.item.workflow_id)
            if ctx is None or flight.item.id not in ours:
                continue
            run_network.apply_result(ctx, flight, result)
            it = flight.item
            if it.settled and it.state == EnrollmentState.FAILED and continues(ctx):
                it.pos, it.tries = advance(ctx.actions, flight.pos), 0
                it.state, it.next_at = (EnrollmentState.ACTIVE, now) if it.pos else (EnrollmentState.DONE, None)
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
                it.state, it.next_at, it.settled = EnrollmentState.ACTIVE, now, True
        write_items(now, engine_id, contexts, items)
    return sum(it.steps_run or 1 for it in items)


def renew_network_claims(engine_id: str, now: datetime) -> int:
    """The heartbeat: push the lease of every enrollment in flight on (few statements)."""
    ids = run_network.in_flight_ids(engine_id)
    if not ids:
        return 0
    until = run_network.hold_until(engine_id, now)
    with write_transaction():
        return update_ids(Enrollment, {"claimed_until": until, "next_step_at": until}, ids,
                          where={"claimed_by": engine_id})


def stop_network(engine_id: str, now: datetime, grace: float) -> tuple[int, int]:
    """Shutdown: wait at most ``grace`` seconds for calls in flight, record what came
    back, and record the rest as retries due at once, their claims released.
    Returns (recorded, interrupted)."""
    done, unfinished = run_network.stop(engine_id, grace)
    if not done and not unfinished:
        return 0, 0
    apply_network(now, engine_id, done=done, interrupted=unfinished)
    return len(done), len(unfinished)


def write_items(now: datetime, engine_id: str, contexts: dict[int, Context], items: list[Item]) -> None:
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
        raise LostClaim()
    count_items([it for it in items if it.settled],
                 {it.id for it in items if it.settled and it.state in FINISHED_STATES})
    insert_tuples(HistoryEvent, HISTORY_COLUMNS, history)
