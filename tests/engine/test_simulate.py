"""`rota simulate` and engine/simulate.py: counts as of each run, notes, and writing nothing.

Expected counts are worked out by hand from the records each test inserts.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from engine import simulate as sim
from engine import workflows
from models import bootstrap
from models import criteria as crit
from models import db as dbmod
from models.objects import create_record
from models.schema import Enrollment, HistoryEvent, Run
from models.timeutil import UTC
from tui.cli import main as cli_main

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
MORE_THAN_3_DAYS = [[{"property": "createdate", "operator": "more_than_days_ago", "value": 3}]]
NO_EMAIL = [[{"property": "email", "operator": "unknown"}]]


def _seed_ten_days() -> None:
    """Ten contacts, one created each day 2026-01-01 … 2026-01-10 at 12:00 UTC; the first has no email."""
    for i in range(10):
        created = datetime(2026, 1, 1 + i, 12, 0, tzinfo=UTC)
        values = {"firstname": f"C{i}", "lifecycle_stage": "customer", "createdate": created.isoformat()}
        if i:
            values["email"] = f"c{i}@example.com"
        create_record("contact", values, now=NOW)


def _save(name: str, schedule: dict, criteria=MORE_THAN_3_DAYS, suppression=NO_EMAIL, **settings):
    body = {"name": name, "object_type": "contact", "status": "active", "schedule": schedule,
            "criteria": criteria, "suppression": suppression}
    if settings:
        body["settings"] = settings
    return workflows.save_workflow(body, now=NOW, actor="test")


def _spy_compiles(monkeypatch) -> set[datetime]:
    """The distinct ``now`` the criteria were judged at (the real compiler and evaluator run)."""
    seen: set[datetime] = set()
    for name in ("compile_criteria", "evaluator"):
        real = getattr(crit, name)

        def spy(groups, type_name, *, now, tz, empty=True, real=real):
            seen.add(now)
            return real(groups, type_name, now=now, tz=tz, empty=empty)

        monkeypatch.setattr(crit, name, spy)
    return seen


def test_relative_dates_are_judged_as_of_each_run(any_db, monkeypatch):
    _seed_ten_days()
    _save("Daily", {"kind": "daily", "time": "08:00", "timezone": "UTC"})
    compiles = _spy_compiles(monkeypatch)
    got = sim.simulate("Daily", date(2026, 1, 5), date(2026, 1, 8))
    # Run day D matches createdate < D - 3 days: on Jan 5 only Jan 1's contact (no email:
    # suppressed); each later day one more.
    assert [(o.scheduled_for, o.would_enroll, o.suppressed) for o in got] == [
        (datetime(2026, 1, 5, 8, 0, tzinfo=UTC), 0, 1),
        (datetime(2026, 1, 6, 8, 0, tzinfo=UTC), 1, 1),
        (datetime(2026, 1, 7, 8, 0, tzinfo=UTC), 2, 1),
        (datetime(2026, 1, 8, 8, 0, tzinfo=UTC), 3, 1),
    ]
    assert compiles == {o.scheduled_for for o in got}  # once per date


def test_runs_on_one_local_date_share_one_count(any_db, monkeypatch):
    _seed_ten_days()
    _save("Twice", {"kind": "cron", "cron": "0 8,20 * * *", "timezone": "UTC"})
    compiles = _spy_compiles(monkeypatch)
    got = sim.simulate("Twice", date(2026, 1, 6), date(2026, 1, 7))
    assert [(o.local_time.strftime("%d %H:%M"), o.would_enroll) for o in got] == [
        ("06 08:00", 1), ("06 20:00", 1), ("07 08:00", 2), ("07 20:00", 2)]
    assert compiles == {datetime(2026, 1, 6, 8, 0, tzinfo=UTC), datetime(2026, 1, 7, 8, 0, tzinfo=UTC)}


def test_criteria_without_relative_dates_are_counted_once(any_db, monkeypatch):
    _seed_ten_days()
    customers = [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]]
    _save("Weekly", {"kind": "weekly", "weekdays": ["mon", "thu"], "time": "09:00", "timezone": "UTC"},
          criteria=customers)
    compiles = _spy_compiles(monkeypatch)
    got = sim.simulate("Weekly", date(2026, 1, 1), date(2026, 1, 31))
    assert len(got) == 9  # Thursdays 1, 8, 15, 22, 29 and Mondays 5, 12, 19, 26
    assert {(o.would_enroll, o.suppressed) for o in got} == {(9, 1)}
    assert compiles == {got[0].scheduled_for}  # one count for every run


@pytest.mark.parametrize("criteria,suppression", [
    (MORE_THAN_3_DAYS, NO_EMAIL),
    ([[{"property": "createdate", "operator": "in_last_days", "value": 2}],
      [{"property": "createdate", "operator": "in_next_days", "value": 1},
       {"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]], []),
    ([], [[{"property": "createdate", "operator": "more_than_days_ago", "value": 0}]]),
])
def test_grouped_counts_equal_one_compiled_query_per_date_across_dst(any_db, criteria, suppression):
    """The fast path (one grouped scan) against the SQL compiler run per date, in a zone
    whose clocks change inside the range, with records created around the change."""
    tz = "Europe/Stockholm"
    for i in range(48):  # every 2 hours around the spring change, 2026-03-27 .. 2026-03-31
        at = datetime(2026, 3, 27, 0, 0, tzinfo=UTC) + timedelta(hours=2 * i)
        create_record("contact", {"firstname": f"S{i}", "lifecycle_stage": "customer" if i % 3 else "lead",
                                  "email": f"s{i}@example.com", "createdate": at.isoformat()}, now=NOW)
    schedule = {"kind": "cron", "cron": "0 0,9,23 * * *", "timezone": tz}
    from engine.schedule.model import parse_schedule

    found = sim.occurrences(parse_schedule(schedule), date(2026, 3, 26), date(2026, 4, 1))
    reps = {}
    for o in found:
        reps.setdefault(o.local_time.date(), o.scheduled_for)
    fast = sim._grouped_counts(reps, "contact", criteria, suppression, tz, None)
    slow = sim._scanned_counts(reps, "contact", criteria, suppression, tz, None)
    assert fast == slow
    assert len({v for v in slow.values()}) > 2  # the counts really change from day to day


def test_notes_name_pause_days_dst_shifts_and_skipped_days(sqlite_db):
    _save("Paused", {"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "Europe/Stockholm"},
          pause_dates=["2026-12-25", "2026-12-26"])
    got = sim.simulate("Paused", date(2026, 12, 18), date(2027, 1, 1))
    notes = {o.local_time.date().isoformat(): o.notes for o in got}
    assert notes == {"2026-12-18": [],
                     "2026-12-25": ["pause day: enrolls; actions wait until Sun 27 Dec 2026 08:00"],
                     "2027-01-01": []}

    _save("Gap", {"kind": "daily", "time": "02:30", "timezone": "Europe/Stockholm"})
    got = sim.simulate("Gap", date(2026, 3, 28), date(2026, 3, 30))
    assert [(o.local_time.strftime("%d %H:%M"), o.notes) for o in got] == [
        ("28 02:30", []),
        ("29 03:00", ["DST: fires at 03:00 instead of 02:30 (the clocks skip 02:30 that day)"]),
        ("30 02:30", []),
    ]
    got = sim.simulate("Gap", date(2026, 10, 25), date(2026, 10, 25))
    assert [(o.scheduled_for, o.notes) for o in got] == [
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
         ["DST: 02:30 happens twice that night; it runs once, at the first (CEST)"])]

    _save("Month end", {"kind": "monthly_days", "days": [30, 31], "time": "06:00", "timezone": "UTC"})
    got = sim.simulate("Month end", date(2026, 2, 1), date(2026, 4, 30))
    assert [(o.local_time.date().isoformat(), o.notes) for o in got] == [
        ("2026-03-30", ["no run on February 30: February 2026 has 28 days (skipped, not moved)",
                        "no run on February 31: February 2026 has 28 days (skipped, not moved)"]),
        ("2026-03-31", []),
        ("2026-04-30", ["no run on April 31: April 2026 has 30 days (skipped, not moved)"]),
    ]


def _digest(path: Path) -> dict[str, str]:
    """Every file in the database's folder (main file, journal, WAL) with a hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.parent.iterdir())}


def test_simulation_writes_nothing_byte_for_byte(tmp_path, capsys):
    path = tmp_path / "db" / "rota.db"
    path.parent.mkdir()
    bootstrap.open_database(str(path))
    _seed_ten_days()
    _save("Daily", {"kind": "daily", "time": "08:00", "timezone": "UTC"}, pause_dates=["2026-01-06"])
    dbmod.close_database()
    before = _digest(path)
    assert "rota.db" in before

    code = cli_main(["--db", str(path), "simulate", "Daily", "--from", "2026-01-05", "--to", "2026-01-08",
                     "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert [set(r) for r in rows] == [{"scheduled_for", "local_time", "would_enroll", "suppressed", "notes"}] * 4
    assert rows[1] == {"scheduled_for": "2026-01-06T08:00:00Z", "local_time": "2026-01-06T08:00+00:00",
                       "would_enroll": 1, "suppressed": 1,
                       "notes": ["pause day: enrolls; actions wait until Wed 07 Jan 2026 08:00"]}
    assert cli_main(["--db", str(path), "simulate", "Daily", "--from", "2026-01-05", "--to", "2026-01-06"]) == 0
    assert "nothing was written" in capsys.readouterr().out
    dbmod.close_database()
    after = _digest(path)
    assert after["rota.db"] == before["rota.db"]
    # WAL mode may leave its files behind after a read; the log holds no page (0 bytes).
    wal = path.parent / "rota.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert set(after) - set(before) <= {"rota.db-wal", "rota.db-shm"}


def test_simulation_adds_no_rows_on_postgresql(pg_url):
    bootstrap.open_database(pg_url)
    try:
        _seed_ten_days()
        _save("Daily", {"kind": "daily", "time": "08:00", "timezone": "UTC"})
        before = (Run.select().count(), Enrollment.select().count(), HistoryEvent.select().count())
        got = sim.simulate("Daily", date(2026, 1, 1), date(2026, 12, 31))
        assert len(got) == 365 and got[-1].would_enroll == 9
        assert (Run.select().count(), Enrollment.select().count(), HistoryEvent.select().count()) == before
    finally:
        dbmod.close_database()


@pytest.mark.parametrize("argv,message", [
    (["--from", "2026-13-01", "--to", "2026-12-31"], '--from "2026-13-01" is not a date: use YYYY-MM-DD'),
    (["--from", "2026-12-31", "--to", "2026-01-01"], "--to 2026-01-01 is before --from 2026-12-31"),
    (["--from", "2026-01-01", "--to", "2040-01-01"], "longer than ten years"),
])
def test_bad_ranges_are_one_line_errors(sqlite_url, capsys, argv, message):
    bootstrap.open_database(sqlite_url)
    _save("Daily", {"kind": "daily", "time": "08:00", "timezone": "UTC"})
    dbmod.close_database()
    code = cli_main(["--db", sqlite_url, "simulate", "Daily", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_unknown_workflow_is_refused(sqlite_url, capsys):
    bootstrap.open_database(sqlite_url)
    dbmod.close_database()
    code = cli_main(["--db", sqlite_url, "simulate", "Nope", "--from", "2026-01-01", "--to", "2026-01-02"])
    assert code == 2 and 'no workflow named "Nope"' in capsys.readouterr().err


def test_a_busy_schedule_is_refused_past_the_cap(sqlite_db):
    _save("Busy", {"kind": "cron", "cron": "* * * * *", "timezone": "UTC"})
    assert len(sim.simulate("Busy", date(2026, 1, 1), date(2026, 1, 2))) == 2 * 1440
    with pytest.raises(Exception, match="more than 200,000 runs"):
        sim.simulate("Busy", date(2026, 1, 1), date(2026, 12, 31))


def test_occurrences_cover_local_dates_in_the_workflows_zone():
    from engine.schedule.model import parse_schedule

    schedule = parse_schedule({"kind": "daily", "time": "00:30", "timezone": "Pacific/Auckland"})
    got = sim.occurrences(schedule, date(2026, 6, 1), date(2026, 6, 2))
    # Auckland is UTC+12 in June: local 1 June 00:30 is 31 May 12:30 UTC.
    assert [o.scheduled_for for o in got] == [datetime(2026, 5, 31, 12, 30, tzinfo=UTC),
                                              datetime(2026, 6, 1, 12, 30, tzinfo=UTC)]
    assert all(o.notes == [] for o in got) and got[0].scheduled_for + timedelta(days=1) == got[1].scheduled_for
