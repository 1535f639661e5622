"""Crash safety of overlap handling (issue 11 §3): a real engine subprocess is killed with
SIGKILL at random moments while its runs skip or replace enrollments still in progress,
and restarted where it left off.

The workflow keeps some enrollments in progress across runs: a branch delays records
whose e-mail contains a "3" by 25 minutes (two later runs find them in progress) and the
others by 3 minutes (done before the next run). The engine runs every 10 minutes and
wakes once more 6 minutes after each run for the short delays.

The same instants are also run once without kills, on a database of its own (on SQLite
and on PostgreSQL). In the end
the killed database must hold exactly what the reference holds: per run the same
counters (matched, enrolled, suppressed, skipped_in_progress, in_progress, completed),
the same enrollments (record and state), the same ``skipped_in_progress`` and
``unenrolled`` events; no record enrolled twice by one run, no record with two
enrollments in progress, and every run's counters adding up.
"""
from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest

from engine import workflows
from engine.schedule.model import parse_schedule
from models import bootstrap
from models import db as dbmod
from models.db import db
from models.schema import Enrollment, HistoryEvent, Run, SkipNote
from models.timeutil import UTC, iso_z
from tests.dbutil import PG_SKIP_REASON, fresh_pg_schema, pg_base_url
from tests.engine.engine_proc import seed_contacts, start_steps, stderr_tail, workflow_body

N = 20_000
T0 = datetime(2026, 3, 2, 7, 55, tzinfo=UTC)
SCHEDULE = {"kind": "cron", "cron": "*/10 8-9 * * *", "timezone": "UTC"}
ACTIONS = [
    {"type": "branch", "criteria": [[{"property": "email", "operator": "contains", "value": "3"}]],
     "then": [{"type": "delay", "minutes": 25}], "else": [{"type": "delay", "minutes": 3}]},
    {"type": "set_property", "property": "city", "value": "Seen"},
]
INSTANTS = list(parse_schedule(SCHEDULE).between(T0, T0 + timedelta(hours=2)))[:10]
POSITIONS = sorted([at + timedelta(seconds=1) for at in INSTANTS] + [at + timedelta(minutes=6) for at in INSTANTS])


def _seed(url: str, overlap: str) -> None:
    bootstrap.open_database(url)
    try:
        seed_contacts(N, T0 - timedelta(days=30))
        workflows.save_workflow(workflow_body("Overlap", SCHEDULE, actions=ACTIONS, settings={"overlap": overlap}),
                                now=T0, actor="test")
    finally:
        dbmod.close_database()


def _finish(proc: subprocess.Popen, lines: queue.Queue[str]) -> int:
    """Wait for the process; returns how many positions it completed."""
    proc.wait(timeout=300)
    done = 0
    while True:
        line = lines.get(timeout=60)
        if line == "EOF":
            return done
        if line.startswith("done"):
            done += 1


def _wait_for_the_dead(url: str) -> None:
    """PostgreSQL: a SIGKILLed client's backend goes on with its statement until it
    next talks to the client, holding its row locks; a restarted engine would skip the
    locked workflow (FOR UPDATE SKIP LOCKED) and run the instant late, at its next
    wake-up. This harness wakes once per position, so wait until no other session
    holds a lock on this schema's tables (its own OIDs: other tests' schemas are not
    looked at)."""
    if url.endswith(".db"):
        return
    bootstrap.open_database(url)
    try:
        for _ in range(600):
            held = db.execute_sql(
                "SELECT COUNT(*) FROM pg_locks WHERE pid <> pg_backend_pid() AND relation IN "
                "('workflow'::regclass, 'run'::regclass, 'enrollment'::regclass, 'history_event'::regclass)"
            ).fetchone()[0]
            if not held:
                return
            threading.Event().wait(0.1)
        raise AssertionError("the killed engine's session still holds locks after 60 s")
    finally:
        dbmod.close_database()


def _state(url: str) -> dict:
    """What the database says happened, keyed by scheduled instant and record (not by
    ids, which differ between the two databases)."""
    bootstrap.open_database(url)
    try:
        runs = {r.id: r for r in Run.select()}
        counters = {iso_z(r.scheduled_for): (r.status, r.matched, r.enrolled, r.suppressed, r.skipped_in_progress,
                                             r.in_progress, r.completed) for r in runs.values()}
        when = {rid: iso_z(r.scheduled_for) for rid, r in runs.items()}
        enrollments = Counter((when[e.run_id], e.record_id, e.state) for e in Enrollment.select())
        events = Counter((e.type, when.get(e.run_id), e.record_id) for e in HistoryEvent.select().where(
            HistoryEvent.type.in_(("skipped_in_progress", "unenrolled"))))
        events.update(("skipped_in_progress", when.get(n.run_id), n.record_id) for n in SkipNote.select())
        busy = db.execute_sql("SELECT record_id, COUNT(*) FROM enrollment WHERE state IN ('active', 'waiting') "
                              "GROUP BY record_id HAVING COUNT(*) > 1").fetchall()
        twice = db.execute_sql("SELECT run_id, record_id FROM enrollment GROUP BY run_id, record_id "
                               "HAVING COUNT(*) > 1").fetchall()
        per_run = {when[rid]: (Enrollment.select().where(Enrollment.run == rid).count(),
                               Enrollment.select().where((Enrollment.run == rid)
                                                         & Enrollment.state.in_(("active", "waiting"))).count(),
                               SkipNote.select().where(SkipNote.run == rid).count())
                   for rid in runs}
        return {"counters": counters, "enrollments": enrollments, "events": events, "busy": busy, "twice": twice,
                "per_run": per_run}
    finally:
        dbmod.close_database()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def two_databases(request, tmp_path):
    """(reference URL, crashed URL): two SQLite files, or two PostgreSQL schemas."""
    if request.param == "sqlite":
        yield str(tmp_path / "reference.db"), str(tmp_path / "crashed.db")
        return
    base = pg_base_url()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    with fresh_pg_schema(base) as reference, fresh_pg_schema(base) as crashed:
        yield reference, crashed


@pytest.mark.parametrize("overlap", ["skip_in_progress", "replace"])
def test_sigkill_during_overlapping_runs_enrolls_nobody_twice(two_databases, overlap):
    rng = random.Random(int(os.environ.get("ROTA_CRASH_SEED", "20261201")))
    reference, crashed = two_databases
    for url in (reference, crashed):
        _seed(url, overlap)

    proc, lines = start_steps(reference, POSITIONS)
    assert _finish(proc, lines) == len(POSITIONS) and proc.returncode == 0, stderr_tail(proc)

    idx, kills = 0, 0
    while idx < len(POSITIONS):
        final = kills >= 6
        proc, lines = start_steps(crashed, POSITIONS[idx:])
        if not final:
            first = lines.get(timeout=120)  # the first position committed; kill inside a later one
            threading.Event().wait(rng.uniform(0.0, 0.5))
            proc.send_signal(signal.SIGKILL)
            kills += 1
        done = _finish(proc, lines) + (1 if not final and first.startswith("done") else 0)
        _wait_for_the_dead(crashed)
        if final:
            assert proc.returncode == 0, stderr_tail(proc)
        idx += done

    assert kills >= 4
    want, got = _state(reference), _state(crashed)
    assert got["twice"] == [] and got["busy"] == []  # nobody twice in a run; one enrollment in progress
    assert got["counters"] == want["counters"]
    assert got["enrollments"] == want["enrollments"]
    assert got["events"] == want["events"]
    assert got["per_run"] == want["per_run"]
    for at, (status, matched, enrolled, suppressed, skipped, in_progress, completed) in got["counters"].items():
        rows, busy, skip_events = got["per_run"][at]
        assert status == "succeeded" and matched == enrolled + suppressed + skipped, at
        assert rows == enrolled and in_progress == busy and in_progress + completed == enrolled, at
        assert skip_events == skipped, at
    # The runs really overlapped: records were skipped (or replaced) along the way.
    kinds = Counter(kind for kind, _, _ in got["events"])
    if overlap == "skip_in_progress":
        assert kinds["skipped_in_progress"] > 0 and kinds["unenrolled"] == 0
    else:
        assert kinds["unenrolled"] > 0 and kinds["skipped_in_progress"] == 0
    print(f"overlap crash test ({overlap}): {kills} kills, {len(got['counters'])} runs, {dict(kinds)}")
