"""The ``overlap`` setting (issue 11, item 3) through the real engine and a FakeClock, on
SQLite and PostgreSQL: what a scheduled run does with a record still in the workflow."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest

from engine.clock import FakeClock
from engine.engine import Engine
from engine.history import history
from engine.run import enroll_manual
from engine.runner import runs_as_json
from engine.workflows import delete_workflow, save_workflow
from models import bootstrap, schema
from models import db as dbmod
from models.errors import RotaError
from models.objects import create_record
from models.schema import Enrollment, HistoryEvent, Run, SkipNote, Workflow
from models.timeutil import UTC, iso_z
from tui.cli import main as cli_main
from tui.commandline.engine_cmd import EventPrinter

T0 = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)  # a Monday; the workflow runs daily at 08:00 UTC
DAY1 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def _setup(db_url, overlap: str | None, *, delay_days: int = 3):
    """Three customers and a lead; a delay keeps every enrollment in progress for days."""
    ids = [create_record("contact", {"firstname": f"C{i}", "lifecycle_stage": "customer"}, now=T0)
           for i in range(3)]
    create_record("contact", {"firstname": "Lead", "lifecycle_stage": "lead"}, now=T0)
    settings = {} if overlap is None else {"overlap": overlap}
    save_workflow({
        "name": "wf", "object_type": "contact", "status": "active",
        "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
        "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]],
        "actions": [{"type": "delay", "days": delay_days},
                    {"type": "set_property", "property": "city", "value": "Done"}],
        "settings": settings,
    }, actor="tester", now=T0)
    clock = FakeClock(T0)
    return Engine(db_url, clock=clock, engine_id="test-engine"), clock, ids


def _run_at(engine, clock, at) -> Run:
    clock.set(at)
    engine.run_pending()
    return Run.select().where(Run.scheduled_for == at).get()


def _in_progress(record_id: int) -> list[Enrollment]:
    return list(Enrollment.select().where((Enrollment.record_id == record_id)
                                          & Enrollment.state.in_(("active", "waiting"))))


def _events(kind: str) -> list[HistoryEvent]:
    return list(HistoryEvent.select().where(HistoryEvent.type == kind).order_by(HistoryEvent.id))


def _skipped(**filters) -> list[dict]:
    """The workflow's ``skipped_in_progress`` events, as every history reader gets them."""
    return history("wf", type="skipped_in_progress", **filters)


@pytest.mark.parametrize("overlap", [None, "skip_in_progress"])
def test_skip_in_progress_is_the_default_and_counts_the_skipped(any_db, db_url, overlap):
    engine, clock, ids = _setup(db_url, overlap)
    first = _run_at(engine, clock, DAY1)
    assert (first.enrolled, first.skipped_in_progress) == (3, 0)
    create_record("contact", {"firstname": "New", "lifecycle_stage": "customer"}, now=DAY1)
    second = _run_at(engine, clock, DAY2)
    assert (second.matched, second.enrolled, second.skipped_in_progress) == (4, 1, 3)
    skipped = _skipped()
    assert sorted(e["record_id"] for e in skipped) == sorted(ids)
    assert {(e["run"], e["at"], e["scheduled_for"], e["step"], e["detail"], e["enrollment"]) for e in skipped} == {
        (second.id, iso_z(DAY2), iso_z(DAY2), None, None, None)}
    # The same rows in the whole history, and in each record's own.
    assert [e for e in history("wf") if e["type"] == "skipped_in_progress"] == skipped
    for rid in ids:
        assert [e["run"] for e in _skipped(record_id=rid)] == [second.id]
    for rid in ids:  # still exactly the first enrollment, untouched
        [only] = _in_progress(rid)
        assert only.run_id == first.id and only.state == "waiting"
    row = runs_as_json("wf")[0]
    assert (row["scheduled_for"], row["skipped_in_progress"], row["enrolled"]) == ("2026-03-03T08:00:00Z", 3, 1)


def test_a_finished_enrollment_does_not_block_the_next_run(any_db, db_url):
    engine, clock, ids = _setup(db_url, "skip_in_progress", delay_days=1)
    _run_at(engine, clock, DAY1)
    second = _run_at(engine, clock, DAY2)  # the first enrollments finish in this pass, after the run
    assert second.skipped_in_progress == 3
    third = _run_at(engine, clock, DAY2 + timedelta(days=1))
    assert (third.enrolled, third.skipped_in_progress) == (3, 0)


def test_allow_enrolls_again_and_both_go_on(any_db, db_url):
    engine, clock, ids = _setup(db_url, "allow")
    first = _run_at(engine, clock, DAY1)
    second = _run_at(engine, clock, DAY2)
    assert (second.enrolled, second.skipped_in_progress) == (3, 0)
    for rid in ids:
        assert sorted(e.run_id for e in _in_progress(rid)) == [first.id, second.id]
    assert _skipped() == [] and _events("unenrolled") == []


def test_replace_ends_the_older_enrollment_with_a_reason(any_db, db_url):
    engine, clock, ids = _setup(db_url, "replace")
    first = _run_at(engine, clock, DAY1)
    second = _run_at(engine, clock, DAY2)
    assert (second.enrolled, second.skipped_in_progress) == (3, 0)
    for rid in ids:
        [only] = _in_progress(rid)
        assert only.run_id == second.id
    first, second = Run.get_by_id(first.id), Run.get_by_id(second.id)
    assert (first.in_progress, first.completed, second.in_progress) == (0, 3, 3)
    old = list(Enrollment.select().where(Enrollment.run == first.id))
    assert {(e.state, e.next_step_at) for e in old} == {("unenrolled", None)}
    ended = _events("unenrolled")
    assert sorted(e.enrollment_id for e in ended) == sorted(e.id for e in old)
    assert {e.run_id for e in ended} == {second.id}
    assert {json.loads(e.detail)["reason"] for e in ended} == {
        "replaced by a new enrollment (overlap: replace)"}
    # The replaced enrollments never run their later step.
    clock.set(DAY1 + timedelta(days=3))
    engine.run_pending()
    assert {e.state for e in Enrollment.select().where(Enrollment.run == first.id)} == {"unenrolled"}


@pytest.mark.parametrize("overlap", ["skip_in_progress", "allow", "replace"])
def test_a_record_is_never_enrolled_twice_in_one_run(any_db, db_url, overlap):
    engine, clock, ids = _setup(db_url, overlap)
    for day in range(3):
        run = _run_at(engine, clock, DAY1 + timedelta(days=day))
        rows = [e.record_id for e in Enrollment.select().where(Enrollment.run == run.id)]
        assert len(rows) == len(set(rows))
        busy = [e.record_id for e in Enrollment.select().where(Enrollment.state.in_(("active", "waiting")))]
        if overlap != "allow":  # at most one enrollment in progress per record
            assert sorted(busy) == sorted(ids)


def _lanes(record_id: int) -> list[tuple[int, int]]:
    return sorted((e.run_id, e.lane) for e in _in_progress(record_id))


def test_a_forced_manual_enrollment_runs_in_its_own_lane_and_is_still_skipped(any_db, db_url):
    """A manual enrollment alongside one in progress (the operator said yes) takes a lane
    of its own; the next scheduled run still skips that record, once, and counts it once."""
    engine, clock, ids = _setup(db_url, "skip_in_progress")
    first = _run_at(engine, clock, DAY1)
    manual = enroll_manual("wf", ids[0], now=DAY1 + timedelta(hours=1))
    assert manual.kind == "manual" and _lanes(ids[0]) == [(first.id, 0), (manual.id, manual.id)]
    second = _run_at(engine, clock, DAY2)
    assert (second.matched, second.enrolled, second.skipped_in_progress) == (3, 0, 3)
    assert sorted(e["record_id"] for e in history("wf", type="skipped_in_progress")) == sorted(ids)
    assert _lanes(ids[0]) == [(first.id, 0), (manual.id, manual.id)]
    # A new customer is enrolled the next day, in the shared lane, while the others wait.
    new = create_record("contact", {"firstname": "New", "lifecycle_stage": "customer"}, now=DAY2)
    third = _run_at(engine, clock, DAY2 + timedelta(days=1))
    assert (third.matched, third.enrolled, third.skipped_in_progress) == (4, 1, 3)
    assert _lanes(new) == [(third.id, 0)]


def test_a_manual_enrollment_with_nothing_in_progress_takes_the_shared_lane(any_db, db_url):
    engine, clock, ids = _setup(db_url, "skip_in_progress")
    manual = enroll_manual("wf", ids[1], now=T0)
    assert _lanes(ids[1]) == [(manual.id, 0)]
    first = _run_at(engine, clock, DAY1)
    assert (first.matched, first.enrolled, first.skipped_in_progress) == (3, 2, 1)
    assert [e["record_id"] for e in history("wf", type="skipped_in_progress")] == [ids[1]]


def test_from_allow_to_skip_in_progress_each_busy_record_is_skipped_once(any_db, db_url):
    """Under allow each run's enrollments have a lane of their own; after a switch to
    skip_in_progress a record in progress twice is skipped (and noted) once."""
    engine, clock, ids = _setup(db_url, "allow")
    first = _run_at(engine, clock, DAY1)
    second = _run_at(engine, clock, DAY2)
    assert _lanes(ids[2]) == [(first.id, first.id), (second.id, second.id)]
    wf = Workflow.get(Workflow.name == "wf")
    Workflow.update(settings={"overlap": "skip_in_progress"}).where(Workflow.id == wf.id).execute()
    third = _run_at(engine, clock, DAY2 + timedelta(days=1))
    assert (third.matched, third.enrolled, third.skipped_in_progress) == (3, 0, 3)
    notes = history("wf", type="skipped_in_progress")
    assert sorted(e["record_id"] for e in notes) == sorted(ids) and {e["run"] for e in notes} == {third.id}


def test_an_unknown_overlap_is_one_clear_line(any_db):
    with pytest.raises(RotaError) as err:
        save_workflow({"name": "bad", "object_type": "contact", "status": "draft",
                       "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
                       "settings": {"overlap": "queue"}}, actor="tester", now=T0)
    assert str(err.value) == ('settings.overlap: "queue" is not a choice; use one of '
                              'skip_in_progress, allow, replace')


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_migrations_6_and_7_bring_a_version_5_database_up(backend, sqlite_url, request):
    """6: run.skipped_in_progress and the partial index of enrollments in progress; 7:
    the lanes, the index made unique, the skip notes. A record in progress twice (overlap
    allow) keeps its older enrollment in lane 0 and moves the newer to its run's lane."""
    url = sqlite_url if backend == "sqlite" else request.getfixturevalue("pg_url")
    bootstrap.open_database(url)
    db = dbmod.db
    db.execute_sql('DROP INDEX "enrollment_workflow_id_record_id_lane"')
    db.execute_sql('ALTER TABLE "enrollment" DROP COLUMN "lane"')
    db.execute_sql('DROP TABLE "run_skip"')
    db.execute_sql('ALTER TABLE "run" DROP COLUMN "skipped_in_progress"')
    schema.SchemaVersion.update(version=5).execute()
    for run, record, state in [(1, 7, "waiting"), (2, 7, "active"), (3, 7, "done"), (2, 8, "waiting")]:
        db.execute_sql('INSERT INTO "enrollment" ("run_id", "workflow_id", "record_id", "manual", "enrolled_at", '
                       f"\"state\", \"step\") VALUES ({run}, 1, {record}, FALSE, 0, '{state}', 1)")
    dbmod.close_database()
    bootstrap.open_database(url)
    assert schema.current_version() == schema.SCHEMA_VERSION == 7
    assert "skipped_in_progress" in {c.name for c in dbmod.db.get_columns("run")}
    [index] = [i for i in dbmod.db.get_indexes("enrollment") if i.name == "enrollment_workflow_id_record_id_lane"]
    assert index.unique and index.columns == ["workflow_id", "record_id", "lane"]
    assert "enrollment_workflow_id_record_id" not in {i.name for i in dbmod.db.get_indexes("enrollment")}
    lanes = {(e.run_id, e.record_id): e.lane for e in Enrollment.select()}
    assert lanes == {(1, 7): 0, (2, 7): 2, (3, 7): 0, (2, 8): 0}
    assert dbmod.db.table_exists("run_skip")
    dbmod.close_database()


def test_the_runs_table_and_the_engine_log_show_the_skipped(any_db, db_url, capsys):
    """`rota runs` has a skipped column (matched = enrolled + suppressed + skipped); the
    engine's stderr line says "skipped in progress N", its JSON line carries
    skipped_in_progress; `rota runs --json` keeps its field names."""
    engine, clock, ids = _setup(db_url, "skip_in_progress")
    lines = {"text": io.StringIO(), "json": io.StringIO()}
    printers = [EventPrinter(fmt, stream) for fmt, stream in lines.items()]
    engine.on_event = lambda event: [p(event) for p in printers]
    _run_at(engine, clock, DAY1)
    _run_at(engine, clock, DAY2)
    text = lines["text"].getvalue().splitlines()
    assert len(text) == 2
    assert "matched 3, enrolled 3, suppressed 0, skipped in progress 0" in text[0]
    assert "matched 3, enrolled 0, suppressed 0, skipped in progress 3" in text[1]
    logged = [json.loads(line) for line in lines["json"].getvalue().splitlines()]
    assert [(e["event"], e["enrolled"], e["skipped_in_progress"]) for e in logged] == [("run", 3, 0), ("run", 0, 3)]
    dbmod.close_database()
    capsys.readouterr()
    assert cli_main(["--db", db_url, "runs", "wf"]) == 0
    header, newest, oldest = capsys.readouterr().out.splitlines()
    cols = header.split()
    assert cols[cols.index("suppressed") + 1] == "skipped"
    # scheduled for (weekday, date, time), status, matched, enrolled, suppressed, skipped, ...
    assert newest.split()[3:8] == ["succeeded", "3", "0", "0", "3"]
    assert oldest.split()[3:8] == ["succeeded", "3", "3", "0", "0"]
    assert cli_main(["--db", db_url, "runs", "wf", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["matched"], r["enrolled"], r["skipped_in_progress"]) for r in rows] == [(3, 0, 3), (3, 3, 0)]


def test_deleting_the_workflow_takes_its_skip_notes_and_enrollments(any_db, db_url):
    """Skip notes, like enrollments, hold no enforced reference: delete_workflow removes them."""
    engine, clock, ids = _setup(db_url, "skip_in_progress")
    _run_at(engine, clock, DAY1)
    _run_at(engine, clock, DAY2)
    assert SkipNote.select().count() == 3 and Enrollment.select().count() == 3
    delete_workflow("wf", actor="tester")
    assert SkipNote.select().count() == 0 and Enrollment.select().count() == 0 and Run.select().count() == 0
