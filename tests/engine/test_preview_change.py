"""What activating, or saving over a live workflow, is about to do (issue 11 §6):
engine.preview_change on SQLite and PostgreSQL, and ``rota workflow import`` printing it."""
from __future__ import annotations

import json
from datetime import date, datetime

from engine.preview_change import (
    preview_activation,
    preview_change,
    review_summary,
)
from engine.schedule.describe import pause_note
from engine.workflows import get_workflow, save_workflow, workflow_body
from models import bootstrap
from models import db as dbmod
from models.objects import create_record
from models.schema import Workflow
from models.timeutil import UTC, zone
from tui.cli import main

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday


def body(**extra) -> dict:
    b = {"name": "Friday", "object_type": "contact", "status": "draft",
         "schedule": {"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "Europe/Stockholm"},
         "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]],
         "suppression": [[{"property": "email", "operator": "unknown"}]],
         "actions": [{"type": "create_task", "title": "Call {firstname}", "due_in_days": 2},
                     {"type": "webhook", "url": "http://127.0.0.1:9/hook", "headers": {"Authorization": "Bearer s3"},
                      "timeout_s": 5, "retries": 1}],
         "settings": {"pause_dates": ["2026-12-25"]}}
    b.update(extra)
    return b


def seed() -> None:
    create_record("contact", {"firstname": "A", "email": "a@x.io", "lifecycle_stage": "customer"}, now=NOW)
    create_record("contact", {"firstname": "B", "lifecycle_stage": "customer"}, now=NOW)  # suppressed
    create_record("contact", {"firstname": "C", "email": "c@x.io", "lifecycle_stage": "lead"}, now=NOW)


def test_activation_preview_counts_next_run_and_actions(any_db):
    seed()
    save_workflow(body(), now=NOW)
    a = preview_activation("Friday", now=NOW)
    assert (a.counts.matching, a.counts.suppressed, a.counts.would_enroll) == (2, 1, 1)
    assert a.counts.words() == "2 records (1 suppressed, 1 would enroll)"
    assert a.next_run == datetime(2026, 12, 4, 7, 0, tzinfo=UTC) and a.timezone == "Europe/Stockholm"
    assert a.actions[0] == '1. Create task "Call {firstname}" due in 2 days'
    assert "s3" not in " ".join(a.actions) and len(a.actions) == 2
    assert not a.resume
    assert get_workflow("Friday").status == "draft"  # a preview writes nothing
    # an unsaved editor body works too, and a paused workflow is a resume
    save_workflow(body(name="Held", status="paused"), now=NOW)
    assert preview_activation("Held", now=NOW).resume
    unsaved = preview_activation(body(name="New one", criteria=[]), now=NOW)
    assert unsaved.counts.matching == 3 and Workflow.get_or_none(Workflow.name == "New one") is None


def test_change_preview_in_words_with_next_run_and_counts_before_and_after(any_db):
    seed()
    save_workflow(body(status="active"), now=NOW)
    stored = workflow_body(get_workflow("Friday"))
    edited = json.loads(json.dumps(stored))
    edited["schedule"]["time"] = "09:30"
    edited["criteria"] = [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer", "lead"]}]]
    edited["actions"].append({"type": "delay", "days": 1})
    edited["actions"][1]["headers"] = {"Authorization": "Bearer NEW"}
    edited["settings"] = {"pause_dates": ["2026-12-24", "2026-12-25"], "campaign": "Q4"}
    c = preview_change("Friday", edited, now=NOW)
    text = "\n".join(c.changes)
    assert "Schedule: Every Friday at 08:00 (Europe/Stockholm) → Every Friday at 09:30 (Europe/Stockholm)" in text
    assert "Criteria: Lifecycle Stage is any of Customer → Lifecycle Stage is any of Customer, Lead" in text
    assert "Step 3 added: Delay 1 days" in text or "Step 3 added: Delay 1 day" in text
    assert "Step 2 (" in text and "headers changed" in text and "NEW" not in text  # secrets stay masked
    assert "Pause days: Fri 25 Dec 2026 → Thu 24 Dec 2026, Fri 25 Dec 2026" in text
    assert "Campaign: none → Q4" in text
    assert c.next_before == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    assert c.next_after == datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
    assert (c.counts_before.matching, c.counts_after.matching) == (2, 3)
    assert (c.counts_before.would_enroll, c.counts_after.would_enroll) == (1, 2)
    assert get_workflow("Friday").version == 1  # nothing written
    # no change: nothing to say; a criteria-only change keeps the next run
    assert preview_change("Friday", stored, now=NOW).unchanged
    only = dict(stored, criteria=[])
    c2 = preview_change("Friday", only, now=NOW)
    assert c2.next_after == c2.next_before and c2.counts_after.matching == 3


def test_review_summary_marks_pause_days_and_lists_everything(any_db):
    seed()
    save_workflow(body(unenrollment=[[{"property": "city", "operator": "eq", "value": "Oslo"}]],
                       settings={"pause_dates": ["2026-12-11"], "campaign": "Q4"}), now=NOW)
    s = review_summary("Friday", now=NOW)
    assert (s.counts.matching, s.counts.suppressed, s.counts.would_enroll) == (2, 1, 1)  # suppression counted
    assert (s.status, s.timezone, s.object_type) == ("draft", "Europe/Stockholm", "Contact")
    assert s.unenrollment == 'City is "Oslo"' or s.unenrollment.startswith("City is")
    assert s.suppression == "Email is unknown" and s.pause_days == "Fri 11 Dec 2026"
    assert s.other_settings == ["Campaign: Q4"]
    assert [o.at.isoformat() for o in s.next_runs] == ["2026-12-04T07:00:00+00:00", "2026-12-11T07:00:00+00:00",
                                                       "2026-12-18T07:00:00+00:00"]
    assert [o.mark for o in s.next_runs] == [
        None, "pause day: enrolls; actions wait until Sat 12 Dec 2026 08:00", None]


def test_pause_note_uses_the_workflows_zone_and_skips_consecutive_pause_days():
    at = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)  # 25 Dec in Stockholm, 24 Dec in UTC
    days = {date(2026, 12, 25), date(2026, 12, 26)}
    assert pause_note(at, zone("Europe/Stockholm"), days) == \
        "pause day: enrolls; actions wait until Sun 27 Dec 2026 00:30"
    assert pause_note(at, zone("UTC"), {date(2026, 12, 25)}) is None


def test_cli_import_of_an_active_workflow_prints_the_change(sqlite_url, tmp_path, capsys):
    bootstrap.open_database(sqlite_url)
    try:
        seed()
    finally:
        dbmod.close_database()
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(body(status="active")), encoding="utf-8")
    assert main(["--db", sqlite_url, "workflow", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert 'saved workflow "Friday" (active)' in out
    assert 'Activated "Friday"' in out and "Records meeting the criteria now: 2 records" in out
    assert "Next run: Fri 04 Dec 2026" in out and "Europe/Stockholm" in out

    assert main(["--db", sqlite_url, "workflow", "export", "Friday", "-o", str(path)]) == 0
    exported = json.loads(path.read_text(encoding="utf-8"))
    exported["schedule"]["time"] = "10:00"
    path.write_text(json.dumps(exported), encoding="utf-8")
    capsys.readouterr()
    assert main(["--db", sqlite_url, "workflow", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert 'Changes to active workflow "Friday":' in out
    assert "Schedule: Every Friday at 08:00 (Europe/Stockholm) → Every Friday at 10:00 (Europe/Stockholm)" in out
    assert "Next run:" in out and "→" in out.split("Next run:")[1]
    assert "Step" not in out  # the masked webhook header came back unchanged
