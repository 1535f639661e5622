"""One operator identity (issue 11 §7): the settings' operator, else the OS user; the
SSH address beside it, never part of it; notify recipients checked against the roster;
a notification addressed to the OS user reaches that user's inbox (SQLite and PostgreSQL)."""
from __future__ import annotations

import getpass
from datetime import datetime, timedelta

import pytest

from engine import audit, executor, identity
from engine.runner import execute_run
from engine.workflows import get_workflow, save_workflow
from models.errors import RotaError
from models.objects import create_record
from models.schema import AuditEntry, Notification, Task
from models.settings import load_settings, save_settings
from models.store.inbox import load_inbox
from models.timeutil import UTC

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def notify_body(to, name="Ping") -> dict:
    return {"name": name, "object_type": "contact", "status": "active",
            "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
            "criteria": [], "actions": [{"type": "notify", "to": to, "message": "Hello {firstname}"},
                                        {"type": "create_task", "title": "Call {firstname}", "due_in_days": 1,
                                         "owner": "bob"}]}


@pytest.fixture
def ssh_user(monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "root")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.setenv("SSH_CLIENT", "127.0.0.1 51234 22")


def test_the_name_never_carries_the_ssh_address(ssh_user, monkeypatch):
    me = identity.current_identity(load_settings())
    assert me.name == "root" and me.ssh_from == "127.0.0.1"
    assert me.label() == "root · SSH from 127.0.0.1"
    assert audit.current_actor("") == "root"
    monkeypatch.setenv("ROTA_OPERATOR", "  alice ")
    assert identity.current_identity().name == "alice"
    assert audit.current_actor(load_settings().operator) == "alice"


def test_notifications_to_the_os_user_reach_its_inbox(any_db, ssh_user):
    """The reported bug: 53 notifications to root, an inbox for "root (ssh from …)" empty."""
    for name in ("Ann", "Bo"):
        create_record("contact", {"firstname": name}, now=NOW)
    save_workflow(notify_body(["root"]), now=NOW - timedelta(days=1))
    assert AuditEntry.select().first().actor == "root"  # the audit log names the same operator
    wf = get_workflow("Ping")
    execute_run(wf, NOW, now=NOW)
    executor.run_due_steps(NOW, "e1")
    assert Notification.select().where(Notification.operator == "root").count() == 2
    me = identity.current_identity()
    notes, tasks = load_inbox([me.name, identity.EVERYONE], me.name)
    assert sorted(n.message for n in notes) == ["Hello Ann", "Hello Bo"]
    assert tasks == []  # the tasks are bob's
    everyone_notes, everyone_tasks = load_inbox(None, None)
    assert len(everyone_notes) == 2 and len(everyone_tasks) == 2 == Task.select().count()


def test_recipients_are_checked_against_the_roster(any_db, monkeypatch):
    settings = load_settings()
    # no roster: any name goes (a fresh install has none); "Everyone" is spelled one way
    assert identity.check_recipients(["zed", "Everyone"], settings) == ["zed", "everyone"]
    settings.operators = ["alice", "Bob"]
    settings.operator = "carol"
    save_settings(settings)
    assert identity.known_operators() == ["alice", "Bob", "carol"]
    assert identity.check_recipients(["ALICE", "bob", "everyone", "carol"]) == ["alice", "Bob", "everyone", "carol"]
    with pytest.raises(RotaError) as err:
        save_workflow(notify_body(["alice", "alcie"]), now=NOW)
    message = str(err.value)
    assert "actions" in message and '"alcie" is not a known operator' in message
    assert "alice, Bob, carol or everyone" in message
    assert AuditEntry.select().count() == 0  # nothing written
    wf = save_workflow(notify_body(["Alice", "everyone"]), now=NOW)
    assert wf.actions[0]["to"] == ["alice", "everyone"]


def test_operators_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("ROTA_OPERATORS", "alice, bob")
    assert load_settings().operators == ["alice", "bob"]


def test_instants_say_their_zone():
    at = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    assert identity.format_instant(at, "UTC") == "Fri 04 Dec 2026 07:00 UTC"
    assert identity.format_instant(at, "UTC", "Europe/Stockholm") == \
        "Fri 04 Dec 2026 07:00 UTC (08:00 in Europe/Stockholm)"
    assert identity.format_instant(at, "Europe/Stockholm", "Europe/Stockholm") == \
        "Fri 04 Dec 2026 08:00 Europe/Stockholm"
    late = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # another day in Tokyo
    assert identity.format_instant(late, "UTC", "Asia/Tokyo").endswith(
        "(Sat 05 Dec 2026 08:30 in Asia/Tokyo)")
    assert identity.format_instant(None, "UTC") == "none"
