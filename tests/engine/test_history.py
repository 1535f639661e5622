"""The history: enrollments merged with events, newest first, filtered, paged by
keyset, read through indexes; and ``rota history``."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine import executor, runner
from engine.history import history
from engine.workflows import get_workflow
from models.db import db
from models.objects import create_record, update_record
from models.schema import HistoryEvent, Run
from models.store.history import events_page as events_query
from models.timeutil import UTC, iso_z
from tests.engine.historyutil import all_events
from tests.engine.test_actions import T0, make_workflow
from tui.cli import main

D1 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
D2 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
MANUAL_AT = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def _story() -> list[int]:
    """Two scheduled runs of 12 records, a missed occurrence, a manual enrollment."""
    ids = [create_record("contact", {"firstname": f"P{i}"}, now=T0) for i in range(12)]
    make_workflow([{"type": "set_property", "property": "city", "value": "X"}], name="hist")
    wf = get_workflow("hist")
    for at in (D1, D2):
        runner.execute_run(wf, at, now=at)
        executor.run_due_steps(at, "e")
    missed_at = D1 + timedelta(hours=12)
    run = Run.create(workflow=wf.id, scheduled_for=missed_at, status="missed", finished_at=D2)
    HistoryEvent.create(workflow=wf.id, at=D2 - timedelta(minutes=1), type="missed", run=run.id,
                        scheduled_for=missed_at, detail="not run: the engine was down")
    runner.enroll_manual("hist", ids[3], now=MANUAL_AT)
    executor.run_due_steps(MANUAL_AT, "e")
    return ids


@pytest.fixture
def story(any_db):
    return _story()


@pytest.fixture
def story_sqlite(sqlite_db):
    return _story()


def test_everything_merged_newest_first(story_sqlite):
    rows = history("hist", limit=1000)
    assert len(rows) == 12 * 2 * 2 + 1 + 2  # enrollments and steps of two runs, missed, manual + its step
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    assert [r["type"] for r in rows[:2]] == ["step_succeeded", "manual_enrolled"]
    assert rows[0]["at"] == "2026-03-03T12:00:00Z" and rows[0]["step"] == 1
    enrolled = [r for r in rows if r["type"] == "enrolled"]
    assert {r["scheduled_for"] for r in enrolled} == {"2026-03-02T08:00:00Z", "2026-03-03T08:00:00Z"}
    missed = [r for r in rows if r["type"] == "missed"]
    assert missed[0]["scheduled_for"] == "2026-03-02T20:00:00Z" and "engine was down" in missed[0]["detail"]
    assert rows[0]["detail"]["description"].startswith("Set city")


def test_keyset_pages_cover_everything_once(story):
    everything = history("hist", limit=1000)
    seen, cursor = [], None
    while True:
        page = history("hist", limit=5, before=cursor)
        if not page:
            break
        seen += page
        cursor = page[-1]["cursor"]
    assert [r["cursor"] for r in seen] == [r["cursor"] for r in everything]
    assert len({r["cursor"] for r in seen}) == len(seen)


def test_filters_by_record_type_and_dates(story):
    mine = history("hist", record_id=story[3])
    assert [r["type"] for r in mine] == ["step_succeeded", "manual_enrolled", "step_succeeded", "enrolled",
                                         "step_succeeded", "enrolled"]
    assert {r["record_id"] for r in mine} == {story[3]}
    assert len(history("hist", type="enrolled")) == 24
    assert [r["record_id"] for r in history("hist", type="manual_enrolled")] == [story[3]]
    assert len(history("hist", type="step_succeeded")) == 25
    day2 = history("hist", since=D2, until=D2 + timedelta(hours=1))
    assert len(day2) == 24 and {r["at"] for r in day2} == {"2026-03-03T08:00:00Z"}
    page1 = history("hist", record_id=story[3], limit=2)
    page2 = history("hist", record_id=story[3], limit=10, before=page1[-1]["cursor"])
    assert [r["cursor"] for r in page1 + page2] == [r["cursor"] for r in mine]
    with pytest.raises(Exception, match="unknown"):
        history("hist", type="exploded")


def test_event_pages_read_through_an_index(sqlite_db):
    make_workflow([], name="idx")
    wf = get_workflow("idx")
    for args in [(None, None), (5, None), (None, "step_failed"), (5, "step_failed")]:
        sql, params = events_query(wf.id, args[0], args[1], 1, 10**18, (10**17, 1, 9, 0), 200).sql()
        plan = " ".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_rota_history_command(story_sqlite, sqlite_url, capsys):
    story, db_url = story_sqlite, sqlite_url
    assert main(["history", "hist", "--db", db_url, "--type", "enrolled", "--since", "2026-03-03", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 12 and all(r["type"] == "enrolled" for r in rows)
    assert set(rows[0]) >= {"at", "type", "record_id", "scheduled_for", "step", "detail"}
    assert main(["history", "hist", "--db", db_url, "--record", str(story[3]), "--limit", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "manual_enrolled" in lines[1] and "Set city" in lines[0]
    assert main(["history", "hist", "--db", db_url, "--type", "nope"]) == 2
    assert "unknown" in capsys.readouterr().err
    assert main(["history", "nosuch", "--db", db_url]) == 2


def _skips_story() -> list[int]:
    """Overlap skip_in_progress: on D1 the odd records match and start a three-day delay;
    on D2 every record matches, so the run skips the odd ones and enrolls the even ones:
    skip notes and enrollments interleave by record in one run."""
    ids = [create_record("contact", {"firstname": f"S{i}", "city": "A" if i % 2 else "B"}, now=T0)
           for i in range(10)]
    make_workflow([{"type": "delay", "days": 3}, {"type": "set_property", "property": "lastname", "value": "Z"}],
                  name="skips", criteria=[[{"property": "city", "operator": "eq", "value": "A"}]])
    wf = get_workflow("skips")
    runner.execute_run(wf, D1, now=D1)
    executor.run_due_steps(D1, "e")
    for rid in ids:
        update_record("contact", rid, {"city": "A"}, now=D1)
    runner.execute_run(get_workflow("skips"), D2, now=D2)
    executor.run_due_steps(D2, "e")
    return ids


def test_skip_notes_read_as_events_merged_paged_and_filtered(any_db):
    ids = _skips_story()
    odd, even = ids[1::2], ids[0::2]
    everything = history("skips", limit=1000)
    run2 = Run.get(Run.scheduled_for == D2)
    assert (run2.matched, run2.enrolled, run2.skipped_in_progress) == (10, 5, 5)
    # The brute-force reading of the tables, and history's, agree on the skipped rows.
    skipped = [r for r in everything if r["type"] == "skipped_in_progress"]
    assert sorted((r["record_id"], r["run"], r["at"], r["scheduled_for"]) for r in skipped) == sorted(
        (e.record_id, e.run_id, iso_z(e.at), iso_z(e.scheduled_for)) for e in all_events("skipped_in_progress"))
    assert sorted(r["record_id"] for r in skipped) == sorted(odd)
    assert {(r["step"], r["detail"], r["enrollment"]) for r in skipped} == {(None, None, None)}
    # At D2: the run's own events first, then its rows by record, newest (highest) first,
    # enrolled and skipped interleaved.
    at_d2 = [r for r in everything if r["at"] == iso_z(D2)]
    run_rows = [r for r in at_d2 if r["type"] in ("enrolled", "skipped_in_progress")]
    assert at_d2[-len(run_rows):] == run_rows
    assert [r["record_id"] for r in run_rows] == sorted(ids, reverse=True)
    assert [r["type"] for r in run_rows] == ["skipped_in_progress", "enrolled"] * 5
    # Keyset pages of every size cover it all once, in the same order.
    for size in (1, 2, 3, 7):
        seen, cursor = [], None
        while page := history("skips", limit=size, before=cursor):
            seen += page
            cursor = page[-1]["cursor"]
        assert [r["cursor"] for r in seen] == [r["cursor"] for r in everything], size
    # The type filter, paged.
    only = history("skips", type="skipped_in_progress", limit=2)
    only += history("skips", type="skipped_in_progress", limit=10, before=only[-1]["cursor"])
    assert only == skipped
    # A record's own history: its D1 enrollment and delay, then D2's skip.
    mine = history("skips", record_id=odd[0])
    assert [(r["type"], r["at"]) for r in mine] == [
        ("skipped_in_progress", iso_z(D2)), ("delayed", iso_z(D1)), ("enrolled", iso_z(D1))]
    assert history("skips", record_id=even[0], type="skipped_in_progress") == []
    page1 = history("skips", record_id=odd[0], limit=1)
    assert [r["cursor"] for r in page1 + history("skips", record_id=odd[0], before=page1[-1]["cursor"])] == [
        r["cursor"] for r in mine]
    # Dates.
    assert history("skips", type="skipped_in_progress", since=D1, until=D2) == []
    assert len(history("skips", type="skipped_in_progress", since=D2)) == 5


def test_skips_noted_before_schema_7_still_read(any_db):
    """Before schema 7 a skip was a history_event row: such rows still show."""
    ids = _skips_story()
    run2 = Run.get(Run.scheduled_for == D2)
    HistoryEvent.create(workflow=run2.workflow_id, at=D2, type="skipped_in_progress", run=run2.id,
                        scheduled_for=D2, record_id=ids[0])
    rows = history("skips", type="skipped_in_progress")
    assert len(rows) == 6 and [r["record_id"] for r in rows][0] == ids[0]
