"""Instants are aware UTC datetimes in Python and integer microseconds in the database.

Integers compare as instants on SQLite and PostgreSQL alike, index compactly, and never
depend on a session time zone or on ``fold``.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import cast, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from models.errors import RotaError
from models.text import shorten

UTC = UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("naive datetime given where an instant is needed")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@overload
def from_micros(value: int) -> datetime: ...
@overload
def from_micros(value: None) -> None: ...
@overload
def from_micros(value: int | None) -> datetime | None: ...
def from_micros(value: int | None) -> datetime | None:
    if value is None:
        return None
    return _EPOCH + timedelta(microseconds=int(value))


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_z(instant: datetime | None) -> str | None:
    """ISO-8601 UTC with a trailing Z (microseconds only when present)."""
    if instant is None:
        return None
    s = instant.astimezone(UTC).replace(tzinfo=None).isoformat()
    return s + "Z"


def parse_instant(text: str, default_tz: str = "UTC") -> datetime:
    """Parse an ISO date or date-time; a time without offset is read in ``default_tz``."""
    raw = text.strip()
    try:
        if raw.endswith("Z") or raw.endswith("z"):
            raw = raw[:-1] + "+00:00"
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise RotaError(f'"{shorten(text)}" is not an ISO-8601 date or time (e.g. 2026-03-28T12:00+01:00)') from None
    try:
        if value.tzinfo is None:
            value = resolve_wall(value, zone(default_tz))
        return value.astimezone(UTC)
    except OverflowError:
        raise RotaError(out_of_range(text)) from None


def out_of_range(text: str) -> str:
    """The message for a date or time that exists locally but not as a UTC instant."""
    return f'"{shorten(str(text))}" is out of range: dates must lie between the years 0001 and 9999 in UTC'


def resolve_wall(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant at which the local clock in ``tz`` reads ``wall`` or later.

    Normal times map exactly; a repeated (fall-back) time maps to its first occurrence;
    a skipped (spring-forward) time maps to the end of the gap.
    """
    naive = wall.replace(tzinfo=None)
    first = naive.replace(tzinfo=tz, fold=0)
    back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back == naive:
        return first.astimezone(UTC)
    # In a gap: the wall time never shows. The gap ends at the transition instant, which
    # lies between the fold=1 reading (pre-gap offset) and the fold=0 reading.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = first.astimezone(UTC)
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    hi = hi.replace(microsecond=0)
    while hi.astimezone(tz).replace(tzinfo=None) < naive:
        hi += timedelta(seconds=1)
    while (hi - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) >= naive:
        hi -= timedelta(seconds=1)
    return hi


def transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) for each UTC-offset change in [start, end)."""
    step = timedelta(hours=6)
    out: list[tuple[datetime, timedelta, timedelta]] = []
    at, offset = start, cast(timedelta, start.astimezone(tz).utcoffset())  # a ZoneInfo always gives one
    while at < end:
        nxt = at + step
        new = cast(timedelta, nxt.astimezone(tz).utcoffset())
        if new != offset:
            lo, hi = at, nxt  # offset(lo) == offset, offset(hi) == new: bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            moment = hi.replace(microsecond=0)
            if moment.astimezone(tz).utcoffset() != new:
                moment += timedelta(seconds=1)
            out.append((moment, offset, new))
            offset = new
        at = nxt
    return out


_ZONES: set[str] | None = None
MAX_ZONE_NAME = 64  # the longest IANA name is 32 characters


def zone(name: str) -> ZoneInfo:
    """A ZoneInfo for an IANA name, or a RotaError that says what to fix."""
    global _ZONES
    if not isinstance(name, str) or not name.strip():
        raise RotaError("time zone is empty: give an IANA name such as Europe/Stockholm")
    try:
        if len(name) > MAX_ZONE_NAME or "\x00" in name:
            raise ValueError(name)
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if _ZONES is None:
            _ZONES = available_timezones()
        close = sorted(z for z in _ZONES if z.lower() == name.strip().lower())
        hint = f' (did you mean "{close[0]}"?)' if close else " (e.g. Europe/Stockholm, America/New_York, UTC)"
        raise RotaError(f'unknown time zone "{shorten(name, 60)}": use an IANA name{hint}') from None


def start_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant the local calendar day ``day`` begins in ``tz`` (aware UTC)."""
    try:
        return resolve_wall(datetime(day.year, day.month, day.day), tz)
    except OverflowError:
        raise RotaError(out_of_range(day.isoformat())) from None
