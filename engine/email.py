"""E-mail to records (the ``send_email`` step): one message through the configured SMTP
server, with STARTTLS and login where the settings ask for them.

- ``settings.smtp_starttls`` upgrades the connection before anything else is said;
  certificates are verified against the system's trust store (``SSL_CERT_FILE`` names
  another). A server that does not offer STARTTLS when it is required is a failure,
  never a silent downgrade.
- ``settings.smtp_user`` logs in with ``smtp_password`` (``ROTA_SMTP_PASSWORD`` wins
  over the settings file). The password is never shown or logged; server replies are
  shown without it.
- Each message has a ``Message-ID`` derived from the enrollment and the step
  (``<rota-42-3.then.1@example.com>``): a re-send after a crash carries the same id,
  so the receiving side can recognise it.
- ``RateLimit`` spaces sends to ``email_rate_per_minute``; the engine asks it before
  submitting a message and parks the rest until a slot frees.

Like a webhook, sending happens in the network pool, outside any transaction.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

from models.settings import Settings

SMTP_TIMEOUT_S = 10.0


@dataclass
class MailResult:
    ok: bool
    retryable: bool
    error: str = ""
    extra: dict = field(default_factory=dict)


def message_id(enrollment_id: int, path: str, settings: Settings) -> str:
    """Stable per enrollment and step (not per attempt)."""
    domain = (settings.smtp_from.rpartition("@")[2] or "rota.local").strip("<> ") or "rota.local"
    return f"<rota-{enrollment_id}-{path}@{domain}>"


def build_message(settings: Settings, to: str, subject: str, body: str, msg_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = msg_id
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg.set_content(body)
    return msg


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"SMTP {exc.smtp_code} {text}".splitlines()[0]
    return (f"{type(exc).__name__}: {exc}".splitlines() or [type(exc).__name__])[0]


def send(settings: Settings, msg: EmailMessage) -> MailResult:
    """Send one message; never raises for mail trouble. A 4xx reply, a timeout or a
    refused connection is worth retrying; a 5xx reply or a TLS/login problem is not."""
    if not settings.smtp_host:
        return MailResult(False, False, "no SMTP server configured (settings: smtp_host)")
    try:
        with smtplib.SMTP(settings.smtp_host, int(settings.smtp_port), timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                if not smtp.has_extn("starttls"):
                    return MailResult(False, False, f"{settings.smtp_host} does not offer STARTTLS "
                                                    "(settings: smtp_starttls is on)")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return MailResult(False, 400 <= code < 500, f"recipient refused: SMTP {code} {reply}".splitlines()[0])
    except smtplib.SMTPAuthenticationError as exc:
        return MailResult(False, False, f"login as {settings.smtp_user} refused: {_reason(exc)}")
    except smtplib.SMTPNotSupportedError as exc:
        return MailResult(False, False, _reason(exc))
    except smtplib.SMTPResponseException as exc:
        return MailResult(False, 400 <= exc.smtp_code < 500, _reason(exc))
    except ssl.SSLError as exc:
        return MailResult(False, False, f"TLS: {exc.reason or exc}")
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        reason = "timed out" if isinstance(exc, (TimeoutError, socket.timeout)) else _reason(exc)
        return MailResult(False, True, reason)
    if refused:
        return MailResult(False, False, f"recipient refused: {', '.join(refused)}")
    return MailResult(True, False)


class RateLimit:
    """At most ``per_minute`` sends in any 60-second window (clock time, injected)."""

    def __init__(self, per_minute: int):
        self.per_minute = max(1, int(per_minute))
        self._sent: deque[datetime] = deque()

    def _trim(self, now: datetime) -> None:
        while self._sent and self._sent[0] <= now - timedelta(minutes=1):
            self._sent.popleft()

    def take(self, now: datetime) -> bool:
        """Use one slot now, or False when the window is full."""
        self._trim(now)
        if len(self._sent) >= self.per_minute:
            return False
        self._sent.append(now)
        return True

    def next_free(self, now: datetime) -> datetime:
        """When the next slot frees (now, if one is free)."""
        self._trim(now)
        if len(self._sent) < self.per_minute:
            return now
        return self._sent[0] + timedelta(minutes=1)
