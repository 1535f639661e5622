"""``rota engine`` headless: ``--once``, clean stop on SIGTERM in the middle of a run, and
PostgreSQL wake-ups from another process through LISTEN/NOTIFY."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2

from engine import workflows
from engine.clock import FakeClock
from engine.engine import Engine
from models.schema import Enrollment, HistoryEvent, Run, Workflow
from models.timeutil import UTC, utcnow
from tests.engine.engine_proc import expected_counts, seed_contacts, workflow_body
from tui.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
DAILY = {"kind": "daily", "time": "08:00", "timezone": "UTC"}


def test_engine_once_processes_what_is_due_and_exits(sqlite_db, sqlite_url, capsys):
    seed_contacts(40, utcnow() - timedelta(days=3))
    wf = workflows.save_workflow(workflow_body("W", DAILY), actor="test")
    due = utcnow() - timedelta(seconds=5)
    Workflow.update(next_run_at=due).where(Workflow.id == wf.id).execute()
    assert cli_main(["engine", "--once", "--db", sqlite_url]) == 0
    assert "processed 1 due occurrence" in capsys.readouterr().out
    run = Run.get(Run.workflow == wf.id)
    assert (run.status, run.scheduled_for, run.enrolled) == ("succeeded", due, expected_counts(40)[0])
    assert cli_main(["engine", "--once", "--db", sqlite_url]) == 0  # nothing twice
    assert "processed 0 due occurrences" in capsys.readouterr().out
    assert Run.select().count() == 1


def test_sigterm_during_a_run_stops_cleanly_with_the_run_whole_or_absent(sqlite_db, sqlite_url):
    n = 60_000
    seed_contacts(n, utcnow() - timedelta(days=3))
    wf = workflows.save_workflow(workflow_body("Big", DAILY), actor="test")
    due = utcnow() - timedelta(seconds=5)
    Workflow.update(next_run_at=due).where(Workflow.id == wf.id).execute()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())", "engine",
                             "--db", sqlite_url], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    line = proc.stderr.readline()  # "engine … running; Ctrl-C to stop": the thread has started
    assert "running" in line
    time.sleep(0.25)  # most often inside the run's transaction by now
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    runs = list(Run.select().where(Run.workflow == wf.id))
    enrolled = Enrollment.select().count()
    if runs:  # finished before stopping: whole
        assert [(r.status, r.enrolled) for r in runs] == [("succeeded", expected_counts(n)[0])]
        assert enrolled == expected_counts(n)[0]
        assert HistoryEvent.select().count() == expected_counts(n)[1]
        assert Workflow.get_by_id(wf.id).next_run_at > due
    else:  # stopped before it began: nothing written, still due
        assert enrolled == 0 and HistoryEvent.select().count() == 0
        assert Workflow.get_by_id(wf.id).next_run_at == due
    from models.schema import EngineLease

    lease = EngineLease.get_or_none(EngineLease.name == "store")
    assert lease is None or lease.claimed_by is None  # released on the way out (or never taken)


def test_postgresql_engine_is_woken_by_notify_from_another_process(pg_db, pg_url):
    seed_contacts(30, datetime(2026, 1, 1, tzinfo=UTC))
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    wf = workflows.save_workflow(workflow_body("W", DAILY), now=clock.now(), actor="test")
    engine = Engine(pg_url, clock=clock, lease_seconds=3600).start()
    try:
        deadline = time.monotonic() + 10
        while engine._listener is None or not engine.status.running:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.3)  # the listener connects
        # Another process (a plain connection here) makes the workflow due and notifies;
        # the fake clock never moves, so only the NOTIFY can wake the engine.
        conn = psycopg2.connect(pg_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("UPDATE workflow SET next_run_at = %s WHERE id = %s",
                        (int((clock.now() - timedelta(minutes=1) - datetime(1970, 1, 1, tzinfo=UTC))
                             / timedelta(microseconds=1)), wf.id))
            cur.execute("NOTIFY rota_engine")
        conn.close()
        deadline = time.monotonic() + 10
        while not Run.select().where(Run.workflow == wf.id).exists():
            assert time.monotonic() < deadline, "the engine was not woken by NOTIFY"
            time.sleep(0.02)
        assert Run.get(Run.workflow == wf.id).status == "succeeded"
    finally:
        assert engine.stop(timeout=5)
