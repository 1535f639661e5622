"""A lost PostgreSQL connection: the engine reports it, backs off, reconnects, and the
run it was about to do commits whole, once."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

import psycopg2
import pytest

from engine import workflows
from engine.clock import FakeClock
from engine.engine import Engine
from engine.events import EngineError
from models import bootstrap
from models import db as dbmod
from models.db import db
from models.schema import Enrollment, Run
from models.timeutil import UTC
from tests.dbutil import PG_SKIP_REASON, fresh_pg_schema, pg_base_url
from tests.engine.engine_proc import expected_counts, seed_contacts, workflow_body


def _wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_lost_postgresql_connection_is_survived_without_a_half_written_run():
    base = pg_base_url()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    tag = "rota_lost_" + uuid.uuid4().hex[:10]
    with fresh_pg_schema(base) as url:
        url = f"{url}&application_name={tag}"  # so that only this test's sessions are cut
        bootstrap.open_database(url)
        try:
            seed_contacts(50, datetime(2026, 1, 1, tzinfo=UTC))
            clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
            workflows.save_workflow(workflow_body("W", {"kind": "daily", "time": "08:00", "timezone": "UTC"}),
                                    now=clock.now(), actor="test")
            events = []
            engine = Engine(url, clock=clock, on_event=events.append, lease_seconds=3600).start()
            try:
                # Asleep after its first pass (until its lease renewal at 07:20).
                assert _wait_for(lambda: engine.status.next_wake_at == datetime(2026, 3, 2, 7, 20, tzinfo=UTC))
                db.close()  # this thread's connection; the engine keeps its own
                killer = psycopg2.connect(base)
                killer.autocommit = True
                with killer.cursor() as cur:
                    cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                                (tag,))
                    assert cur.rowcount >= 1
                killer.close()
                clock.set(datetime(2026, 3, 2, 8, 0, 1, tzinfo=UTC))  # due now, on a dead connection
                assert _wait_for(lambda: any(isinstance(e, EngineError) for e in events))
                err = next(e for e in events if isinstance(e, EngineError))
                assert err.retry_in_s > 0 and "connection" in err.message  # "server closed the connection …"
                assert engine.status.last_error == err.message
                clock.advance(timedelta(seconds=1))  # past the back-off: reconnect and run
                assert _wait_for(lambda: Run.select().where(Run.status == "succeeded").count() == 1)
            finally:
                assert engine.stop(timeout=10)
            run = Run.get()
            assert (run.enrolled, run.suppressed) == expected_counts(50)
            assert Enrollment.select().count() == run.enrolled
            assert Run.select().count() == 1
        finally:
            dbmod.close_database()
