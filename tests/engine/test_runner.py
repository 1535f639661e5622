"""Runs, manual enrollment, misfire planning and ``rota runs`` — on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import peewee as pw
import pytest

from engine import runner, workflows
from engine.clock import FakeClock
from engine.due import plan_misfires
from engine.engine import Engine
from engine.run import RunExists, enroll_manual, execute_run
from models import criteria as crit
from models.errors import RotaError
from models.objects import record_model
from models.schema import Enrollment, EnrollmentDaily, HistoryEvent, Run, Workflow
from models.store.dialect import write_transaction
from models.timeutil import UTC
from tests.engine.engine_proc import expected_counts, seed_contacts, workflow_body
from tui.cli import main as cli_main

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday
DAILY = {"kind": "daily", "time": "08:00", "timezone": "UTC"}
N = 300


@pytest.fixture
def seeded(any_db):
    seed_contacts(N, T0 - timedelta(days=100))
    return any_db


def _wf(name="W", schedule=DAILY, **extra):
    return workflows.save_workflow(workflow_body(name, schedule, **extra), now=T0, actor="test")


# ----------------------------------------------------------------- the run itself


def test_run_enrolls_matching_unsuppressed_records_set_based(seeded):
    wf = _wf()
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    run = execute_run(Workflow.get_by_id(wf.id), at, now=at, engine_id="e1")
    want_enrolled, want_suppressed = expected_counts(N)
    assert (run.status, run.enrolled, run.suppressed, run.matched) == (
        "succeeded", want_enrolled, want_suppressed, want_enrolled + want_suppressed)
    R = record_model("contact")
    ids = {e.record_id for e in Enrollment.select().where(Enrollment.run == run.id)}
    want = {r.id for r in R.select() if r.lifecycle_stage == "customer" and r.email is not None}
    assert ids == want
    supp = {h.record_id for h in HistoryEvent.select().where((HistoryEvent.run == run.id)
                                                             & (HistoryEvent.type == "suppressed"))}
    assert supp == {r.id for r in R.select() if r.lifecycle_stage == "customer" and r.email is None}
    assert all(h.scheduled_for == at for h in HistoryEvent.select().where(HistoryEvent.run == run.id))
    # No actions: enrollments are finished at once; nothing is left for the executor.
    states = {(e.state, e.next_step_at) for e in Enrollment.select().where(Enrollment.run == run.id)}
    assert states == {("done", None)}
    daily = EnrollmentDaily.get(EnrollmentDaily.workflow == wf.id)
    assert (daily.enrolled, daily.suppressed, daily.runs) == (want_enrolled, want_suppressed, 1)


def test_run_with_actions_leaves_enrollments_for_the_executor(seeded):
    wf = _wf(actions=[{"type": "create_task", "title": "Call {firstname}", "due_in_days": 2}])
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    run = execute_run(Workflow.get_by_id(wf.id), at, now=at)
    rows = list(Enrollment.select().where(Enrollment.run == run.id))
    assert rows and {(e.state, e.step, e.next_step_at, e.manual) for e in rows} == {("active", 0, at, False)}


def test_same_instant_twice_is_refused_by_the_unique_key(seeded):
    wf = Workflow.get_by_id(_wf().id)
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    execute_run(wf, at, now=at)
    before = Enrollment.select().count()
    with pytest.raises(pw.IntegrityError):
        execute_run(wf, at, now=at + timedelta(seconds=1))
    assert Enrollment.select().count() == before
    assert Run.select().where(Run.workflow == wf.id).count() == 1


def test_a_second_run_row_is_refused_without_a_failed_statement(seeded):
    """The run row is INSERT … ON CONFLICT DO NOTHING: the conflict is RunExists, and
    the enclosing transaction goes on (on PostgreSQL a failed statement would abort it)."""
    wf = Workflow.get_by_id(_wf().id)
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with write_transaction():
        execute_run(wf, at, now=at)
        with pytest.raises(RunExists):
            execute_run(wf, at, now=at + timedelta(seconds=1))
        assert Run.select().where(Run.workflow == wf.id).count() == 1  # still usable
    assert Enrollment.select().count() == expected_counts(N)[0]


@pytest.mark.parametrize("late", [timedelta(seconds=5), timedelta(hours=3), timedelta(days=2, minutes=1)])
def test_an_instant_that_has_a_run_already_is_done_and_the_workflow_moves_on(seeded, db_url, late):
    """next_run_at left on (or before) an instant that has a run: on time, within the
    grace window (coalesced) and beyond it (missed) — never a unique-key error, never
    a second run or enrollment, and the workflow's next run moves past it."""
    wf = _wf()
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    first = execute_run(Workflow.get_by_id(wf.id), at, now=at)
    enrolled = Enrollment.select().count()
    Workflow.update(next_run_at=at, last_scheduled_for=None).where(Workflow.id == wf.id).execute()
    now = at + late
    engine = Engine(db_url, clock=FakeClock(now), engine_id="e1")
    engine.run_pending()
    engine.run_pending()
    assert engine.status.last_error is None
    runs = list(Run.select().where(Run.workflow == wf.id).order_by(Run.scheduled_for))
    assert [r.scheduled_for for r in runs if r.scheduled_for == at] == [at]
    assert runs[0].id == first.id and runs[0].status == "succeeded"
    fresh = Workflow.get_by_id(wf.id)
    assert fresh.next_run_at > now and fresh.last_scheduled_for >= at
    # Only instants after the one already run are new (the day after, when 2 days late).
    later = [r for r in runs if r.scheduled_for > at]
    assert len(later) == (late.days and 2)
    assert Enrollment.select().count() == enrolled + sum(r.enrolled for r in later)
    assert not HistoryEvent.select().where(HistoryEvent.scheduled_for == at,
                                           HistoryEvent.type.in_(("missed", "coalesced"))).exists()


def test_every_occurrence_reenrolls_and_drops_records_that_stopped_matching(seeded):
    wf = Workflow.get_by_id(_wf().id)
    R = record_model("contact")
    first = execute_run(wf, datetime(2026, 3, 2, 8, tzinfo=UTC), now=datetime(2026, 3, 2, 8, tzinfo=UTC))
    R.update(lifecycle_stage="lead").where(R.id == 1).execute()  # 1 was an enrolled customer
    second = execute_run(wf, datetime(2026, 3, 3, 8, tzinfo=UTC), now=datetime(2026, 3, 3, 8, tzinfo=UTC))
    ids1 = {e.record_id for e in Enrollment.select().where(Enrollment.run == first.id)}
    ids2 = {e.record_id for e in Enrollment.select().where(Enrollment.run == second.id)}
    assert 1 in ids1 and 1 not in ids2
    assert ids2 == ids1 - {1}  # everyone else enrolled again
    assert EnrollmentDaily.select(pw.fn.SUM(EnrollmentDaily.enrolled)).scalar() == len(ids1) + len(ids2)


def test_a_failing_run_is_recorded_failed_and_the_workflow_moves_on(seeded, monkeypatch):
    wf = _wf()

    def broken(*a, **k):
        raise RotaError('property "gone" does not exist')

    monkeypatch.setattr(crit, "compile_criteria", broken)
    at = datetime(2026, 3, 2, 8, 0, 0, 5000, tzinfo=UTC)
    out = runner.process_next_due(at, "e1")
    assert out.failed and "gone" in out.failed
    run = Run.get(Run.workflow == wf.id)
    assert run.status == "failed" and "gone" in run.detail and run.scheduled_for == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert Enrollment.select().count() == 0
    assert Workflow.get_by_id(wf.id).next_run_at == datetime(2026, 3, 3, 8, tzinfo=UTC)


# ------------------------------------------------------------------ misfire planning


def test_plan_run_once_late_within_grace_runs_newest_and_coalesces_older():
    due = [datetime(2026, 1, 1, h, m, tzinfo=UTC) for h, m in ((8, 0), (9, 0), (10, 0), (10, 15))]
    plan = plan_misfires(due, datetime(2026, 1, 1, 10, 30, tzinfo=UTC), "run_once_late", timedelta(hours=1))
    assert plan.run_at == due[-1]
    assert plan.coalesced == [due[2]]  # 30 min late: inside the window
    assert plan.missed == due[:2]  # 1.5 h and 2.5 h late: beyond it


def test_plan_beyond_grace_records_all_missed():
    due = [datetime(2026, 1, 1, h, tzinfo=UTC) for h in (8, 9)]
    plan = plan_misfires(due, datetime(2026, 1, 1, 11, tzinfo=UTC), "run_once_late", timedelta(hours=1))
    assert plan.run_at is None and plan.coalesced == [] and plan.missed == due


def test_plan_record_missed_runs_only_an_on_time_occurrence():
    due = [datetime(2026, 1, 1, 8, tzinfo=UTC), datetime(2026, 1, 1, 9, tzinfo=UTC)]
    on_time = plan_misfires(due, due[-1] + timedelta(seconds=2), "record_missed", timedelta(hours=1))
    assert on_time.run_at == due[-1] and on_time.missed == [due[0]] and on_time.coalesced == []
    late = plan_misfires(due, due[-1] + timedelta(minutes=5), "record_missed", timedelta(hours=1))
    assert late.run_at is None and late.missed == due


def test_plan_of_an_incomplete_chunk_runs_nothing():
    due = [datetime(2026, 1, 1, 8, tzinfo=UTC)]
    plan = plan_misfires(due, datetime(2026, 1, 1, 8, 1, tzinfo=UTC), "run_once_late", timedelta(hours=1),
                         complete=False)
    assert plan.run_at is None and plan.missed == due


# --------------------------------------------------------------- manual enrollment


def test_manual_enrollment_ignores_criteria_but_suppression_wins(seeded):
    wf = _wf()
    now = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    run = enroll_manual("W", 2, now=now)  # 2 is a lead: criteria do not apply
    assert (run.kind, run.scheduled_for, run.enrolled, run.suppressed) == ("manual", None, 1, 0)
    e = Enrollment.get(Enrollment.run == run.id)
    assert (e.record_id, e.manual, e.enrolled_at) == (2, True, now)
    refused = enroll_manual("W", 5, now=now)  # 5 has no e-mail: suppressed
    assert (refused.enrolled, refused.suppressed) == (0, 1)
    assert not Enrollment.select().where(Enrollment.run == refused.id).exists()
    ev = HistoryEvent.get(HistoryEvent.run == refused.id)
    assert (ev.type, ev.record_id) == ("suppressed", 5)
    daily = EnrollmentDaily.get(EnrollmentDaily.workflow == wf.id)
    assert (daily.enrolled, daily.suppressed, daily.runs) == (1, 1, 2)


def test_manual_enrollment_errors(seeded):
    _wf()
    with pytest.raises(RotaError, match="no contact with id 99999"):
        enroll_manual("W", 99999)
    with pytest.raises(RotaError, match="no workflow"):
        enroll_manual("Nope", 1)
    workflows.set_status("W", "paused", now=T0)
    with pytest.raises(RotaError, match="paused"):
        enroll_manual("W", 1)


def test_manual_enrollment_wakes_the_engine(seeded):
    _wf()
    woken = []
    unsubscribe = workflows.subscribe(woken.append)
    try:
        enroll_manual("W", 3)
    finally:
        unsubscribe()
    assert woken == [Workflow.get(Workflow.name == "W").id]


# ------------------------------------------------------------------ the command line


def test_cli_enroll_and_runs_json(seeded, db_url, capsys):
    _wf()
    out = runner.process_next_due(datetime(2026, 3, 2, 8, 0, 1, tzinfo=UTC), "e1")
    assert out.run is not None
    assert cli_main(["enroll", "W", "4", "--db", db_url]) == 0
    assert "enrolled record 4" in capsys.readouterr().out
    assert cli_main(["enroll", "W", "5", "--db", db_url]) == 0
    assert "suppression" in capsys.readouterr().out
    assert cli_main(["enroll", "W", "424242", "--db", db_url]) == 2
    assert "no contact with id 424242" in capsys.readouterr().err
    assert cli_main(["runs", "W", "--json", "--db", db_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3
    scheduled = [r for r in rows if r["scheduled_for"] is not None]
    assert scheduled[0]["scheduled_for"] == "2026-03-02T08:00:00Z"
    assert scheduled[0]["started_at"] == "2026-03-02T08:00:01Z"
    assert (scheduled[0]["status"], scheduled[0]["enrolled"], scheduled[0]["suppressed"]) == (
        "succeeded", *expected_counts(N))
    for r in rows:
        assert set(r) >= {"scheduled_for", "started_at", "finished_at", "status", "matched", "enrolled", "suppressed"}
    # Newest first: the manual runs (now, real time) come before the 2026-03-02 run.
    assert rows[-1]["scheduled_for"] == "2026-03-02T08:00:00Z"
    assert cli_main(["runs", "W", "--db", db_url]) == 0
    assert "2026-03-02 08:00:00 UTC" in capsys.readouterr().out  # tables: the operator's zone
    assert cli_main(["runs", "Nope", "--db", db_url]) == 2


def test_postgresql_engines_skip_a_workflow_another_engine_has_claimed(pg_db):
    """SELECT … FOR UPDATE SKIP LOCKED: a due workflow locked by one engine's run
    transaction is skipped by another, which takes the next due one instead."""
    import threading

    from models.db import db

    seed_contacts(20, T0 - timedelta(days=1))
    a = _wf("A")
    b = _wf("B")
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_engine():  # holds A's row lock as a long run would
        with db.atomic():
            Workflow.select().where(Workflow.id == a.id).for_update().get()
            locked.set()
            release.wait(10)
        db.close()
        done.set()

    thread = threading.Thread(target=other_engine)
    thread.start()
    try:
        assert locked.wait(10)
        now = datetime(2026, 3, 2, 8, 0, 1, tzinfo=UTC)
        first = runner.process_next_due(now, "e2")
        assert first is not None and first.workflow_id == b.id and first.run is not None
        assert runner.process_next_due(now, "e2") is None  # A is held elsewhere: skipped, not waited for
    finally:
        release.set()
        thread.join(10)
    assert done.is_set()
    second = runner.process_next_due(now, "e2")
    assert second is not None and second.workflow_id == a.id
    assert Run.select().count() == 2
