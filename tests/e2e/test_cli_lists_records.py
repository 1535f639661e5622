"""``rota list show|export|delete|all`` and ``rota record show`` end to end: a workflow
that sets a property, creates a task and adds to a list runs for real; the record's
timeline shows each of those, newest first; the list prints its members and exports
their records as CSV that imports again."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from engine.executor import run_due_steps
from engine.runner import execute_run
from engine.workflows import get_workflow, save_workflow
from models.associations import link
from models.bootstrap import open_database
from models.objects import create_record
from models.timeutil import UTC

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _setup(sqlite_url):
    open_database(sqlite_url)
    ann = create_record("contact", {"firstname": "Ann", "email": "ann@x.org", "lifecycle_stage": "lead"})
    create_record("contact", {"firstname": "Bo", "lifecycle_stage": "customer"})
    cy = create_record("contact", {"firstname": "Cy\x1b]0;PWNED\x07", "lifecycle_stage": "lead"})
    big = create_record("company", {"name": "Big", "num_employees": 900})
    link("contact", "company", [(ann, big)])
    save_workflow({"name": "Lead care", "object_type": "contact", "status": "active",
                   "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
                   "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead"]}]],
                   "actions": [{"type": "set_property", "property": "jobtitle", "value": "Buyer"},
                               {"type": "create_task", "title": "Call {firstname}", "due_in_days": 2},
                               {"type": "add_to_list", "list": "Leads called"}]}, actor="t", now=NOW)
    execute_run(get_workflow("Lead care"), NOW, now=NOW)
    run_due_steps(NOW, "test")
    return ann, cy


def test_list_show_export_delete(run, sqlite_url, tmp_path):
    ann, cy = _setup(sqlite_url)
    code, out, _ = run("list", "show", "Leads called", "--json")
    assert code == 0 and json.loads(out) == {"name": "Leads called", "object_type": "contact", "count": 2,
                                             "members": [ann, cy]}
    code, out, _ = run("list", "export", "Leads called")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["id"] for r in rows] == [str(ann), str(cy)]
    assert rows[0]["First Name"] == "Ann" and rows[0]["Job Title"] == "Buyer"
    again = tmp_path / "again.csv"
    again.write_text(out, encoding="utf-8")
    assert run("import", "contact", str(again))[0] == 0  # the export is an import file
    code, out, _ = run("list", "all", "--json")
    assert json.loads(out) == [{"name": "Leads called", "object_type": "contact", "count": 2}]
    code, _, err = run("list", "show", "Nope")
    assert code == 2 and 'no static list named "Nope"' in err
    assert run("list", "delete", "Leads called")[0] == 0
    assert json.loads(run("list", "all", "--json")[1]) == []


def test_record_show_timeline_newest_first(run, sqlite_url):
    ann, cy = _setup(sqlite_url)
    code, out, _ = run("record", "show", "contact", str(ann), "--json")
    story = json.loads(out)
    assert code == 0 and story["properties"]["jobtitle"] == "Buyer"
    assert story["associations"]["company"] == [1]
    kinds = [r["kind"] for r in story["timeline"]]
    assert {"enrolled", "step_succeeded", "task", "list_member"} <= set(kinds)
    ats = [r["at"] for r in story["timeline"]]
    assert ats == sorted(ats, reverse=True)
    assert any(r["kind"] == "step_succeeded" and "Buyer" in r["text"] for r in story["timeline"])
    code, out, _ = run("record", "show", "contact", str(cy))
    assert code == 0 and "\x1b" not in out and "\\x1b" in out  # control characters escaped
    code, _, err = run("record", "show", "contact", "999")
    assert code == 2 and "no contact with id 999" in err
