"""Manual enrollment says what will happen (issue 11 §5): engine.enroll.check_manual on
SQLite and PostgreSQL, and ``rota enroll`` needing --force on a real database file."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.enroll import FindingKind, check_manual, needs_confirmation
from engine.runner import enroll_manual, execute_run
from engine.workflows import get_workflow, save_workflow
from models import bootstrap
from models import db as dbmod
from models.errors import RotaError
from models.objects import create_record
from models.schema import Enrollment, HistoryEvent, Run
from models.timeutil import UTC
from tui.cli import main

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def body(**extra) -> dict:
    b = {"name": "Care", "object_type": "contact", "status": "active",
         "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
         "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]],
         "suppression": [[{"property": "email", "operator": "unknown"}]],
         "unenrollment": [[{"property": "city", "operator": "eq", "value": "Oslo"}]],
         "actions": [{"type": "delay", "days": 2}, {"type": "create_task", "title": "Call {firstname}",
                                                      "due_in_days": 1}]}
    b.update(extra)
    return b


def seed() -> dict[str, int]:
    ids = {
        "plain": create_record("contact", {"firstname": "Ann", "email": "ann@example.com", "lifecycle_stage": "customer"}, now=NOW),
        "oslo": create_record("contact", {"firstname": "Ola", "email": "ola@example.com", "city": "Oslo"}, now=NOW),
        "optout": create_record("contact", {"firstname": "Per", "city": "Oslo"}, now=NOW),
    }
    save_workflow(body(), now=NOW - timedelta(days=1), actor="test")
    return ids


def test_findings_name_unenrollment_in_progress_and_suppression(any_db):
    ids = seed()
    assert check_manual("Care", ids["plain"], now=NOW) == []

    leaves = check_manual("Care", ids["oslo"], now=NOW)
    assert [f.kind for f in leaves] == [FindingKind.UNENROLLS]
    assert "unenrollment criteria" in leaves[0].message and "City is" in leaves[0].message
    assert needs_confirmation(leaves) == leaves

    # suppression refuses outright (as enrolling does), so there is nothing to agree to
    refused = check_manual("Care", ids["optout"], now=NOW)
    assert refused[0].kind is FindingKind.SUPPRESSED and refused[0].refuses
    assert needs_confirmation(refused) == []

    # a scheduled run enrolls Ann; her enrollment waits on the delay: in progress
    wf = get_workflow("Care")
    execute_run(wf, NOW - timedelta(hours=1), now=NOW - timedelta(hours=1))
    assert Enrollment.select().where(Enrollment.record_id == ids["plain"]).count() == 1
    waiting = check_manual("Care", ids["plain"], now=NOW)
    assert [f.kind for f in waiting] == [FindingKind.IN_PROGRESS]
    assert "already has an enrollment in progress" in waiting[0].message
    # once it has finished, nothing to say again
    Enrollment.update(state="done", next_step_at=None).execute()
    assert check_manual("Care", ids["plain"], now=NOW) == []


def test_unknown_record_or_workflow_is_a_clear_error(any_db):
    seed()
    with pytest.raises(RotaError, match="no contact with id 999"):
        check_manual("Care", 999, now=NOW)
    with pytest.raises(RotaError, match='no workflow named "Nope"'):
        check_manual("Nope", 1, now=NOW)


def test_cli_enroll_needs_force_for_a_record_that_would_leave(sqlite_url, capsys):

    bootstrap.open_database(sqlite_url)
    try:
        ids = seed()
    finally:
        dbmod.close_database()
    code = main(["--db", sqlite_url, "enroll", "Care", str(ids["oslo"])])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "meets the unenrollment criteria" in err and "--force" in err and len(err.strip().splitlines()) == 1
    bootstrap.open_database(sqlite_url)
    try:
        assert Run.select().where(Run.kind == "manual").count() == 0  # nothing written
    finally:
        dbmod.close_database()

    code = main(["--db", sqlite_url, "enroll", "Care", str(ids["oslo"]), "--force"])
    out, err = capsys.readouterr()
    assert code == 0 and f"enrolled record {ids['oslo']}" in out and "enrolling anyway" in err
    # a plain record needs no --force; a suppressed one is refused as before
    assert main(["--db", sqlite_url, "enroll", "Care", str(ids["plain"])]) == 0
    assert main(["--db", sqlite_url, "enroll", "Care", str(ids["optout"])]) == 0
    out, _ = capsys.readouterr()
    assert "meets the suppression criteria" in out
    bootstrap.open_database(sqlite_url)
    try:
        runs = list(Run.select().where(Run.kind == "manual").order_by(Run.id))
        assert [(r.enrolled, r.suppressed) for r in runs] == [(1, 0), (1, 0), (0, 1)]
        assert HistoryEvent.select().where(HistoryEvent.type == "suppressed").count() == 1
    finally:
        dbmod.close_database()


def test_enrolling_twice_then_asks(any_db):
    ids = seed()
    enroll_manual("Care", ids["plain"], now=NOW)
    kinds = [f.kind for f in check_manual("Care", ids["plain"], now=NOW)]
    assert kinds == [FindingKind.IN_PROGRESS]
