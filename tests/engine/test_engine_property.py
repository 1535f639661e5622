"""Property test: whatever the clock does (forwards, backwards, big jumps, small steps),
the engine's runs equal a brute-force reference of the default misfire policy —
every instant up to the furthest time seen exactly once, run / coalesced / missed."""
from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import workflows
from engine.clock import FakeClock
from engine.engine import Engine
from engine.schedule.model import parse_schedule
from models.schema import Enrollment, EnrollmentDaily, HistoryEvent, Run, Workflow
from models.timeutil import UTC
from tests.engine.engine_proc import seed_contacts, workflow_body

T0 = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # across the Stockholm DST night of 29 March
# Every 30 minutes, 00:00-22:30 local time (a "*" hour field trips engine/schedule.py today).
SCHEDULE = {"kind": "cron", "cron": "0,30 0-22 * * *", "timezone": "Europe/Stockholm"}
GRACE = timedelta(hours=1)


def reference(moves: list[int]) -> list[tuple[datetime, str]]:
    """The default policy, written out plainly: at each pass at clock time c, the
    instants due since the last one handled are run (the newest, if at most an hour
    late), coalesced (older, at most an hour late) or missed (older than that)."""
    schedule = parse_schedule(SCHEDULE)
    out: list[tuple[datetime, str]] = []
    handled_until = T0
    clock = T0
    for minutes in moves:
        clock += timedelta(minutes=minutes)
        due = list(schedule.between(handled_until, clock))
        if not due:
            continue
        newest = due[-1]
        for at in due[:-1]:
            out.append((at, "coalesced" if clock - at <= GRACE and clock - newest <= GRACE else "missed"))
        out.append((newest, "succeeded" if clock - newest <= GRACE else "missed"))
        handled_until = clock
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.one_of(st.integers(-240, -1), st.integers(0, 45), st.integers(46, 600)),
                      min_size=1, max_size=10))
def test_runs_follow_the_policy_whatever_the_clock_does(sqlite_db, moves):
    for model in (Enrollment, HistoryEvent, EnrollmentDaily, Run, Workflow):
        model.delete().execute()
    if not Enrollment._meta.database.execute_sql("SELECT COUNT(*) FROM rec_contact").fetchone()[0]:
        seed_contacts(10, T0 - timedelta(days=1))
    clock = FakeClock(T0)
    workflows.save_workflow(workflow_body("P", SCHEDULE), now=T0, actor="test")
    engine = Engine(clock=clock)
    for minutes in moves:
        clock.advance(timedelta(minutes=minutes))
        engine.run_pending()
    got = [(r.scheduled_for, r.status) for r in Run.select().order_by(Run.scheduled_for)]
    assert got == reference(moves)
    # Every missed or coalesced instant is in the history with its instant.
    events = sorted((h.scheduled_for, h.type) for h in HistoryEvent.select().where(
        HistoryEvent.type.in_(["missed", "coalesced"])))
    assert events == [(at, status) for at, status in got if status != "succeeded"]
