"""The audit log (who, when, a readable before/after diff) and restorable versions."""
from __future__ import annotations

import getpass
from datetime import timedelta

from engine import audit
from engine.workflows import delete_workflow, get_workflow, restore_version, save_workflow, set_status, workflow_body
from tests.engine.test_actions import T0

SECRET = "Bearer hunter2-secret"


def _body(**changes) -> dict:
    body = {"name": "Audited", "object_type": "contact", "status": "draft",
            "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
            "criteria": [[{"property": "city", "operator": "eq", "value": "Oslo"}]],
            "actions": [{"type": "webhook", "url": "http://127.0.0.1:9/h", "headers": {"Authorization": SECRET}}]}
    body.update(changes)
    return body


def test_actor_is_the_operator_else_the_os_user_never_the_ssh_address(monkeypatch):
    assert audit.current_actor("  Olga ") == "Olga"
    monkeypatch.setattr(getpass, "getuser", lambda: "ann")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.setenv("SSH_CLIENT", "10.1.2.3 51234 22")
    assert audit.current_actor("") == "ann"  # issue 11 §7: the address is shown beside, never part of it
    monkeypatch.delenv("SSH_CLIENT")
    assert audit.current_actor("") == "ann"


def test_every_change_is_logged_with_who_when_and_a_readable_diff(sqlite_db, monkeypatch):
    monkeypatch.setenv("ROTA_OPERATOR", "olga")
    t = [T0 + timedelta(minutes=i) for i in range(8)]
    save_workflow(_body(), now=t[0])
    save_workflow(_body(schedule={"kind": "daily", "time": "09:30", "timezone": "UTC"}), now=t[1])
    save_workflow(_body(schedule={"kind": "daily", "time": "09:30", "timezone": "UTC"},
                        criteria=[[{"property": "city", "operator": "eq", "value": "Bergen"}]]), now=t[2])
    set_status("Audited", "active", now=t[3])
    set_status("Audited", "paused", now=t[4])
    set_status("Audited", "active", now=t[5])
    delete_workflow("Audited", now=t[6])
    entries = audit.audit_entries("Audited")
    assert [e.action for e in entries] == ["deleted", "resumed", "paused", "activated", "criteria_changed",
                                           "schedule_changed", "created"]
    assert {e.actor for e in entries} == {"olga"}
    assert [e.at for e in entries] == list(reversed(t[:7]))
    by_action = {e.action: audit.entry_as_dict(e) for e in entries}
    assert by_action["schedule_changed"]["diff"] == ['schedule.time: "08:00" -> "09:30"']
    assert by_action["criteria_changed"]["diff"] == ['criteria[1][1].value: "Oslo" -> "Bergen"']
    assert by_action["paused"]["diff"] == ['status: "active" -> "paused"']
    assert by_action["paused"]["at"] == "2026-03-02T08:03:00Z"
    assert all(SECRET not in (e.diff or "") for e in entries)
    created_actions = [line for line in by_action["created"]["diff"] if line.startswith("actions:")]
    assert created_actions and '"Authorization": "***"' in created_actions[0]


def test_an_earlier_version_can_be_seen_and_restored(sqlite_db):
    save_workflow(_body(), actor="a", now=T0)
    save_workflow(_body(schedule={"kind": "weekly", "weekdays": ["fri"], "time": "07:00", "timezone": "UTC"}),
                  actor="b", now=T0 + timedelta(minutes=1))
    wf = get_workflow("Audited")
    assert [v.version for v in audit.versions(wf)] == [2, 1]
    assert audit.version_body(wf, 1)["schedule"]["time"] == "08:00"
    restore_version("Audited", 1, actor="c", now=T0 + timedelta(minutes=2))
    wf = get_workflow("Audited")
    body = workflow_body(wf)
    assert body["schedule"] == {"kind": "daily", "time": "08:00", "timezone": "UTC"}
    assert body["actions"][0]["headers"]["Authorization"] == SECRET  # the real secret, not the mask
    assert [v.version for v in audit.versions(wf)] == [3, 2, 1]
    newest = audit.audit_entries("Audited")[0]
    assert (newest.actor, newest.action) == ("c", "schedule_changed")
    assert 'schedule.kind: "weekly" -> "daily"' in newest.diff
