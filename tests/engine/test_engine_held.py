"""PostgreSQL: a due workflow whose row another engine holds (its run in progress, or a
killed engine's session that has not noticed yet) is skipped (FOR UPDATE SKIP LOCKED);
the loop then looks again a moment later instead of spinning on the database, and runs
the instant once the hold is gone."""
from __future__ import annotations

from datetime import datetime, timedelta

import psycopg2
import pytest

from engine.clock import FakeClock
from engine.engine import HELD_RETRY, Engine
from engine.workflows import save_workflow
from models.schema import Run, Workflow
from models.timeutil import UTC

pytestmark = pytest.mark.pg
T0 = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_a_held_workflow_is_looked_at_again_shortly_not_spun_on(pg_db, pg_url):
    wf = save_workflow({"name": "wf", "object_type": "contact", "status": "active",
                        "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"}, "criteria": [],
                        "actions": []}, actor="t", now=T0)
    clock = FakeClock(AT + timedelta(seconds=1))
    engine = Engine(pg_url, clock=clock, engine_id="b")
    other = psycopg2.connect(pg_url)  # "engine A": holds the workflow row in an open transaction
    try:
        with other.cursor() as cur:
            cur.execute('SELECT 1 FROM "workflow" WHERE "id" = %s FOR UPDATE', (wf.id,))
        deadline = engine._one_pass()
        assert Run.select().count() == 0  # skipped, not waited for
        assert deadline == clock.now() + HELD_RETRY  # not an instant already past: no spin
        other.rollback()  # A is gone (or committed nothing)
        clock.advance(HELD_RETRY)
        engine._one_pass()
        [run] = Run.select()
        assert run.scheduled_for == AT and run.status == "succeeded"
        assert Workflow.get_by_id(wf.id).next_run_at == AT + timedelta(days=1)
    finally:
        other.close()
