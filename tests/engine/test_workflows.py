"""The workflow service layer: validation, saving, status changes, audit, versions, export."""
import copy
from datetime import UTC, datetime

import pytest

from engine import workflows as wfs
from engine.schedule.model import parse_schedule
from models.errors import RotaError
from models.schema import AuditEntry, Workflow, WorkflowVersion

UTC = UTC
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

SPEC_EXAMPLE = {
    "name": "Friday customer check-in",
    "object_type": "contact",
    "status": "active",
    "schedule": {"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "Europe/Stockholm"},
    "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]},
                  {"property": "createdate", "operator": "more_than_days_ago", "value": 30}]],
    "suppression": [[{"property": "email", "operator": "unknown"}]],
    "unenrollment": [],
    "actions": [{"type": "create_task", "title": "Call {firstname}", "due_in_days": 2}],
    "settings": {"pause_dates": ["2026-12-25"], "campaign": "Q4 retention"},
}


def body(**changes):
    b = copy.deepcopy(SPEC_EXAMPLE)
    b.update(changes)
    return b


def test_create_writes_version_audit_and_next_run(any_db):
    wf = wfs.save_workflow(body(), actor="alice", now=NOW)
    assert wf.version == 1 and wf.status == "active"
    expected = parse_schedule(SPEC_EXAMPLE["schedule"]).next_after(NOW)
    assert Workflow.get_by_id(wf.id).next_run_at == expected
    assert expected == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # Friday 08:00 Stockholm
    entry = AuditEntry.get(AuditEntry.workflow == wf)
    assert (entry.actor, entry.action) == ("alice", "created")
    assert WorkflowVersion.select().where(WorkflowVersion.workflow == wf).count() == 1


def test_spec_example_round_trips_exactly(any_db):
    wfs.save_workflow(body(), now=NOW)
    exported = wfs.export_workflow("Friday customer check-in")
    assert exported == SPEC_EXAMPLE
    again = wfs.save_workflow(exported, now=NOW)  # nothing changed: no new version
    assert again.version == 1
    assert wfs.export_workflow("Friday customer check-in") == exported


@pytest.mark.parametrize("change,message", [
    ({"colour": "red"}, 'unknown field "colour"'),
    ({"name": "  "}, "name: give the workflow a name"),
    ({"status": "running"}, 'status: "running" is unknown'),
    ({"object_type": "invoice"}, 'object_type: object type "invoice" is unknown'),
    ({"schedule": {"kind": "weekly", "weekdays": [], "time": "08:00"}}, "schedule: "),
    ({"schedule": {"kind": "daily", "time": "24:00"}}, "schedule: "),
    ({"criteria": [[{"property": "shoe_size", "operator": "eq", "value": 3}]]}, "criteria group 1, filter 1"),
    ({"actions": [{"type": "create_task", "title": ""}]}, "actions step 1 (create_task): title"),
    ({"settings": {"pause_dates": ["25/12"]}}, "settings.pause_dates[1]"),
    ({"settings": {"action_times": ["09:00-17:00"]}}, "Not available for scheduled workflows"),
])
def test_invalid_bodies_name_the_field_and_write_nothing(any_db, change, message):
    with pytest.raises(RotaError) as err:
        wfs.save_workflow(body(**change), now=NOW)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert Workflow.select().count() == 0 and AuditEntry.select().count() == 0


def test_pause_clears_and_resume_starts_after_now(any_db):
    wfs.save_workflow(body(), now=NOW)
    paused = wfs.set_status("Friday customer check-in", "paused", now=NOW)
    assert paused.next_run_at is None
    later = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)  # weeks of Fridays passed while paused
    resumed = wfs.set_status("Friday customer check-in", "active", now=later)
    assert resumed.next_run_at == datetime(2027, 1, 22, 7, 0, tzinfo=UTC)  # no catch-up burst
    actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == ["created", "paused", "resumed"]


def test_schedule_change_on_active_workflow_takes_effect_at_once(any_db):
    wf = wfs.save_workflow(body(), now=NOW)
    first = wf.next_run_at
    wfs.save_workflow(body(settings={"campaign": "other"}), now=NOW.replace(hour=13))
    assert Workflow.get_by_id(wf.id).next_run_at == first  # unrelated edit keeps the pending instant
    wfs.save_workflow(body(schedule={"kind": "daily", "time": "18:00", "timezone": "UTC"},
                           settings={"campaign": "other"}), now=NOW)
    assert Workflow.get_by_id(wf.id).next_run_at == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    entry = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert entry.action == "schedule_changed"
    assert 'schedule.time: "08:00" -> "18:00"' in entry.diff


def test_listeners_hear_every_committed_change(any_db):
    heard = []
    unsubscribe = wfs.subscribe(heard.append)
    try:
        wf = wfs.save_workflow(body(), now=NOW)
        wfs.set_status(wf.name, "paused", now=NOW)
        with pytest.raises(RotaError):
            wfs.save_workflow(body(status="bogus"), now=NOW)
    finally:
        unsubscribe()
    wfs.set_status(wf.name, "active", now=NOW)
    assert heard == [wf.id, wf.id]


def test_rename_clone_delete_and_clash(any_db):
    wfs.save_workflow(body(), now=NOW)
    wfs.save_workflow(body(name="Other", status="draft"), now=NOW)
    with pytest.raises(RotaError, match="exists already"):
        wfs.save_workflow(body(name="Other"), original_name="Friday customer check-in", now=NOW)
    wfs.save_workflow(body(name="Renamed"), original_name="Friday customer check-in", now=NOW)
    assert wfs.get_workflow("Renamed").version == 2
    clone = wfs.clone_workflow("Renamed", "Copy", now=NOW)
    assert clone.status == "draft" and clone.next_run_at is None
    wfs.delete_workflow("Copy", actor="bob", now=NOW)
    with pytest.raises(RotaError, match='no workflow named "Copy"'):
        wfs.get_workflow("Copy")
    gone = AuditEntry.get(AuditEntry.action == "deleted")
    assert (gone.workflow_name, gone.actor, gone.workflow_id) == ("Copy", "bob", None)


def test_restore_an_earlier_version(any_db):
    wfs.save_workflow(body(), now=NOW)
    wfs.save_workflow(body(actions=[{"type": "delay", "days": 1}]), now=NOW)
    restored = wfs.restore_version("Friday customer check-in", 1, now=NOW)
    assert restored.version == 3
    assert wfs.export_workflow("Friday customer check-in")["actions"] == SPEC_EXAMPLE["actions"]


def test_secret_headers_are_masked_on_export_and_kept_on_reimport(any_db):
    hook = {"type": "webhook", "url": "http://127.0.0.1:9/hook",
            "headers": {"Authorization": "Bearer s3cret", "User-Agent": "rota"}, "timeout_s": 5, "retries": 2}
    wfs.save_workflow(body(actions=[hook]), now=NOW)
    exported = wfs.export_workflow("Friday customer check-in")
    assert exported["actions"][0]["headers"] == {"Authorization": "***", "User-Agent": "rota"}
    assert "s3cret" not in (AuditEntry.get().diff or "") + str(exported)
    wfs.save_workflow(exported, now=NOW)
    stored = wfs.workflow_body(wfs.get_workflow("Friday customer check-in"))
    assert stored["actions"][0]["headers"]["Authorization"] == "Bearer s3cret"
    fresh = body(name="New", actions=exported["actions"])
    with pytest.raises(RotaError, match='header "Authorization" is masked'):
        wfs.save_workflow(fresh, now=NOW)


def test_import_file_errors_are_one_line(any_db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x",\n "object_type": }')
    with pytest.raises(RotaError, match=r"not valid JSON \(line 2"):
        wfs.import_workflow_file(bad)
    with pytest.raises(RotaError, match="cannot read"):
        wfs.import_workflow_file(tmp_path / "missing.json")


def test_deleting_a_workflow_takes_its_runs_enrollments_and_history(any_db):
    from engine.runner import execute_run
    from models.objects import create_record
    from models.schema import Enrollment, EnrollmentDaily, HistoryEvent, Run

    for stage in ("customer", "customer"):
        create_record("contact", {"lifecycle_stage": stage, "email": "a@b.c"}, now=NOW)
    create_record("contact", {"lifecycle_stage": "customer"}, now=NOW)  # suppressed: no email
    keep = wfs.save_workflow(body(name="Keep"), now=NOW)
    gone = wfs.save_workflow(body(name="Gone"), now=NOW)
    later = datetime(2027, 6, 1, tzinfo=UTC)
    for wf in (keep, gone):
        execute_run(Workflow.get_by_id(wf.id), datetime(2027, 5, 28, 6, 0, tzinfo=UTC), now=later)
    assert Enrollment.select().count() == 4 and HistoryEvent.select().count() == 2
    wfs.delete_workflow("Gone", now=later)
    assert Enrollment.select().count() == 2
    assert {e.workflow_id for e in Enrollment.select()} == {keep.id}
    assert Run.select().where(Run.workflow == gone.id).count() == 0
    assert HistoryEvent.select().where(HistoryEvent.workflow == gone.id).count() == 0
    assert EnrollmentDaily.select().where(EnrollmentDaily.workflow == gone.id).count() == 0


@pytest.mark.parametrize("change, field, section", [
    ({"name": " "}, "name", "name"),
    ({"schedule": {"kind": "daily", "time": "25:00"}}, "schedule", "schedule"),
    ({"criteria": [[{"property": "no_such_property", "operator": "eq", "value": 1}]]}, "criteria", "criteria"),
    ({"suppression": [[{"property": "no_such_property", "operator": "eq", "value": 1}]]}, "suppression",
     "suppression"),
    ({"actions": [{"type": "no_such_step"}]}, "actions", "actions"),
    ({"settings": {"pause_dates": ["2026-12-25", "soon"]}}, "settings.pause_dates[2]", "settings"),
])
def test_errors_carry_the_field_they_are_about(sqlite_db, change, field, section):
    """The editor focuses the section from ``RotaError.section``, not the message."""
    body = {"name": "Fielded", "object_type": "contact", "schedule": {"kind": "daily", "time": "08:00"},
            "criteria": [], **change}
    with pytest.raises(RotaError) as caught:
        wfs.validate_workflow(body, default_timezone="UTC")
    assert caught.value.field == field and caught.value.section == section
