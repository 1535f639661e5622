"""E-mail to records (issue 13 item 5) through the real engine and a real aiosmtpd server
on 127.0.0.1: templates, skips with reasons, retries, the rate limit, STARTTLS and
login from the settings, the Message-ID — on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine.clock import FakeClock
from engine.engine import Engine
from engine.history import history
from engine.steps.shapes import describe_step, validate_actions
from models.errors import RotaError
from models.objects import create_record
from models.schema import Enrollment, HistoryEvent, ListMember
from models.timeutil import UTC
from tests.engine.test_actions import make_workflow
from tests.engine.test_email_smtp import SMTPTestServer

T0 = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)
STEP = {"type": "send_email", "to_property": "email", "subject": "Renewal, {firstname}",
        "body": "Dear {firstname},\nyour plan renews on the 28th."}


def _smtp_env(monkeypatch, port: int, **extra) -> None:
    monkeypatch.setenv("ROTA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ROTA_SMTP_PORT", str(port))
    monkeypatch.setenv("ROTA_SMTP_FROM", "Rota <rota@example.com>")
    for k, v in extra.items():
        monkeypatch.setenv(f"ROTA_{k.upper()}", str(v))


def _events(kind, record_id=None):
    q = HistoryEvent.select().where(HistoryEvent.type == kind).order_by(HistoryEvent.id)
    if record_id is not None:
        q = q.where(HistoryEvent.record_id == record_id)
    return [json.loads(e.detail) for e in q]


def test_sends_to_each_record_and_skips_unknown_or_opted_out_addresses(any_db, db_url, monkeypatch):
    ann = create_record("contact", {"firstname": "Ann", "email": "ann@example.com"}, now=T0)
    nob = create_record("contact", {"firstname": "Nob"}, now=T0)
    out = create_record("contact", {"firstname": "Out", "email": "out@example.com", "email_opt_out": True}, now=T0)
    with SMTPTestServer() as server:
        _smtp_env(monkeypatch, server.port)
        make_workflow([STEP, {"type": "add_to_list", "list": "Mailed"}])
        Engine(db_url, clock=FakeClock(T0 + timedelta(minutes=1)), engine_id="mail").run_pending()
    [got] = server.messages
    msg = got["msg"]
    enr = Enrollment.get(Enrollment.record_id == ann)
    assert got["to"] == ["ann@example.com"] and msg["Subject"] == "Renewal, Ann"
    assert "Dear Ann,\r\nyour plan renews" in msg.get_payload()
    assert msg["Message-ID"] == f"<rota-{enr.id}-1@example.com>"
    sent = _events("step_succeeded", ann)[0]
    assert sent["to"] == "ann@example.com" and sent["message_id"] == msg["Message-ID"]
    assert _events("step_skipped", nob)[0]["reason"] == "no e-mail address (email is empty)"
    assert _events("step_skipped", out)[0]["reason"] == "opted out (email_opt_out is true)"
    assert {e.state for e in Enrollment.select()} == {"done"}  # skipped records go on to the next step
    assert ListMember.select().count() == 3
    assert {r["type"] for r in history("wf", limit=100)} >= {"step_skipped", "step_succeeded"}


def test_temporary_failures_retry_with_the_same_message_id_then_permanent_ones_fail(sqlite_db, sqlite_url,
                                                                                     monkeypatch):
    create_record("contact", {"firstname": "Ann", "email": "ann@example.com"}, now=T0)
    with SMTPTestServer() as server:
        _smtp_env(monkeypatch, server.port)
        server.handler.reply = "451 4.3.0 busy"
        make_workflow([STEP])
        clock = FakeClock(T0 + timedelta(minutes=1))
        engine = Engine(sqlite_url, clock=clock, engine_id="mail")
        engine.run_pending()
        [retry] = _events("step_retry")
        assert "SMTP 451" in retry["error"] and Enrollment.get().next_step_at == clock.now() + timedelta(seconds=10)
        server.handler.reply = "250 OK"
        clock.advance(10)
        engine.run_pending()
        assert len(server.messages) == 1 and Enrollment.get().state == "done"
        assert server.messages[0]["msg"]["Message-ID"] == retry["message_id"]

    create_record("contact", {"firstname": "Bo", "email": "bo@example.com"}, now=T0)
    with SMTPTestServer() as server:
        _smtp_env(monkeypatch, server.port)
        server.handler.reply = "554 5.7.1 rejected"
        make_workflow([STEP], name="wf2")
        Engine(sqlite_url, clock=FakeClock(T0 + timedelta(minutes=1)), engine_id="mail2").run_pending()
    failed = _events("step_failed")  # wf2 enrolls both records; a 5xx is final at once
    assert len(failed) == 2 and all("e-mail not sent: SMTP 554" in f["error"] and "after 1 attempt" in f["error"]
                                    for f in failed)


def test_sending_is_rate_limited_per_minute(sqlite_db, sqlite_url, monkeypatch):
    for i in range(5):
        create_record("contact", {"firstname": f"P{i}", "email": f"p{i}@example.com"}, now=T0)
    with SMTPTestServer() as server:
        _smtp_env(monkeypatch, server.port, email_rate_per_minute=2)
        make_workflow([STEP])
        clock = FakeClock(T0 + timedelta(minutes=1))
        engine = Engine(sqlite_url, clock=clock, engine_id="mail")
        engine.run_pending()
        assert len(server.messages) == 2
        waiting = Enrollment.select().where(Enrollment.state == "waiting")
        assert waiting.count() == 3 and {e.next_step_at for e in waiting} == {clock.now() + timedelta(minutes=1)}
        assert not _events("step_retry") and not _events("step_failed")  # waiting is not failing
        clock.advance(30)
        engine.run_pending()
        assert len(server.messages) == 2
        clock.advance(30)
        engine.run_pending()
        assert len(server.messages) == 4
        clock.advance(60)
        engine.run_pending()
    assert len(server.messages) == 5 and {e.state for e in Enrollment.select()} == {"done"}


def test_starttls_and_login_from_the_settings_password_never_shown(sqlite_db, sqlite_url, monkeypatch, tmp_path):
    create_record("contact", {"firstname": "Ann", "email": "ann@example.com"}, now=T0)
    with SMTPTestServer(tls=True, tmp_path=tmp_path) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        _smtp_env(monkeypatch, server.port, smtp_starttls="true", smtp_user="rota", smtp_password="pw-s3cret")
        make_workflow([STEP])
        Engine(sqlite_url, clock=FakeClock(T0 + timedelta(minutes=1)), engine_id="mail").run_pending()
    assert len(server.messages) == 1 and server.messages[0]["tls"] is True
    everything = "".join(e.detail or "" for e in HistoryEvent.select())
    assert "pw-s3cret" not in everything and Enrollment.get().state == "done"


def test_step_shape_and_description(sqlite_db):
    [step] = validate_actions([{**STEP, "to_property": "Email"}], "contact")
    assert step["to_property"] == "email"
    assert describe_step(step) == 'E-mail the record\'s email: "Renewal, {firstname}"'
    with pytest.raises(RotaError, match=r"to_property last_activity_date is a datetime property"):
        validate_actions([{**STEP, "to_property": "last_activity_date"}], "contact")
    with pytest.raises(RotaError, match="subject must be non-empty text"):
        validate_actions([{**STEP, "subject": " "}], "contact")
    with pytest.raises(RotaError, match='unknown field "cc"'):
        validate_actions([{**STEP, "cc": "x@example.com"}], "contact")
