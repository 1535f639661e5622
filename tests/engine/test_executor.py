"""Claiming and crash safety: a killed executor never runs a step twice or skips one
(on SQLite and on PostgreSQL); engines sharing a database never run the same
enrollment's step twice."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import peewee as pw
import psycopg2

from engine import executor, runner, step_claims
from engine.workflows import get_workflow, set_status
from models.bootstrap import open_database
from models.db import close_database, is_postgres
from models.objects import record_model
from models.schema import Enrollment, HistoryEvent, Notification, Task
from models.store.bulk import update_ids
from tests.dbutil import pg_base_url
from tests.engine.historyutil import all_events
from tests.engine.test_actions import T0, make_workflow

ROOT = Path(__file__).resolve().parents[2]
RUN_AT = T0 + timedelta(minutes=1)
CRASH_STEPS = [
    {"type": "set_property", "property": "city", "value": "X{firstname}"},
    {"type": "create_task", "title": "A {firstname}", "due_in_days": 1},
    {"type": "notify", "to": ["olga"], "message": "N {firstname}"},
    {"type": "create_task", "title": "B {firstname}", "due_in_days": 1},
    {"type": "add_to_list", "list": "Seen"},
]


def _records(n: int) -> None:
    m = record_model("contact")
    rows = [{"firstname": f"P{i}", "createdate": T0, "updated_at": T0} for i in range(n)]
    for i in range(0, n, 500):
        m.insert_many(rows[i:i + 500]).execute()


def _enroll(actions, n: int):
    _records(n)
    wf = make_workflow(actions)
    runner.execute_run(get_workflow(wf.id), RUN_AT, now=RUN_AT)
    return wf


def crash_worker(url: str) -> None:
    """Run in a subprocess: execute steps until nothing is due, in small batches."""
    open_database(url)
    print("ready", flush=True)
    # Batches of 2: the set-based executor does 800 records in batches of 20 in under
    # 0.1 s, before the earliest kill; 400 small passes take about a second.
    while executor.run_due_steps(RUN_AT, "crashy", limit=2):
        pass
    print("finished", flush=True)


def _bury(url: str) -> None:
    """PostgreSQL: end the killed worker's server session, as the server does when it
    notices the dead client (its transaction rolls back), and wait until it is gone;
    until then its row locks would make the next worker skip those enrollments."""
    tag = parse_qs(urlparse(url).query)["application_name"][0]
    conn = psycopg2.connect(pg_base_url())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (tag,))
            for _ in range(200):
                cur.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s", (tag,))
                if cur.fetchone()[0] == 0:
                    return
                time.sleep(0.05)
        raise AssertionError("the killed worker's PostgreSQL session did not end")
    finally:
        conn.close()


def test_sigkill_at_random_moments_never_repeats_or_skips_a_step(any_db, db_url):
    n = 800
    _enroll(CRASH_STEPS, n)
    pg = is_postgres()
    url = f"{db_url}&application_name=rota_crash_{uuid.uuid4().hex[:10]}" if pg else db_url
    rng = random.Random(7)
    code = f"from tests.engine.test_executor import crash_worker; crash_worker({url!r})"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    interrupted = 0
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        if attempt < 3:
            time.sleep(rng.uniform(0.05, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            if pg:
                _bury(url)
            done = Enrollment.select().where(Enrollment.state == "done").count()
            if proc.returncode == -signal.SIGKILL and 0 < done < n:
                interrupted += 1
            if done == n:
                break
        else:
            assert proc.wait(300) == 0
    if Enrollment.select().where(Enrollment.state != "done").exists():  # the last kill came too late: finish
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    assert interrupted >= 1, "no kill landed in the middle of the work; the test proved nothing"
    assert Enrollment.select().where(Enrollment.state == "done").count() == n
    per_record = pw.fn.COUNT(Task.id)
    counts = {t for (t,) in Task.select(per_record).group_by(Task.record_id, pw.fn.SUBSTR(Task.title, 1, 1)).tuples()}
    assert counts == {1} and Task.select().count() == 2 * n
    assert Notification.select().count() == n
    assert Notification.select(Notification.record_id).distinct().count() == n
    ok = all_events("step_succeeded")
    assert len(ok) == 5 * n
    assert len({(e.enrollment_id, e.step) for e in ok}) == 5 * n  # no step recorded twice
    m = record_model("contact")
    assert m.select().where(m.city.is_null()).count() == 0
    assert Enrollment.select().where(Enrollment.claimed_by.is_null(False)).count() == 0


def test_two_engines_share_the_work_without_duplicates_on_postgresql(pg_db, pg_url):
    n = 1500
    _enroll([{"type": "create_task", "title": "T {firstname}", "due_in_days": 0},
             {"type": "set_property", "property": "jobtitle", "value": "ok"}], n)
    close_database()
    counts: dict[str, int] = {}
    errors: list[BaseException] = []

    def engine(name: str) -> None:
        try:
            total = 0
            while True:
                ran = executor.run_due_steps(RUN_AT, name, limit=40)
                if not ran:
                    break
                total += ran
            counts[name] = total
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            from models.db import db
            db.close()

    open_database(pg_url)
    threads = [threading.Thread(target=engine, args=(f"e{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    open_database(pg_url)
    assert sum(counts.values()) == 2 * n and all(c > 0 for c in counts.values())
    assert Task.select().count() == n
    assert Task.select(Task.record_id).distinct().count() == n
    assert Enrollment.select().where(Enrollment.state == "done").count() == n


def test_a_claimed_enrollment_waits_for_its_lease(sqlite_db):
    _enroll([{"type": "set_property", "property": "city", "value": "X"}], 3)
    # engine-a holds the two oldest, as a live engine's network claim does.
    held = [e.id for e in Enrollment.select(Enrollment.id).order_by(Enrollment.next_step_at, Enrollment.id).limit(2)]
    update_ids(Enrollment, {"claimed_by": "engine-a", "claimed_until": RUN_AT + step_claims.LEASE}, held)
    assert len(held) == 2
    assert executor.run_due_steps(RUN_AT, "engine-b") == 1  # only the unclaimed one
    later = RUN_AT + step_claims.LEASE + timedelta(seconds=1)
    assert executor.next_step_due() == RUN_AT + step_claims.LEASE
    assert executor.run_due_steps(later, "engine-b") == 2  # engine-a's lease ran out
    assert executor.next_step_due() is None


def test_a_paused_workflow_parks_its_enrollments_until_resumed(sqlite_db):
    wf = _enroll([{"type": "set_property", "property": "city", "value": "X"}], 2)
    set_status(wf.name, "paused", actor="t", now=RUN_AT)
    assert executor.run_due_steps(RUN_AT, "e") == 2  # looked at, set aside
    assert executor.run_due_steps(RUN_AT, "e") == 0
    assert HistoryEvent.select().count() == 0 and not all_events()
    assert executor.next_step_due() == RUN_AT + step_claims.PARK
    set_status(wf.name, "active", actor="t", now=RUN_AT)
    assert executor.run_due_steps(RUN_AT + step_claims.PARK, "e") == 2
    assert {e.state for e in Enrollment.select()} == {"done"}


def test_next_step_due_is_the_earliest_waiting_step(sqlite_db):
    assert executor.next_step_due() is None
    _enroll([{"type": "delay", "minutes": 7}, {"type": "set_property", "property": "city", "value": "X"}], 2)
    assert executor.next_step_due() == RUN_AT
    executor.run_due_steps(RUN_AT, "e")
    assert executor.next_step_due() == RUN_AT + timedelta(minutes=7)


def test_a_step_that_cannot_run_is_recorded_and_the_rest_of_the_round_goes_on(sqlite_db, monkeypatch):
    import engine.steps.run_set as actions

    _enroll([{"type": "create_task", "title": "T", "due_in_days": 0}], 2)
    make_workflow([{"type": "set_property", "property": "city", "value": "ok"}], name="other")
    runner.execute_run(get_workflow("other"), RUN_AT, now=RUN_AT)

    def broken(*args):
        raise ValueError("task table on fire")

    monkeypatch.setitem(actions._RUNNERS, "create_task", broken)
    executor.run_due_steps(RUN_AT, "e")
    failed = all_events("step_failed")
    assert len(failed) == 2 and all("internal error: ValueError: task table on fire" in e.detail for e in failed)
    m = record_model("contact")
    assert m.select().where(m.city == "ok").count() == 2  # the other workflow's group committed


def test_a_database_failure_mid_round_commits_nothing_and_the_step_runs_later(sqlite_db, monkeypatch):
    import engine.steps.run_set as actions

    _enroll([{"type": "create_task", "title": "T", "due_in_days": 0}], 3)
    real = actions._RUNNERS["create_task"]

    def flaky(*args):
        real(*args)  # the tasks are written …
        raise pw.OperationalError("disk I/O error")  # … then the database fails

    monkeypatch.setitem(actions._RUNNERS, "create_task", flaky)
    try:
        executor.run_due_steps(RUN_AT, "e")
    except pw.OperationalError:
        pass
    else:
        raise AssertionError("a database error must reach the engine loop")
    assert Task.select().count() == 0 and not all_events()
    assert Enrollment.select().where(Enrollment.claimed_by.is_null(False)).count() == 0  # released
    monkeypatch.setitem(actions._RUNNERS, "create_task", real)
    assert executor.run_due_steps(RUN_AT, "e") == 3
    assert Task.select().count() == 3


def test_a_batch_of_many_groups_runs_each_group_once(any_db):
    """More (workflow, step) groups in one batch than the claim tags by a CASE
    (models/store/steps.py _CASE_KEYS): the window numbering takes over, with the same
    outcome as a batch of few groups."""
    from models.store.steps import _CASE_KEYS

    _records(3)
    count = _CASE_KEYS + 4
    for i in range(count):
        wf = make_workflow([{"type": "create_task", "title": f"T{i} {{firstname}}", "due_in_days": 0},
                            {"type": "set_property", "property": "jobtitle", "value": f"J{i}"}], name=f"wf{i}")
        runner.execute_run(get_workflow(wf.id), RUN_AT, now=RUN_AT)
    assert executor.run_due_steps(RUN_AT, "e") == 2 * 3 * count
    assert Task.select().count() == 3 * count
    assert {t.title for t in Task.select()} == {f"T{i} P{j}" for i in range(count) for j in range(3)}
    assert {e.state for e in Enrollment.select()} == {"done"}
    ok = all_events("step_succeeded")
    assert len(ok) == 2 * 3 * count and len({(e.enrollment_id, e.step) for e in ok}) == 2 * 3 * count
