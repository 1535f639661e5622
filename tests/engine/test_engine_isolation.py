"""Issue 10, isolation: a workflow whose run cannot be evaluated becomes a failed run
(with a run_failed history event and an inbox notification), moves on and backs off;
every other workflow stays on time. On SQLite and PostgreSQL, with the engine loop."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from engine import workflows
from engine.clock import FakeClock
from engine.engine import Engine
from engine.events import EngineError, RunFailed, RunFinished
from engine.run_failure import failure_backoff
from models.db import db
from models.enums import EventType, RunStatus
from models.schema import HistoryEvent, Notification, Run, Workflow
from models.store import object_types
from models.store.dialect import dialect
from models.timeutil import UTC
from tests.engine.engine_proc import seed_contacts, workflow_body

START = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
EVERY_MINUTE = {"kind": "cron", "cron": "* * * * *", "timezone": "UTC"}


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def any_db(request):
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


def _poison(now: datetime) -> None:
    """A workflow whose criteria the database cannot run: its column was dropped behind
    Rota's back (SQLite: "no such column"; PostgreSQL: UndefinedColumn)."""
    object_types.add_property("contact", "poison_score", "Poison score", "number")
    workflows.save_workflow(workflow_body("Poisoned", EVERY_MINUTE, criteria=[[
        {"property": "poison_score", "operator": "gt", "value": 3}]], suppression=[]), now=now, actor="t")
    if dialect().postgres:
        db.execute_sql('ALTER TABLE "rec_contact" DROP COLUMN "poison_score"')  # its indexes go with it
    else:
        for (name,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index' "
                                      "AND tbl_name = 'rec_contact' AND sql LIKE '%poison_score%'").fetchall():
            db.execute_sql(f'DROP INDEX "{name}"')
        db.execute_sql('ALTER TABLE "rec_contact" DROP COLUMN "poison_score"')


def _runs(name: str) -> list[Run]:
    wf = Workflow.get(Workflow.name == name)
    return list(Run.select().where(Run.workflow == wf.id).order_by(Run.scheduled_for))


def test_a_poisoned_workflow_fails_alone_and_backs_off(any_db):
    seed_contacts(40, START - timedelta(days=30))
    workflows.save_workflow(workflow_body("Healthy", EVERY_MINUTE), now=START, actor="t")
    _poison(START)
    events = []
    clock = FakeClock(START)
    engine = Engine(clock=clock, on_event=events.append, engine_id="iso")
    minutes = 12
    for _ in range(minutes):
        clock.advance(timedelta(minutes=1))
        engine.run_pending()

    healthy = _runs("Healthy")
    assert [r.status for r in healthy] == [RunStatus.SUCCEEDED] * minutes  # every minute, on time
    assert all(r.started_at - r.scheduled_for < timedelta(seconds=60) for r in healthy)

    poisoned = _runs("Poisoned")
    failed = [r for r in poisoned if r.status == RunStatus.FAILED]
    assert failed == poisoned  # keyed on its instant like any run, the error in words
    assert all("poison_score" in r.detail for r in failed)
    # Back-off: after one failure the next minute runs; then it waits 1, 2, 4 … minutes.
    minute = [r.scheduled_for.minute for r in failed]
    assert minute == [1, 2, 4, 7, 12]
    wf = Workflow.get(Workflow.name == "Poisoned")
    assert wf.next_run_at == START.replace(minute=21, second=0)  # 12:30 + 8 min → 09:21
    # One history event and one notification per failed run.
    ev = HistoryEvent.select().where((HistoryEvent.workflow == wf.id) & (HistoryEvent.type == EventType.RUN_FAILED))
    assert sorted(e.run_id for e in ev) == sorted(r.id for r in failed)
    assert "5 failures in a row: backing off, next run 2026-03-02T09:21:00Z" in max(ev, key=lambda e: e.id).detail
    notes = list(Notification.select().where(Notification.workflow == wf.id))
    assert len(notes) == len(failed) and all(n.operator == "everyone" and "Poisoned" in n.message for n in notes)
    # Engine events: one RunFailed per failed run (a RunFinished too, for old handlers); no engine error.
    fails = [e for e in events if isinstance(e, RunFailed)]
    assert [e.in_a_row for e in fails] == [1, 2, 3, 4, 5]
    assert fails[-1].next_run_at == wf.next_run_at and fails[-1].run_id == failed[-1].id
    assert all(isinstance(e, RunFinished) and e.status == RunStatus.FAILED for e in fails)
    assert not any(isinstance(e, EngineError) for e in events)


def test_the_loop_keeps_other_workflows_on_time(any_db):
    """The engine thread: the poisoned workflow is earliest due every minute, and the
    loop neither stalls nor backs off globally (issue 10: it retried forever)."""
    seed_contacts(20, START - timedelta(days=30))
    _poison(START)
    # Saving another workflow of the type after the poisoning works (index upkeep for
    # the poisoned criteria fails quietly, in the log).
    workflows.save_workflow(workflow_body("Healthy", EVERY_MINUTE), now=START, actor="t")
    events = []
    clock = FakeClock(START)
    engine = Engine(clock=clock, on_event=events.append, engine_id="iso-loop").start()
    try:
        for minute in range(1, 6):
            clock.advance(timedelta(minutes=1))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with db.connection_context():
                    done = Run.select().join(Workflow, on=(Run.workflow == Workflow.id)).where(
                        Workflow.name == "Healthy").count()
                if done >= minute:
                    break
                time.sleep(0.02)
            assert done == minute, f"healthy workflow stalled at minute {minute}"
    finally:
        assert engine.stop(timeout=10)
    assert any(isinstance(e, RunFailed) for e in events)
    assert not any(isinstance(e, EngineError) for e in events)


def test_a_fixed_workflow_recovers(any_db):
    seed_contacts(10, START - timedelta(days=30))
    _poison(START)
    clock = FakeClock(START)
    engine = Engine(clock=clock, engine_id="iso-fix")
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        engine.run_pending()
    assert [r.status for r in _runs("Poisoned")] == [RunStatus.FAILED, RunStatus.FAILED]  # 09:03 backed off
    assert Workflow.get(Workflow.name == "Poisoned").next_run_at == START.replace(minute=4, second=0)
    body = workflows.workflow_body(workflows.get_workflow("Poisoned"))
    body["criteria"] = [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]]
    workflows.save_workflow(body, now=clock.now(), actor="t")  # the fix ends the back-off
    assert Workflow.get(Workflow.name == "Poisoned").next_run_at == START.replace(minute=4, second=0)
    clock.advance(timedelta(minutes=1))
    engine.run_pending()
    assert [r.status for r in _runs("Poisoned")][-1] == RunStatus.SUCCEEDED


def test_failure_backoff_grows_to_an_hour():
    assert failure_backoff(1) == timedelta(0)
    assert [failure_backoff(n).total_seconds() for n in (2, 3, 4)] == [60, 120, 240]
    assert failure_backoff(50) == timedelta(hours=1)


def test_rota_engine_prints_a_failed_run_as_one_line():
    """`rota engine`'s terminal: a RunFailed (a RunFinished) is one text or JSON line."""
    import io
    import json as jsonlib

    from tui.commandline.engine_cmd import EventPrinter

    event = RunFailed(at=START, workflow_id=1, workflow_name="Poisoned", run_id=7, scheduled_for=START,
                      status=RunStatus.FAILED, matched=0, enrolled=0, suppressed=0, duration_ms=0.0, lag_ms=0.0,
                      detail="no such column: poison_score", in_a_row=3, next_run_at=START + timedelta(minutes=4))
    out = io.StringIO()
    EventPrinter("json", out)(event)
    EventPrinter("text", out)(event)
    json_line, text_line = out.getvalue().splitlines()
    record = jsonlib.loads(json_line)
    assert (record["event"], record["status"], record["in_a_row"]) == ("run", "failed", 3)
    assert "failed: no such column: poison_score" in text_line
