"""Several engine processes on one database: two and four on one SQLite file, four on
PostgreSQL. They share a fast clock (ScaledClock) so that a few real seconds hold dozens
of scheduled instants. One engine is killed with SIGKILL half-way: the others take over.

In the end: no duplicate run or enrollment, every instant from the first to the last is
accounted for (run, or coalesced into a late run after the takeover), and every run
enrolled exactly the expected records.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine import workflows
from engine.schedule.model import parse_schedule
from models import bootstrap
from models import db as dbmod
from models.db import db
from models.schema import Enrollment, HistoryEvent, Run, Workflow
from models.timeutil import UTC
from tests.dbutil import PG_SKIP_REASON, fresh_pg_schema, pg_base_url
from tests.engine.engine_proc import expected_counts, seed_contacts, workflow_body

ROOT = Path(__file__).resolve().parents[2]
N = 200
ORIGIN = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)
SPEED = 480.0  # one fake 2-minute interval = 0.25 s real
LEASE = 480.0  # fake seconds: one real second
# Every 2 minutes from 00:00 to 22:58 (a "*" hour field trips engine/schedule.py today).
SCHEDULE = {"kind": "cron", "cron": "*/2 0-22 * * *", "timezone": "UTC"}
WORKFLOWS = ("A", "B", "C")


def _prepare(url: str) -> None:
    bootstrap.open_database(url)
    seed_contacts(N, ORIGIN - timedelta(days=30))
    for name in WORKFLOWS:
        workflows.save_workflow(workflow_body(name, SCHEDULE), now=ORIGIN, actor="test")


def _spawn(url: str, origin_real: float) -> subprocess.Popen:
    """An engine process whose output goes to files: a pipe nobody reads while the test
    sleeps could fill up and stall the engine on a log line."""
    out = tempfile.TemporaryFile(mode="w+")
    err = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.engine_proc", "loop", "--db", url, "--origin", ORIGIN.isoformat(),
         "--origin-real", repr(origin_real), "--speed", str(SPEED), "--lease", str(LEASE)],
        cwd=ROOT, stdout=out, stderr=err, text=True, env=os.environ.copy())
    proc.out_file, proc.err_file = out, err  # type: ignore[attr-defined]
    return proc


def _run_engines(url: str, count: int, seconds: float, kill_holder: bool) -> list[tuple[int, datetime]]:
    """Run ``count`` engines for ``seconds`` of real time; returns [(killed pid, fake time of the kill)]."""
    origin_real = time.time() + 3.0  # fake time reaches ORIGIN once every process is up
    procs = [_spawn(url, origin_real) for _ in range(count)]
    killed: list[tuple[int, datetime]] = []
    try:
        time.sleep(3.0 + seconds / 2)
        if kill_holder:
            victim = _pick_victim(procs)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            killed.append((victim.pid, ORIGIN + timedelta(seconds=(time.time() - origin_real) * SPEED)))
        time.sleep(seconds / 2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        outputs = [_finish(p) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        if any(p.pid == pid for pid, _ in killed):
            continue
        assert p.returncode == 0, err[-3000:]
        assert "clean=True" in out, out + err[-3000:]
    return killed


def _finish(p: subprocess.Popen) -> tuple[str, str]:
    """Wait for a stopping engine; if it hangs, dump its threads' stacks into the failure."""
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGUSR1)
        time.sleep(1)
        p.kill()
        p.wait()
        out, err = _read(p)
        raise AssertionError(f"engine {p.pid} did not stop within 60 s:\n{out}\n{err[-6000:]}") from None
    return _read(p)


def _read(p: subprocess.Popen) -> tuple[str, str]:
    texts = []
    for fh in (p.out_file, p.err_file):  # type: ignore[attr-defined]
        fh.seek(0)
        texts.append(fh.read())
        fh.close()
    return texts[0], texts[1]


def _pick_victim(procs: list[subprocess.Popen]) -> subprocess.Popen:
    """SQLite: the holder of the store lease. PostgreSQL: the engine with most runs."""
    holder = db.execute_sql("SELECT claimed_by FROM engine_lease WHERE name = 'store'").fetchone()
    if holder and holder[0]:
        pid = holder[0].split(":")[1]
        for p in procs:
            if str(p.pid) == pid:
                return p
    rows = db.execute_sql("SELECT engine_id, COUNT(*) FROM run GROUP BY engine_id ORDER BY 2 DESC").fetchall()
    for engine_id, _ in rows:
        for p in procs:
            if engine_id and f":{p.pid}:" in engine_id:
                return p
    return procs[0]


def _assert_taken_over(killed: list[tuple[int, datetime]]) -> None:
    """Instants well after the kill were run, and not by the dead engine."""
    assert killed
    pid, at = killed[0]
    later = list(Run.select().where((Run.scheduled_for > at + timedelta(minutes=1)) & (Run.status == "succeeded")))
    assert later, "nobody ran anything after the kill"
    assert all(f":{pid}:" not in r.engine_id for r in later)


def _verify(min_instants: int) -> set[str]:
    want_enrolled, want_suppressed = expected_counts(N)
    dup_runs = db.execute_sql(
        "SELECT workflow_id, scheduled_for FROM run WHERE scheduled_for IS NOT NULL "
        "GROUP BY workflow_id, scheduled_for HAVING COUNT(*) > 1").fetchall()
    assert dup_runs == []
    dup_enrollments = db.execute_sql(
        "SELECT run_id, record_id FROM enrollment GROUP BY run_id, record_id HAVING COUNT(*) > 1").fetchall()
    assert dup_enrollments == []
    engines: set[str] = set()
    for name in WORKFLOWS:
        wf = Workflow.get(Workflow.name == name)
        runs = list(Run.select().where(Run.workflow == wf.id).order_by(Run.scheduled_for))
        assert len(runs) >= min_instants, (name, len(runs))
        expected = list(parse_schedule(SCHEDULE).between(ORIGIN, runs[-1].scheduled_for))
        assert [r.scheduled_for for r in runs] == expected, name  # every instant, once
        assert runs[-1].status == "succeeded"
        for r in runs:
            assert r.status in ("succeeded", "coalesced"), (name, r.scheduled_for, r.status, r.detail)
            engines.add(r.engine_id)
            if r.status == "succeeded":
                assert (r.enrolled, r.suppressed, r.matched) == (want_enrolled, want_suppressed, N // 2)
                assert Enrollment.select().where(Enrollment.run == r.id).count() == want_enrolled
            else:
                assert HistoryEvent.select().where((HistoryEvent.run == r.id)
                                                   & (HistoryEvent.type == "coalesced")).count() == 1
        assert wf.next_run_at > runs[-1].scheduled_for
    total = sum(r.enrolled for r in Run.select())
    assert Enrollment.select().count() == total
    return engines


@pytest.mark.parametrize("count,kill", [(2, False), (4, True)])
def test_engines_on_one_sqlite_file_never_duplicate(sqlite_url, count, kill):
    _prepare(sqlite_url)
    try:
        killed = _run_engines(sqlite_url, count, seconds=4.0, kill_holder=kill)
        _verify(min_instants=8)
        if kill:
            _assert_taken_over(killed)  # a stand-by took the store lease over after the kill
    finally:
        dbmod.close_database()


def test_four_engine_processes_on_postgresql_share_the_runs():
    base = pg_base_url()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    with fresh_pg_schema(base) as url:
        _prepare(url)
        try:
            killed = _run_engines(url, 4, seconds=4.0, kill_holder=True)
            _verify(min_instants=8)
            _assert_taken_over(killed)  # the others carried on (how SKIP LOCKED shares the
            # work is tested deterministically in test_runner.py)
        finally:
            dbmod.close_database()
