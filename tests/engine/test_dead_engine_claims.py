"""A dead engine's step claims come back as soon as its heartbeat lease expires (issue 10
§2), on SQLite and PostgreSQL — not after the 10-minute claim a database pass puts on
the enrollments it hands to the network pass.

Engine A runs a database pass (its database step runs and commits; the enrollments that
reached the webhook stay claimed by A until ``claimed_until`` = now + 10 minutes) and dies
before its network pass: its heartbeat is never renewed. Engine B leaves the claims
alone while A's heartbeat is alive, wakes when it expires, takes them, and finishes
every enrollment: each step ran exactly once, none was skipped.
"""
from __future__ import annotations

from datetime import timedelta

from engine import database_pass, executor, runner, step_claims
from engine.steps import run_network
from engine.workflows import get_workflow
from models.objects import record_model
from models.schema import Enrollment, Task
from models.store import claims
from tests.engine.historyutil import all_events
from tests.engine.servers import HTTPServer
from tests.engine.test_actions import T0, make_workflow

RUN_AT = T0 + timedelta(minutes=1)
HEARTBEAT = timedelta(seconds=15)
N = 12


def _drain(now, engine_id: str) -> None:
    run_network.attach(engine_id)
    for _ in range(100):
        if not executor.run_due_steps(now, engine_id) and not run_network.wait(engine_id, 30):
            return


def _tasks(title: str) -> list[int]:
    return sorted(t.record_id for t in Task.select().where(Task.title.startswith(title)))


def test_a_dead_engines_claims_come_back_when_its_heartbeat_expires(any_db):
    R = record_model("contact")
    R.insert_many([{"firstname": f"P{i}", "createdate": T0, "updated_at": T0} for i in range(N)]).execute()
    ids = sorted(r.id for r in R.select(R.id))
    with HTTPServer() as hook:
        wf = make_workflow([{"type": "create_task", "title": "A {firstname}", "due_in_days": 1},
                            {"type": "webhook", "url": hook.url},
                            {"type": "create_task", "title": "B {firstname}", "due_in_days": 1}])
        runner.execute_run(get_workflow(wf.id), RUN_AT, now=RUN_AT)

        # Engine A: alive (a heartbeat), one database pass, then it dies.
        claims.heartbeat("engine-a", RUN_AT, RUN_AT + HEARTBEAT)
        count, network = database_pass.database_pass(RUN_AT, "engine-a", step_claims.BATCH)
        assert network and _tasks("A ") == ids
        held = list(Enrollment.select())
        assert {(e.claimed_by, e.claimed_until) for e in held} == {("engine-a", RUN_AT + step_claims.LEASE)}

        # Engine B while A's heartbeat is alive: nothing to take; it wakes at the expiry.
        alive = RUN_AT + timedelta(seconds=5)
        claims.heartbeat("engine-b", alive, alive + HEARTBEAT)
        assert executor.run_due_steps(alive, "engine-b") == 0
        assert executor.next_step_due("engine-b") == RUN_AT + HEARTBEAT  # not RUN_AT + 10 minutes
        assert hook.requests == []

        # A's heartbeat expired: B takes the claims at once and finishes the work.
        later = RUN_AT + HEARTBEAT + timedelta(seconds=1)
        claims.heartbeat("engine-b", later, later + HEARTBEAT)
        _drain(later, "engine-b")

    rows = list(Enrollment.select())
    assert {(e.state, e.claimed_by) for e in rows} == {("done", None)}
    assert _tasks("A ") == ids  # the database step A committed is not run again
    assert _tasks("B ") == ids  # and nothing was skipped
    assert len(hook.requests) == N
    succeeded = all_events("step_succeeded")
    assert len(succeeded) == 3 * N  # each of the three steps once per record
    assert sorted((e.record_id, e.step) for e in succeeded) == sorted(
        (rid, step) for rid in ids for step in (1, 2, 3))
    assert not all_events("step_failed") and not all_events("step_retry")


def test_a_live_engines_network_claims_are_left_alone(any_db):
    """The other side: while the holder's heartbeat is alive (and its claim not run
    out), another engine neither takes the enrollments nor wakes for them early."""
    R = record_model("contact")
    R.insert_many([{"firstname": f"P{i}", "createdate": T0, "updated_at": T0} for i in range(3)]).execute()
    with HTTPServer() as hook:
        wf = make_workflow([{"type": "webhook", "url": hook.url}])
        runner.execute_run(get_workflow(wf.id), RUN_AT, now=RUN_AT)
        claims.heartbeat("engine-a", RUN_AT, RUN_AT + step_claims.LEASE * 2)  # alive throughout
        database_pass.database_pass(RUN_AT, "engine-a", step_claims.BATCH)
        for minutes in (1, 9):
            t = RUN_AT + timedelta(minutes=minutes)
            assert executor.run_due_steps(t, "engine-b") == 0
        assert executor.next_step_due("engine-b") == RUN_AT + step_claims.LEASE
        assert hook.requests == []

