"""The engine loop on a fake clock: a month of every schedule kind (DST nights included),
misfires, clock jumps, pause/resume, wake-ups, leases, errors."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import peewee as pw
import pytest

from engine import workflows
from engine.clock import FakeClock
from engine.engine import Engine
from engine.events import EngineError, EngineStatus, Misfire, RunFinished, RunStarted
from engine.schedule.model import parse_schedule
from models.schema import Enrollment, EnrollmentDaily, HistoryEvent, Run, Workflow
from models.store import claims
from models.store import runs as store_runs
from models.timeutil import UTC
from tests.engine.engine_proc import expected_counts, seed_contacts, workflow_body

N = 60
START = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
STOCKHOLM = "Europe/Stockholm"


@pytest.fixture
def seeded(sqlite_db):
    seed_contacts(N, START - timedelta(days=365))
    return sqlite_db


def _save(name, schedule, now, **extra):
    return workflows.save_workflow(workflow_body(name, schedule, **extra), now=now, actor="test")


def _runs(name):
    wf = Workflow.get(Workflow.name == name)
    return list(Run.select().where(Run.workflow == wf.id).order_by(Run.scheduled_for))


def _wait_for(predicate, timeout=10.0):
    """Real-time wait for the engine thread (the thread itself never polls)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


# ------------------------------------------------------- a month of every schedule kind

KINDS = {
    "daily": {"kind": "daily", "time": "02:30", "timezone": STOCKHOLM},
    "weekly": {"kind": "weekly", "weekdays": ["mon", "wed", "sun"], "time": "02:30", "timezone": STOCKHOLM},
    "monthly_days": {"kind": "monthly_days", "days": [1, 15, 25, 29, 31], "time": "02:30", "timezone": STOCKHOLM},
    "monthly_flexible": {"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "sun"}, "time": "02:30",
                         "timezone": STOCKHOLM},
    "yearly": {"kind": "yearly", "month": 3, "day": 29, "time": "02:30", "timezone": STOCKHOLM},
    "cron": {"kind": "cron", "cron": "30 2 * * *", "timezone": STOCKHOLM},
}


@pytest.mark.parametrize("month_start,dst_instant", [
    # 29 March 2026: 02:30 does not exist in Stockholm; the run is at 03:00 CEST (01:00 UTC).
    (datetime(2026, 2, 28, 12, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    # 25 October 2026: 02:30 happens twice; the run is at the first one, 02:30 CEST (00:30 UTC).
    (datetime(2026, 9, 30, 12, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
])
def test_a_month_of_every_schedule_kind_on_a_fake_clock(seeded, month_start, dst_instant):
    clock = FakeClock(month_start)
    for kind, schedule in KINDS.items():
        if kind == "yearly" and month_start.month == 9:
            schedule = {**schedule, "month": 10, "day": 25}
        _save(kind, schedule, clock.now())
    engine = Engine(clock=clock)
    end = month_start + timedelta(days=32)
    wakes = 0
    while True:
        nxt = claims.next_due_at()
        if nxt is None or nxt > end:
            break
        clock.set(nxt + timedelta(milliseconds=2))  # the engine wakes 2 ms after the instant
        assert engine.run_pending() >= 1
        wakes += 1
    want_enrolled, want_suppressed = expected_counts(N)
    for kind in KINDS:
        wf = Workflow.get(Workflow.name == kind)
        expected = list(parse_schedule(wf.schedule).between(month_start, end))
        runs = _runs(kind)
        assert [r.scheduled_for for r in runs] == expected, kind
        assert dst_instant in expected, kind  # the DST night ran once, at the right instant
        assert len(expected) == len(set(expected))
        for r in runs:
            assert r.status == "succeeded", (kind, r.scheduled_for)
            assert (r.enrolled, r.suppressed) == (want_enrolled, want_suppressed)
            assert r.started_at - r.scheduled_for == timedelta(milliseconds=2)
        assert Enrollment.select().join(Run).where(Run.workflow == wf.id).count() == want_enrolled * len(expected)
    # An independent check of the daily one: one run per local day, each at 02:30 local,
    # except the spring-forward night (03:00, the first valid instant after the gap).
    from zoneinfo import ZoneInfo

    local = [r.scheduled_for.astimezone(ZoneInfo(STOCKHOLM)) for r in _runs("daily")]
    assert len(local) == 32 and len({t.date() for t in local}) == 32
    for t in local:
        want = (3, 0) if t.date().isoformat() == "2026-03-29" else (2, 30)
        assert (t.hour, t.minute, t.fold) == (*want, 0), t
    assert not HistoryEvent.select().where(HistoryEvent.type.in_(["missed", "coalesced"])).exists()
    assert wakes >= 31


# ------------------------------------------------------------------- misfire policy

DAILY8 = {"kind": "daily", "time": "08:00", "timezone": "UTC"}


def _history(name, kind):
    wf = Workflow.get(Workflow.name == name)
    return sorted(h.scheduled_for for h in HistoryEvent.select().where(
        (HistoryEvent.workflow == wf.id) & (HistoryEvent.type == kind)))


def test_down_for_days_runs_once_late_within_grace_and_records_the_rest_missed(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    _save("W", DAILY8, clock.now())
    events = []
    engine = Engine(clock=clock, on_event=events.append)
    clock.set(datetime(2026, 3, 5, 8, 20, tzinfo=UTC))  # the engine was down since 3/2 07:00
    assert engine.run_pending() == 4
    runs = _runs("W")
    assert [(r.scheduled_for.day, r.status) for r in runs] == [
        (2, "missed"), (3, "missed"), (4, "missed"), (5, "succeeded")]
    assert runs[-1].started_at == datetime(2026, 3, 5, 8, 20, tzinfo=UTC)
    assert _history("W", "missed") == [r.scheduled_for for r in runs[:3]]
    misfires = [e for e in events if isinstance(e, Misfire)]
    assert misfires and misfires[0].status == "missed" and len(misfires[0].scheduled_for) == 3
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert finished[0].lag_ms == pytest.approx(20 * 60 * 1000)
    assert engine.run_pending() == 0  # nothing twice


def test_several_instants_inside_the_grace_window_are_coalesced_into_one_late_run(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, 55, tzinfo=UTC))
    _save("C", {"kind": "cron", "cron": "*/10 7-9 * * *", "timezone": "UTC"}, clock.now())
    engine = Engine(clock=clock)
    clock.set(datetime(2026, 3, 2, 8, 0, 0, 1000, tzinfo=UTC))
    engine.run_pending()
    clock.set(datetime(2026, 3, 2, 8, 35, tzinfo=UTC))
    engine.run_pending()
    got = [(r.scheduled_for.minute, r.status) for r in _runs("C")]
    assert got == [(0, "succeeded"), (10, "coalesced"), (20, "coalesced"), (30, "succeeded")]
    assert _history("C", "coalesced") == [datetime(2026, 3, 2, 8, m, tzinfo=UTC) for m in (10, 20)]
    assert Workflow.get(Workflow.name == "C").next_run_at == datetime(2026, 3, 2, 8, 40, tzinfo=UTC)


def test_per_workflow_policy_record_missed_and_grace(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    _save("M", DAILY8, clock.now(), settings={"misfire_policy": "record_missed"})
    _save("G", DAILY8, clock.now(), settings={"grace_seconds": 7200})
    _save("D", DAILY8, clock.now())  # application default: run_once_late, 1 hour
    engine = Engine(clock=clock)
    clock.set(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))  # 90 minutes late
    engine.run_pending()
    assert [r.status for r in _runs("M")] == ["missed"]
    assert [r.status for r in _runs("G")] == ["succeeded"]  # inside its own 2-hour window
    assert [r.status for r in _runs("D")] == ["missed"]
    assert _history("M", "missed") == _history("D", "missed") == [datetime(2026, 3, 2, 8, tzinfo=UTC)]


def test_application_policy_comes_from_settings(seeded, monkeypatch):
    monkeypatch.setenv("ROTA_MISFIRE_POLICY", "record_missed")
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    _save("W", DAILY8, clock.now())
    engine = Engine(clock=clock)
    clock.set(datetime(2026, 3, 2, 8, 10, tzinfo=UTC))  # 10 minutes late: a misfire for this policy
    engine.run_pending()
    assert [r.status for r in _runs("W")] == ["missed"]


def test_a_clock_moving_backwards_never_runs_an_instant_twice(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    _save("W", DAILY8, clock.now())
    engine = Engine(clock=clock)
    clock.set(datetime(2026, 3, 2, 8, 0, 1, tzinfo=UTC))
    assert engine.run_pending() == 1
    clock.set(datetime(2026, 3, 2, 6, tzinfo=UTC))  # backwards two hours
    assert engine.run_pending() == 0
    # A pause and resume while the clock is behind puts next_run_at back on 08:00 …
    workflows.set_status("W", "paused", now=clock.now())
    workflows.set_status("W", "active", now=clock.now())
    assert Workflow.get(Workflow.name == "W").next_run_at == datetime(2026, 3, 2, 8, tzinfo=UTC)
    clock.set(datetime(2026, 3, 2, 8, 0, 2, tzinfo=UTC))  # … and forwards past it again
    engine.run_pending()
    runs = _runs("W")
    assert [(r.scheduled_for, r.status) for r in runs] == [(datetime(2026, 3, 2, 8, tzinfo=UTC), "succeeded")]
    assert Workflow.get(Workflow.name == "W").next_run_at == datetime(2026, 3, 3, 8, tzinfo=UTC)
    clock.set(datetime(2026, 3, 3, 8, 0, 1, tzinfo=UTC))  # forwards a day: the next one runs
    assert engine.run_pending() == 1
    assert len(_runs("W")) == 2


def test_a_clock_jumping_forwards_is_a_misfire_not_a_burst(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    # Hourly except 23:00 (hours 0-22: a full "*" hour field trips engine/schedule.py today).
    _save("H", {"kind": "cron", "cron": "0 0-22 * * *", "timezone": "UTC"}, clock.now())
    engine = Engine(clock=clock)
    clock.advance(timedelta(days=2, minutes=30))
    assert engine.run_pending() == 46
    runs = _runs("H")
    assert len(runs) == 46 and [r.status for r in runs].count("succeeded") == 1
    assert runs[-1].status == "succeeded" and runs[-1].scheduled_for == datetime(2026, 3, 4, 7, tzinfo=UTC)
    assert len(_history("H", "missed")) == 45
    assert Enrollment.select().count() == expected_counts(N)[0]  # one run's worth, not 48


def test_pause_and_resume_do_not_burst_catch_up_runs(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    _save("W", DAILY8, clock.now())
    engine = Engine(clock=clock)
    clock.set(datetime(2026, 3, 2, 8, 0, 1, tzinfo=UTC))
    engine.run_pending()
    workflows.set_status("W", "paused", now=datetime(2026, 3, 2, 12, tzinfo=UTC))
    for day in range(3, 7):  # paused over four scheduled instants
        clock.set(datetime(2026, 3, day, 8, 0, 1, tzinfo=UTC))
        assert engine.run_pending() == 0
    clock.set(datetime(2026, 3, 6, 12, tzinfo=UTC))
    workflows.set_status("W", "active", now=clock.now())
    assert engine.run_pending() == 0
    assert [r.scheduled_for.day for r in _runs("W")] == [2]
    assert not HistoryEvent.select().where(HistoryEvent.type.in_(["missed", "coalesced"])).exists()
    assert Workflow.get(Workflow.name == "W").next_run_at == datetime(2026, 3, 7, 8, tzinfo=UTC)
    clock.set(datetime(2026, 3, 7, 8, 0, 1, tzinfo=UTC))
    assert engine.run_pending() == 1


# ------------------------------------------------------------------- the thread


def test_thread_sleeps_until_the_earliest_run_and_wakes_on_changes(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    events = []
    engine = Engine(clock=clock, on_event=events.append, lease_seconds=3600).start()  # renews every 20 min
    try:
        assert _wait_for(lambda: engine.status.running and engine.status.next_wake_at is not None)
        # Nothing scheduled: it sleeps until its lease renewal only.
        assert engine.status.next_wake_at == datetime(2026, 3, 2, 7, 20, tzinfo=UTC)
        _save("W", {"kind": "cron", "cron": "1 7 * * *", "timezone": "UTC"}, clock.now())
        # Activation wakes it at once (no clock movement): it now sleeps until 07:01.
        assert _wait_for(lambda: engine.status.next_wake_at == datetime(2026, 3, 2, 7, 1, tzinfo=UTC))
        assert not Run.select().exists()
        clock.set(datetime(2026, 3, 2, 7, 1, tzinfo=UTC))  # exactly the instant
        assert _wait_for(lambda: Run.select().where(Run.status == "succeeded").exists())
        run = Run.get()
        assert run.started_at == run.scheduled_for  # the fake clock did not move: zero lag
        assert _wait_for(lambda: any(isinstance(e, RunFinished) for e in events))
        started = [e for e in events if isinstance(e, RunStarted)]
        assert started[0].lag_ms == 0
        # Next run is tomorrow: it sleeps until its lease renewal at 07:20 (the lease is
        # written every 20 minutes, not at every wake-up) …
        assert _wait_for(lambda: engine.status.next_wake_at == datetime(2026, 3, 2, 7, 20, tzinfo=UTC))
        # … until a schedule change re-arms the sleep for the new earliest instant.
        _save("W", {"kind": "cron", "cron": "10 7 * * *", "timezone": "UTC"}, clock.now())
        assert _wait_for(lambda: engine.status.next_wake_at == datetime(2026, 3, 2, 7, 10, tzinfo=UTC))
        workflows.set_status("W", "paused", now=clock.now())
        assert _wait_for(lambda: engine.status.next_wake_at == datetime(2026, 3, 2, 7, 20, tzinfo=UTC))
        assert any(isinstance(e, EngineStatus) and e.running for e in events)
    finally:
        assert engine.stop(timeout=5)
    assert not engine.status.running
    assert isinstance(events[-1], EngineStatus) and not events[-1].running


def test_a_database_error_rolls_the_run_back_whole_and_is_retried(seeded, monkeypatch):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    _save("W", DAILY8, clock.now())
    real = store_runs.add_to_rollup
    calls = {"n": 0}

    def full_disk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise pw.OperationalError("database or disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(store_runs, "add_to_rollup", full_disk)
    events = []
    engine = Engine(clock=clock, on_event=events.append).start()
    try:
        clock.set(datetime(2026, 3, 2, 8, tzinfo=UTC))
        assert _wait_for(lambda: any(isinstance(e, EngineError) for e in events))
        err = next(e for e in events if isinstance(e, EngineError))
        assert "disk is full" in err.message and err.retry_in_s > 0
        assert engine.status.last_error and "disk is full" in engine.status.last_error
        # Rolled back whole: no run row, no enrollment, no rollup, next_run_at unchanged.
        assert Run.select().count() == 0 and Enrollment.select().count() == 0
        assert EnrollmentDaily.select().count() == 0
        assert Workflow.get(Workflow.name == "W").next_run_at == datetime(2026, 3, 2, 8, tzinfo=UTC)
        clock.advance(timedelta(seconds=1))  # past the back-off: the retry commits whole
        assert _wait_for(lambda: Run.select().where(Run.status == "succeeded").count() == 1)
        assert _wait_for(lambda: engine.status.last_error is None)  # recovered
    finally:
        engine.stop()
    run = Run.get()
    assert (run.enrolled, run.suppressed) == expected_counts(N)
    assert Enrollment.select().count() == run.enrolled
    assert EnrollmentDaily.get().enrolled == run.enrolled


def test_one_engine_holds_the_sqlite_store_lease_and_another_takes_over_when_it_expires(seeded):
    clock = FakeClock(datetime(2026, 3, 2, 7, tzinfo=UTC))
    a = Engine(clock=clock, engine_id="a", lease_seconds=15)
    b = Engine(clock=clock, engine_id="b", lease_seconds=15)
    assert a._lease.hold(clock.now()) is True
    assert b._lease.hold(clock.now()) is False
    assert b._lease.renew_at == datetime(2026, 3, 2, 7, 0, 5, tzinfo=UTC)  # its next look, before a's expiry
    clock.advance(10)
    assert a._lease.hold(clock.now()) is True  # renewed while alive
    clock.advance(14)
    assert b._lease.hold(clock.now()) is False  # a renewed at +10 s: valid until +25 s
    clock.advance(2)  # a died after its renewal at +10 s: the lease expired at +25 s
    assert b._lease.hold(clock.now()) is True
    assert a._lease.hold(clock.now()) is False  # a came back: b holds it now
    b._lease.release()
    assert a._lease.hold(clock.now()) is True  # released on clean stop: taken at once


def test_engine_module_does_not_import_textual():
    import subprocess
    import sys

    code = "import sys, engine.engine, engine.runner, engine.clock, engine.events; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
