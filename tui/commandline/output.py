"""How ``rota`` commands print: stored text escaped, instants in the operator's zone.

Tables show instants to the second in the operator's time zone (the settings'
``timezone``, ``ROTA_TIMEZONE``), each with its zone abbreviation, so a reader never
converts from UTC in their head and a DST change is visible (``CET`` / ``CEST``).
``--json`` output stays ISO-8601 UTC for scripts. Every line goes through
``models.text.printable``: a workflow name or record value holding an escape sequence
prints as ``\\x1b…``, never as a command to the terminal.
"""
from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from models.errors import RotaError
from models.settings import load_settings
from models.text import dumps_json, printable
from models.timeutil import UTC, zone


def say(line: str = "", *, err: bool = False) -> None:
    """Print one line of output with control characters escaped."""
    print(printable(line), file=sys.stderr if err else sys.stdout, flush=err)


def say_json(value) -> None:
    """Print ``value`` as indented JSON (control characters escaped, UTF-8 kept)."""
    print(dumps_json(value))


def operator_zone() -> ZoneInfo:
    """The zone tables are shown in: the settings' time zone, UTC if they cannot be read."""
    try:
        return zone(load_settings().timezone)
    except RotaError:
        return ZoneInfo("UTC")


def local_time(value: datetime | str | None, tz: ZoneInfo, *, missing: str = "-") -> str:
    """An instant (aware datetime or ISO text) as ``2026-03-02 09:00:00 CET`` in ``tz``."""
    if value is None:
        return missing
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    try:
        local = instant.astimezone(tz)
    except OverflowError:  # year 1 / 9999 at the zone's edge: show it in UTC instead
        local = instant.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()


TIME_WIDTH = len("2026-03-02 09:00:00 CEST")
