"""Every step type end to end through the real engine (FakeClock), on SQLite and
PostgreSQL, with the webhook and the e-mail going to real local servers."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine import runner
from engine.audit import audit_entries
from engine.clock import FakeClock
from engine.engine import Engine
from engine.history import history
from engine.workflows import save_workflow
from models.objects import create_record, get_record, update_record
from models.schema import Enrollment, ListMember, Notification, StaticList, Task
from models.store.object_types import add_property
from models.timeutil import UTC
from tests.engine.historyutil import all_events
from tests.engine.servers import HTTPServer, SMTPServer

T0 = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)  # a Monday; the workflows run daily at 08:00 UTC


def make_workflow(actions, *, name="wf", criteria=None, unenrollment=None, settings=None, time="08:00",
                  tz="UTC", now=T0, status="active"):
    return save_workflow({
        "name": name, "object_type": "contact", "status": status,
        "schedule": {"kind": "daily", "time": time, "timezone": tz},
        "criteria": criteria or [], "unenrollment": unenrollment or [], "actions": actions,
        "settings": settings or {},
    }, actor="tester", now=now)


def events(kind=None, record_id=None) -> list:
    return all_events(kind, record_id)


def engine_at(db_url, start=T0) -> tuple[Engine, FakeClock]:
    clock = FakeClock(start)
    return Engine(db_url, clock=clock, engine_id="test-engine"), clock


def test_every_step_type_runs_end_to_end(any_db, db_url, monkeypatch):
    add_property("contact", "score", "Score", "number")
    alice = create_record("contact", {"firstname": "Alice", "lifecycle_stage": "customer", "owner": "olga"}, now=T0)
    bob = create_record("contact", {"firstname": "Bob", "lifecycle_stage": "lead"}, now=T0)
    secret = "Bearer s3cr3t-t0ken"
    with SMTPServer() as smtp, HTTPServer() as http:
        monkeypatch.setenv("ROTA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROTA_SMTP_PORT", str(smtp.port))
        make_workflow([
            {"type": "set_property", "property": "score", "value": 5},
            {"type": "set_property", "property": "city", "value": "{firstname} town"},
            {"type": "copy_property", "from": "firstname", "to": "jobtitle"},
            {"type": "create_task", "title": "Call {firstname}", "due_in_days": 2, "owner": "{owner}"},
            {"type": "notify", "to": ["olga"], "message": "Check {firstname}", "email": ["ops@example.com"]},
            {"type": "branch", "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of",
                                              "value": ["customer"]}]],
             "then": [{"type": "add_to_list", "list": "VIP"}],
             "else": [{"type": "add_to_list", "list": "Leads"}]},
            {"type": "delay", "hours": 1},
            {"type": "remove_from_list", "list": "Leads"},
            {"type": "webhook", "url": http.url, "headers": {"Authorization": secret, "X-Plain": "v"},
             "timeout_s": 5, "retries": 2},
        ])
        engine, clock = engine_at(db_url)
        clock.set(T0 + timedelta(minutes=1))
        engine.run_pending()

        a, b = get_record("contact", alice), get_record("contact", bob)
        assert (a["score"], a["city"], a["jobtitle"]) == (5.0, "Alice town", "Alice")
        assert (b["score"], b["city"], b["jobtitle"]) == (5.0, "Bob town", "Bob")
        tasks = {t.record_id: t for t in Task.select()}
        assert tasks[alice].title == "Call Alice" and tasks[alice].owner == "olga"
        assert str(tasks[alice].due_date) == "2026-03-04"
        assert sorted(n.message for n in Notification.select().where(Notification.operator == "olga")) == \
            ["Check Alice", "Check Bob"]
        assert len(smtp.messages) == 2 and {m["to"][0] for m in smtp.messages} == {"ops@example.com"}
        assert any("Check Alice" in m["data"] for m in smtp.messages)
        vip = StaticList.get(StaticList.name == "VIP")
        leads = StaticList.get(StaticList.name == "Leads")
        assert [m.record_id for m in ListMember.select().where(ListMember.list == vip)] == [alice]
        assert [m.record_id for m in ListMember.select().where(ListMember.list == leads)] == [bob]
        assert {e.state for e in Enrollment.select()} == {"waiting"}
        assert len(events("delayed")) == 2 and not http.requests

        clock.set(T0 + timedelta(hours=1, minutes=1))
        engine.run_pending()
        assert ListMember.select().where(ListMember.list == leads).count() == 0
        assert len(http.requests) == 2
        req = next(r for r in http.requests if r["body"]["record"]["firstname"] == "Alice")
        assert req["headers"]["Authorization"] == secret and req["headers"]["X-Plain"] == "v"
        assert req["body"]["enrollment"]["scheduled_for"] == "2026-03-02T08:00:00Z"
        assert req["body"]["record"]["createdate"] == "2026-03-02T07:59:00Z"
        keys = {r["headers"]["Idempotency-Key"] for r in http.requests}
        assert len(keys) == 2
    assert {e.state for e in Enrollment.select()} == {"done"}
    for rid in (alice, bob):
        assert len(events("step_succeeded", rid)) == 9  # 8 steps + the branch arm's step (+1 delayed)
    hook = [e for e in events("step_succeeded") if json.loads(e.detail)["action"] == "webhook"]
    assert json.loads(hook[0].detail)["headers"] == {"Authorization": "***", "X-Plain": "***"}  # issue 11: all but Content-Type, Accept, User-Agent
    assert all(secret not in (e.detail or "") and "s3cr3t" not in (e.detail or "") for e in events())
    shown = history("wf", limit=1000)  # what `rota history` and the history screen read
    assert {r["type"] for r in shown} == {"enrolled", "step_succeeded", "delayed"}
    assert shown[0]["detail"]["action"] == "webhook" and "s3cr3t" not in json.dumps(shown)
    assert [e.action for e in audit_entries("wf")] == ["created"]


def test_webhook_retries_with_backoff_then_fails(sqlite_db, sqlite_url):
    rid = create_record("contact", {"firstname": "Ann"}, now=T0)
    with HTTPServer(default=503) as http:
        make_workflow([{"type": "webhook", "url": http.url, "headers": {"X-Api-Key": "k3y"}, "retries": 2}])
        engine, clock = engine_at(sqlite_url)
        clock.set(T0 + timedelta(minutes=1))
        engine.run_pending()
        assert len(http.requests) == 1
        enr = Enrollment.get()
        assert enr.state == "waiting" and enr.next_step_at == T0 + timedelta(minutes=1, seconds=10)
        clock.advance(5)  # back-off not over: nothing is sent
        engine.run_pending()
        assert len(http.requests) == 1
        clock.advance(5)
        engine.run_pending()
        assert len(http.requests) == 2
        assert Enrollment.get().next_step_at == clock.now() + timedelta(seconds=20)  # doubled
        clock.advance(20)
        engine.run_pending()
        assert len(http.requests) == 3
        clock.advance(3600)
        engine.run_pending()
        assert len(http.requests) == 3  # retries=2: three tries in all, then it stops
    assert Enrollment.get().state == "failed"
    assert [e.type for e in events(record_id=rid)] == ["step_retry", "step_retry", "step_failed"]
    failed = json.loads(events("step_failed")[0].detail)
    assert "HTTP 503" in failed["error"] and "after 3 attempts" in failed["error"]
    assert failed["headers"] == {"X-Api-Key": "***"}
    assert len({r["headers"]["Idempotency-Key"] for r in http.requests}) == 1  # stable across retries
    assert [r["body"]["attempt"] for r in http.requests] == [1, 2, 3]


def test_webhook_timeout_is_retried_and_client_error_is_final(sqlite_db, sqlite_url):
    create_record("contact", {"firstname": "Ann"}, now=T0)
    with HTTPServer(script=[(200, 1.5), 404]) as http:
        make_workflow([{"type": "webhook", "url": http.url, "timeout_s": 0.3, "retries": 3}])
        engine, clock = engine_at(sqlite_url)
        clock.set(T0 + timedelta(minutes=1))
        engine.run_pending()
        retry = json.loads(events("step_retry")[0].detail)
        assert "timed out" in retry["error"]
        clock.advance(10)
        engine.run_pending()
        assert len(http.requests) == 2
    assert Enrollment.get().state == "failed"
    assert "HTTP 404" in json.loads(events("step_failed")[0].detail)["error"]


def test_email_temporary_failure_is_retried_then_delivered_once(sqlite_db, sqlite_url, monkeypatch):
    create_record("contact", {"firstname": "Ann"}, now=T0)
    with SMTPServer() as smtp:
        smtp.refuse = True
        monkeypatch.setenv("ROTA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROTA_SMTP_PORT", str(smtp.port))
        make_workflow([{"type": "notify", "to": ["olga", "per"], "message": "Hi {firstname}",
                        "email": ["ops@example.com"]}])
        engine, clock = engine_at(sqlite_url)
        clock.set(T0 + timedelta(minutes=1))
        engine.run_pending()
        assert Notification.select().count() == 0 and len(events("step_retry")) == 1
        smtp.refuse = False
        clock.advance(10)
        engine.run_pending()
        assert len(smtp.messages) == 1 and "Hi Ann" in smtp.messages[0]["data"]
    assert sorted(n.operator for n in Notification.select()) == ["olga", "per"]
    assert Enrollment.get().state == "done"


def test_pause_day_waits_until_same_wall_time_next_open_day(any_db, db_url):
    rid = create_record("contact", {"firstname": "Ann"}, now=T0)
    tz = "Europe/Stockholm"  # 08:00 local is 07:00Z in March (before DST on Mar 29)
    start = datetime(2026, 3, 2, 6, 59, tzinfo=UTC)
    make_workflow([{"type": "delay", "days": 1}, {"type": "set_property", "property": "city", "value": "Done"}],
                  tz=tz, settings={"pause_dates": ["2026-03-03", "2026-03-04"], "overlap": "allow"}, now=start)
    engine, clock = engine_at(db_url, start)
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    engine.run_pending()
    assert Enrollment.get().next_step_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    engine.run_pending()  # also enrolls the record again (Mar 3 occurrence): runs go on, actions wait
    first, second = Enrollment.select().order_by(Enrollment.id)
    assert get_record("contact", rid)["city"] is None
    assert first.state == "waiting" and first.next_step_at == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
    paused = [e for e in events("paused") if e.enrollment_id == first.id]
    assert len(paused) == 1 and json.loads(paused[0].detail)["until"] == "2026-03-05T07:00:00Z"
    assert second.step == 0 and second.next_step_at == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
    clock.set(datetime(2026, 3, 5, 7, 0, tzinfo=UTC))
    engine.run_pending()
    assert get_record("contact", rid)["city"] == "Done"
    assert [e.type for e in events() if e.enrollment_id == first.id] == ["delayed", "paused", "step_succeeded"]
    assert [e.type for e in events() if e.enrollment_id == second.id] == ["paused", "delayed"]
    assert len(history("wf", type="paused")) == 2


def test_record_meeting_unenrollment_criteria_leaves_before_next_step(any_db, db_url):
    stay = create_record("contact", {"firstname": "Stay", "lifecycle_stage": "lead"}, now=T0)
    leave = create_record("contact", {"firstname": "Leave", "lifecycle_stage": "lead"}, now=T0)
    make_workflow([{"type": "delay", "minutes": 30}, {"type": "set_property", "property": "city", "value": "X"}],
                  unenrollment=[[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]])
    engine, clock = engine_at(db_url)
    clock.set(T0 + timedelta(minutes=1))
    engine.run_pending()
    update_record("contact", leave, {"lifecycle_stage": "customer"})
    clock.advance(timedelta(minutes=30))
    engine.run_pending()
    assert get_record("contact", stay)["city"] == "X"
    assert get_record("contact", leave)["city"] is None
    states = {e.record_id: e.state for e in Enrollment.select()}
    assert states == {stay: "done", leave: "unenrolled"}
    assert [e.type for e in events(record_id=leave)] == ["delayed", "unenrolled"]
    assert [r["type"] for r in history("wf", record_id=leave)] == ["unenrolled", "delayed", "enrolled"]


def test_manual_enrollment_runs_its_steps_at_once(sqlite_db, sqlite_url):
    rid = create_record("contact", {"firstname": "Ann"}, now=T0)
    make_workflow([{"type": "create_task", "title": "Welcome {firstname}", "due_in_days": 0}])
    engine, clock = engine_at(sqlite_url)
    runner.enroll_manual("wf", rid, now=clock.now())
    engine.run_pending()
    assert [t.title for t in Task.select()] == ["Welcome Ann"]
    assert Enrollment.get().manual and Enrollment.get().state == "done"


def test_step_failures_are_recorded_and_stop_the_enrollment(sqlite_db, sqlite_url):
    gone = create_record("contact", {"firstname": "Gone"}, now=T0)
    kept = create_record("contact", {"firstname": "Kept"}, now=T0)
    StaticList.create(name="Companies", object_type=2, created_at=T0)  # a list of another type
    make_workflow([{"type": "delay", "minutes": 1}, {"type": "add_to_list", "list": "Companies"},
                   {"type": "set_property", "property": "city", "value": "never"}])
    engine, clock = engine_at(sqlite_url)
    clock.set(T0 + timedelta(minutes=1))
    engine.run_pending()
    from models.objects import record_model
    m = record_model("contact")
    m.delete().where(m.id == gone).execute()
    clock.advance(60)
    engine.run_pending()
    failures = {e.record_id: json.loads(e.detail)["error"] for e in events("step_failed")}
    assert "no longer exists" in failures[gone]
    assert "another object type" in failures[kept]
    assert {e.state for e in Enrollment.select()} == {"failed"}
    assert get_record("contact", kept)["city"] is None


def test_edit_that_removes_a_branch_continues_at_the_top_level_step(sqlite_db, sqlite_url):
    rid = create_record("contact", {"firstname": "Ann"}, now=T0)
    branch = {"type": "branch", "criteria": [[{"property": "firstname", "operator": "known"}]],
              "then": [{"type": "delay", "minutes": 5}, {"type": "set_property", "property": "city", "value": "A"}]}
    make_workflow([branch, {"type": "set_property", "property": "jobtitle", "value": "B"}])
    engine, clock = engine_at(sqlite_url)
    clock.set(T0 + timedelta(minutes=1))
    engine.run_pending()
    assert json.loads(Enrollment.get().path)["pos"] == [0, "then", 1]
    make_workflow([{"type": "set_property", "property": "country", "value": "SE"},
                   {"type": "set_property", "property": "jobtitle", "value": "B"}], now=clock.now())
    clock.advance(300)
    engine.run_pending()
    rec = get_record("contact", rid)
    assert (rec["city"], rec["country"], rec["jobtitle"]) == (None, "SE", "B")
    assert Enrollment.get().state == "done"


@pytest.mark.parametrize("text,expected", [
    ("Hi {firstname} {lastname}!", "Hi Ann !"),
    ("{Lifecycle Stage}", "Marketing Qualified Lead"),
    ("{createdate}", "2026-03-02 07:59"),
])
def test_templates_fill_from_the_record(sqlite_db, text, expected):
    from engine.steps.templates import render
    from models.timeutil import zone

    rid = create_record("contact", {"firstname": "Ann", "lifecycle_stage": "marketing_qualified_lead"}, now=T0)
    assert render(text, get_record("contact", rid), "contact", zone("UTC")) == expected
