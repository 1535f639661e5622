"""The SMTP side of e-mail to records (engine/email.py) against a real aiosmtpd server
on 127.0.0.1: plain, STARTTLS with a test certificate (trustme) and login, and the
failures that retry or not."""
from __future__ import annotations

import dataclasses
import email
import socket
import ssl
from datetime import datetime, timedelta

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.email import RateLimit, build_message, message_id, send
from models.settings import Settings
from models.timeutil import UTC


class Recorder:
    def __init__(self):
        self.messages: list = []
        self.reply = "250 OK"  # what DATA answers
        self.rcpt_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            self.messages.append({"to": list(envelope.rcpt_tos), "tls": session.ssl is not None,
                                  "msg": email.message_from_bytes(envelope.content)})
        return self.reply


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPTestServer:
    """aiosmtpd on 127.0.0.1; with ``tls`` it requires STARTTLS and login as
    ``rota``/``pw-s3cret`` (a trustme certificate for 127.0.0.1)."""

    def __init__(self, tls: bool = False, tmp_path=None):
        self.handler = Recorder()
        self.port = _free_port()
        kwargs: dict = {}
        self.ca_file = None
        if tls:
            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(ctx)
            self.ca_file = tmp_path / "ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))

            def auth(server, session, envelope, mechanism, data):
                ok = isinstance(data, LoginPassword) and data.login == b"rota" and data.password == b"pw-s3cret"
                return AuthResult(success=ok, handled=False)

            kwargs = {"tls_context": ctx, "require_starttls": True, "authenticator": auth, "auth_required": True,
                      "auth_require_tls": True}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def messages(self):
        return self.handler.messages

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def _settings(port: int, **kw) -> Settings:
    return dataclasses.replace(Settings(), smtp_host="127.0.0.1", smtp_port=port, smtp_from="Rota <rota@example.com>",
                               **kw)


def test_plain_send_carries_a_message_id_from_enrollment_and_step():
    with SMTPTestServer() as server:
        s = _settings(server.port)
        mid = message_id(42, "3.then.1", s)
        assert mid == "<rota-42-3.then.1@example.com>"
        result = send(s, build_message(s, "ann@example.com", "Renewal, Ann", "Dear Ann,\nhello", mid))
        assert result.ok, result.error
    [got] = server.messages
    assert got["to"] == ["ann@example.com"] and got["msg"]["Message-ID"] == mid
    assert got["msg"]["Subject"] == "Renewal, Ann" and "Dear Ann" in got["msg"].get_payload()


def test_starttls_with_a_verified_certificate_and_login(tmp_path, monkeypatch):
    with SMTPTestServer(tls=True, tmp_path=tmp_path) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))  # trust the test CA
        s = _settings(server.port, smtp_starttls=True, smtp_user="rota", smtp_password="pw-s3cret")
        result = send(s, build_message(s, "ann@example.com", "Hi", "Body", "<m1@example.com>"))
        assert result.ok, result.error
        assert server.messages[0]["tls"] is True

        bad = dataclasses.replace(s, smtp_password="wrong-pw")
        result = send(bad, build_message(s, "ann@example.com", "Hi", "Body", "<m2@example.com>"))
        assert not result.ok and not result.retryable and "login as rota refused" in result.error
        assert "wrong-pw" not in result.error and "pw-s3cret" not in result.error

        plain = dataclasses.replace(s, smtp_starttls=False)  # the server insists on TLS
        result = send(plain, build_message(s, "ann@example.com", "Hi", "Body", "<m3@example.com>"))
        assert not result.ok
        assert len(server.messages) == 1


def test_certificate_not_trusted_is_a_tls_failure(tmp_path):
    with SMTPTestServer(tls=True, tmp_path=tmp_path) as server:
        s = _settings(server.port, smtp_starttls=True, smtp_user="rota", smtp_password="pw-s3cret")
        result = send(s, build_message(s, "ann@example.com", "Hi", "Body", "<m@example.com>"))
    assert not result.ok and not result.retryable and result.error.startswith("TLS")
    assert server.messages == []


def test_starttls_required_but_not_offered_never_downgrades():
    with SMTPTestServer() as server:
        s = _settings(server.port, smtp_starttls=True)
        result = send(s, build_message(s, "ann@example.com", "Hi", "Body", "<m@example.com>"))
    assert not result.ok and "does not offer STARTTLS" in result.error and server.messages == []


@pytest.mark.parametrize("reply, retryable", [("451 4.3.0 try later", True), ("554 5.7.1 rejected", False)])
def test_temporary_replies_retry_and_permanent_ones_do_not(reply, retryable):
    with SMTPTestServer() as server:
        server.handler.reply = reply
        s = _settings(server.port)
        result = send(s, build_message(s, "ann@example.com", "Hi", "Body", "<m@example.com>"))
    assert not result.ok and result.retryable is retryable and reply.split()[0] in result.error


def test_refused_recipient_and_unreachable_server():
    with SMTPTestServer() as server:
        server.handler.rcpt_reply = "550 5.1.1 no such user"
        s = _settings(server.port)
        result = send(s, build_message(s, "nobody@example.com", "Hi", "Body", "<m@example.com>"))
    assert not result.ok and not result.retryable and "recipient refused: SMTP 550" in result.error
    down = _settings(_free_port())
    result = send(down, build_message(down, "a@example.com", "Hi", "Body", "<m@example.com>"))
    assert not result.ok and result.retryable


def test_rate_limit_spaces_sends_over_a_sliding_minute():
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    limit = RateLimit(3)
    assert [limit.take(t0 + timedelta(seconds=i)) for i in range(4)] == [True, True, True, False]
    assert limit.next_free(t0 + timedelta(seconds=10)) == t0 + timedelta(minutes=1)
    assert limit.take(t0 + timedelta(seconds=60)) and not limit.take(t0 + timedelta(seconds=60.5))
    assert limit.take(t0 + timedelta(seconds=61))
