"""One operator identity (issue 11 §7).

The operator is the settings' ``operator`` name, else the OS user. That one name is who
notifications reach in the inbox, whose tasks "mine" shows, and who the audit log says
made a change. Where the operator came in over SSH, the client address is shown beside
the name (``Identity.label``), never stored as part of it.

``operators`` in the settings is the team's roster: once it is filled in, notify
recipients must be on it (or be ``everyone``), so a typo cannot send notifications to
an inbox nobody reads. With no roster, any name is accepted.
"""
from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime

from models.enums import NotificationTarget
from models.errors import RotaError
from models.settings import Settings, load_settings
from models.timeutil import zone

EVERYONE = NotificationTarget.EVERYONE


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def ssh_address() -> str | None:
    """The SSH client's address when this process runs in an SSH session."""
    parts = (os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION") or "").split()
    return parts[0] if parts else None


def operator_name(configured: str = "") -> str:
    """The operator: the configured name, else the OS user. Never carries the address."""
    return configured.strip() or os_user()


@dataclass(frozen=True)
class Identity:
    name: str
    ssh_from: str | None = None

    def label(self) -> str:
        """For display: the name, and beside it where the session comes from."""
        return f"{self.name} · SSH from {self.ssh_from}" if self.ssh_from else self.name


def current_identity(settings: Settings | None = None) -> Identity:
    settings = settings or load_settings()
    return Identity(operator_name(settings.operator), ssh_address())


def known_operators(settings: Settings | None = None) -> list[str]:
    """The roster (settings ``operators``) plus this operator; empty when no roster is set."""
    settings = settings or load_settings()
    roster = [n.strip() for n in settings.operators if n.strip()]
    if not roster:
        return []
    me = operator_name(settings.operator)
    return roster + ([me] if me.lower() not in {n.lower() for n in roster} else [])


def check_recipients(names: list[str], settings: Settings | None = None) -> list[str]:
    """The recipients spelled as the roster spells them, or a RotaError naming the
    first unknown one and the names that would do."""
    known = known_operators(settings)
    if not known:
        return [EVERYONE if n.lower() == EVERYONE else n for n in names]
    by_lower = {n.lower(): n for n in known} | {EVERYONE: EVERYONE}
    out = []
    for name in names:
        spelled = by_lower.get(name.lower())
        if spelled is None:
            raise RotaError(f'"{name}" is not a known operator: use {", ".join(known)} or {EVERYONE} '
                            "(the operators list is in the settings)")
        out.append(spelled)
    return out


def format_instant(instant: datetime | None, operator_tz: str, workflow_tz: str | None = None,
                   fmt: str = "%a %d %b %Y %H:%M") -> str:
    """An instant in the operator's zone, named; and, where the workflow's own zone gives
    another wall time, that one too, in brackets: ``Fri 04 Dec 2026 07:00 UTC (08:00 in
    Europe/Stockholm)``."""
    if instant is None:
        return "none"
    mine = instant.astimezone(zone(operator_tz))
    text = f"{mine.strftime(fmt)} {operator_tz}"
    if workflow_tz and workflow_tz != operator_tz:
        theirs = instant.astimezone(zone(workflow_tz))
        if theirs.utcoffset() != mine.utcoffset():
            wall = theirs.strftime("%H:%M") if theirs.date() == mine.date() else theirs.strftime(fmt)
            text += f" ({wall} in {workflow_tz})"
    return text
