"""Issue 10 item 4: writers wait, they do not fail. A save from the CLI (another
process) while the engine writes a large run waits for the run's commit and succeeds
(SQLite: every transaction is BEGIN IMMEDIATE, so the busy timeout applies; a deferred
transaction that read first used to fail at once with "database is locked")."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from engine import workflows
from engine.clock import FakeClock
from engine.engine import Engine
from engine.events import RunFinished, RunStarted
from models.enums import RunStatus
from models.schema import Run, Workflow
from models.timeutil import UTC
from tests.engine.engine_proc import seed_contacts, workflow_body

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
DAILY8 = {"kind": "daily", "time": "08:00", "timezone": "UTC"}
RECORDS = int(os.environ.get("ROTA_TEST_BIG_RUN", "1000000"))


def test_a_cli_save_during_a_large_run_waits_and_succeeds(sqlite_url, sqlite_db, tmp_path):
    seed_contacts(RECORDS, START - timedelta(days=30))
    # No suppression: every customer is one enrollment row (half the records).
    workflows.save_workflow(workflow_body("Big", DAILY8, suppression=[]), now=START, actor="t")
    workflows.save_workflow(workflow_body("Existing", DAILY8), now=START, actor="t")
    # An update reads before it writes (the workflow, its failures): the case a deferred
    # transaction could not wait for.
    changed = {**workflows.export_workflow("Existing"), "schedule": {**DAILY8, "time": "09:00"}}
    body = tmp_path / "existing.json"
    body.write_text(json.dumps(changed), encoding="utf-8")
    started, finished = threading.Event(), threading.Event()
    marks: dict[str, float] = {}

    def on_event(event):
        if isinstance(event, RunStarted):
            marks["run_started"] = time.monotonic()
            started.set()
        elif isinstance(event, RunFinished):
            marks["run_finished"] = time.monotonic()
            finished.set()

    clock = FakeClock(START + timedelta(hours=1))
    engine = Engine(clock=clock, engine_id="big", on_event=on_event)
    runner = threading.Thread(target=engine.run_pending)
    runner.start()
    try:
        assert started.wait(120)
        # The run's INSERT … SELECT of every customer now holds the write lock.
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        marks["save_started"] = time.monotonic()
        save = subprocess.run([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())",
                               "workflow", "import", str(body), "--db", sqlite_url],
                              cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
        marks["save_finished"] = time.monotonic()
    finally:
        runner.join(180)
    assert finished.is_set()
    assert save.returncode == 0, save.stderr
    assert "locked" not in save.stderr
    run = Run.get(Run.workflow == Workflow.get(Workflow.name == "Big").id)
    assert run.status == RunStatus.SUCCEEDED and run.enrolled == (RECORDS + 1) // 2
    assert Workflow.get(Workflow.name == "Existing").schedule["time"] == "09:00"
    # The save began while the run was writing, and so could only finish after its commit.
    assert marks["save_started"] < marks["run_finished"] <= marks["save_finished"] + 0.5
    print(f"\nrun of {RECORDS:,} records: {marks['run_finished'] - marks['run_started']:.2f} s; "
          f"save waited and succeeded {marks['save_finished'] - marks['save_started']:.2f} s after it was started")
