"""E-mail for the notification step: one message through the configured SMTP server.

The in-app inbox (``Notification`` rows) is written by the executor inside the step's
transaction; e-mail is the optional extra and, like a webhook, happens outside any
transaction so that a slow mail server never holds a database lock.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from models.settings import Settings

SMTP_TIMEOUT_S = 10.0
SMTP_RETRIES = 3  # tries after the first before the step is recorded as failed


def send_mail(settings: Settings, to: list[str], subject: str, body: str) -> str:
    """Send one message; returns "" on success, else a one-line reason."""
    if not settings.smtp_host:
        return "no SMTP server configured (settings: smtp_host)"
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, int(settings.smtp_port), timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.send_message(msg)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return ""
