"""Schedules: the trigger of a scheduled workflow (SPEC §2, §9).

A :class:`Schedule` is an immutable value built from the SPEC §9 JSON shapes. Every
question about it is a pure function of the schedule and an instant, so the engine, the
editor and the tests can move time freely.

How a run time is found
-----------------------
A schedule names *wall times*: local dates and times of day in its IANA zone ("every
Friday 08:00 in Europe/Stockholm"). We generate those wall times in ascending order with
plain calendar arithmetic on naive datetimes (where DST cannot interfere) and turn each
into an instant with :func:`models.timeutil.resolve_wall`: the first instant at which the
local clock reads that wall time or later. That one rule gives every edge case its
answer: a normal time maps exactly, a time repeated on a fall-back night maps to its
first occurrence, a time skipped on a spring-forward night (or a whole skipped day, as
in Pacific/Apia on 2011-12-30) maps to the end of the gap.

Two facts about that rule keep the search short and exact:

* it is monotone: a later wall time never resolves to an earlier instant, so resolved
  occurrences come out in order and duplicates (several cron minutes inside one gap)
  are adjacent and dropped by a "strictly later than the last one" check;
* a wall time at or before the local reading of the query instant resolves at or
  before that instant (the query instant itself already reads that late), so the search
  starts at the local reading of the query instant, never from a far-away DTSTART.

We deliberately do not let croniter or dateutil's rrule produce instants: croniter
7.0.0 fires twice on fall-back nights and rrule yields wall times that do not exist.
croniter is used only to parse and expand cron fields (names, ranges, steps, "L"); the
tests read our RRULE export back with dateutil to check that it names the same times.

Business days
-------------
"first/last business day" schedules depend on the operator's business-day calendar,
which lives in the application settings, not in the schedule JSON. It is passed at
evaluation time as ``calendar=BusinessCalendar(...)`` (default Monday–Friday, no
holidays), so a settings change takes effect at once without re-parsing schedules.
``second``/``third``/``fourth`` business day mean the 2nd/3rd/4th business day of the
month counted from the 1st; a month with fewer business days than that (only possible
with an unusual calendar) is skipped, never moved into the next month.
"""
from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.schedule.base import (
    DEFAULT_CALENDAR,
    FLEX_DAYS,
    KINDS,
    MAX_MONTH_DAYS,
    MONTH_LABELS,
    ORDINALS,
    WEEKDAY_NAMES,
    BusinessCalendar,
    fmt_time,
    resolve,
    to_utc,
)
from engine.schedule.cron import CronRule, compile_cron
from engine.schedule.describe import Describable
from engine.schedule.export import Exportable
from models.errors import RotaError
from models.timeutil import zone

# The JSON fields of each kind, in canonical (to_json) order, without kind and timezone.
_FIELDS = {
    "daily": ("time",),
    "weekly": ("weekdays", "time"),
    "monthly_days": ("days", "time"),
    "monthly_flexible": ("flex", "time"),
    "yearly": ("month", "day", "time"),
    "cron": ("cron",),
}
# Any schedule that fires at all fires again within this many years (Feb 29 on a given
# weekday recurs within 40 years across a non-leap century year); past it we give up.
_SEARCH_YEARS = 400
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Schedule(Describable, Exportable):
    """One trigger: ``kind`` plus that kind's fields, in an IANA ``timezone``.

    Only the fields of its kind are set; the others keep their empty defaults, so equal
    schedules are equal values (and hash alike).
    Construction validates: an instance is always a schedule that can fire.
    """

    kind: str
    timezone: str = "UTC"
    time: tuple[int, int] | None = None          # (hour, minute); None only for cron
    weekdays: tuple[int, ...] = ()                # weekly: 0 = Monday, sorted
    days: tuple[int, ...] = ()                    # monthly_days: 1..31, sorted
    ordinal: str | None = None                    # monthly_flexible: first..fourth, last
    flex_day: str | None = None                   # monthly_flexible: mon..sun, day, weekday
    month: int | None = None                      # yearly
    day: int | None = None                        # yearly
    cron: str | None = None                       # cron: 5 fields, single-spaced
    _tz: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _hash: int = field(init=False, repr=False, compare=False, hash=False)
    _times: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False, hash=False)
    _rule: CronRule | None = field(init=False, repr=False, compare=False, hash=False)
    _weekday_set: frozenset[int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        # Sets are stored sorted and without repeats, so equal schedules are equal values.
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        object.__setattr__(self, "days", tuple(sorted(set(self.days))))
        if self.time is not None:
            object.__setattr__(self, "time", tuple(self.time))
        self._validate()
        object.__setattr__(self, "_tz", zone(self.timezone))
        rule = compile_cron(self.cron) if self.kind == "cron" else None
        object.__setattr__(self, "_rule", rule)
        object.__setattr__(self, "_times", rule.times if rule else (self.time,))
        object.__setattr__(self, "_weekday_set", frozenset(self.weekdays))
        # Hashed once: bulk evaluation looks every workflow's schedule up in a dict.
        object.__setattr__(self, "_hash", hash((self.kind, self.timezone, self.time, self.weekdays, self.days,
                                                self.ordinal, self.flex_day, self.month, self.day, self.cron)))

    def __hash__(self) -> int:
        return self._hash

    # ---------------------------------------------------------------- construction

    def _validate(self) -> None:
        if self.kind not in KINDS:
            raise RotaError(f'unknown schedule kind "{self.kind}": use one of {", ".join(KINDS)}')
        own = {"weekly": {"weekdays"}, "monthly_days": {"days"}, "monthly_flexible": {"ordinal", "flex_day"},
               "yearly": {"month", "day"}, "cron": {"cron"}}.get(self.kind, set())
        for name in ("weekdays", "days", "ordinal", "flex_day", "month", "day", "cron"):
            if name not in own and getattr(self, name) not in (None, ()):
                raise RotaError(f'a {self.kind} schedule has no "{name}"')
        if self.kind == "cron" and self.time is not None:
            raise RotaError('a cron schedule has no "time": the cron expression says when')
        if self.kind == "cron":
            if not isinstance(self.cron, str) or not self.cron.strip():
                raise RotaError('a cron schedule needs "cron": a 5-field expression such as "0 8 * * 5"')
            compile_cron(self.cron)
            return
        if (self.time is None or len(self.time) != 2 or not all(isinstance(v, int) for v in self.time)
                or not (0 <= self.time[0] <= 23 and 0 <= self.time[1] <= 59)):
            raise RotaError("a schedule needs a time of day from 00:00 to 23:59")
        if self.kind == "weekly" and (not self.weekdays or not set(self.weekdays) <= set(range(7))):
            raise RotaError("no weekday chosen: pick at least one of mon, tue, wed, thu, fri, sat, sun")
        if self.kind == "monthly_days":
            if not self.days:
                raise RotaError("no day of the month chosen: pick at least one day from 1 to 31")
            for d in self.days:
                if not 1 <= d <= 31:
                    raise RotaError(f"day {d} is not a day of the month: use 1 to 31")
        if self.kind == "monthly_flexible":
            if self.ordinal not in ORDINALS:
                raise RotaError(f'flexible ordinal "{self.ordinal}" is unknown: use one of {", ".join(ORDINALS)}')
            if self.flex_day not in FLEX_DAYS:
                raise RotaError(f'flexible day "{self.flex_day}" is unknown: use one of {", ".join(FLEX_DAYS)} '
                                '("day" = calendar day, "weekday" = business day)')
        if self.kind == "yearly":
            if not isinstance(self.month, int) or not 1 <= self.month <= 12:
                raise RotaError(f"month {self.month} does not exist: use 1 (January) to 12 (December)")
            if not isinstance(self.day, int) or not 1 <= self.day <= 31:
                raise RotaError(f"day {self.day} is not a day of the month: use 1 to 31")
            if self.day > MAX_MONTH_DAYS[self.month]:
                raise RotaError(f"{MONTH_LABELS[self.month]} has no day {self.day}: "
                                f"use 1 to {MAX_MONTH_DAYS[self.month]}")

    @classmethod
    def from_json(cls, data: object, default_timezone: str = "UTC") -> Schedule:
        """Parse a SPEC §9 schedule object; every mistake is a RotaError saying what to fix.

        Equal JSON gives the same (immutable) object from a cache, so loading 100,000
        workflows that share a few thousand schedules validates each schedule once.
        """
        if type(data) is not dict:
            return cls._from_json(data, default_timezone)
        # repr() of JSON data (dict, list, str, int, float, bool, None) is exact and cheap.
        key = (repr(data), default_timezone)
        found = _PARSED.get(key)
        if found is None:
            found = cls._from_json(data, default_timezone)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[key] = found
        return found

    @classmethod
    def _from_json(cls, data: object, default_timezone: str) -> Schedule:
        if not isinstance(data, dict):
            raise RotaError('a schedule must be a JSON object such as {"kind": "daily", "time": "08:00"}')
        kind = data.get("kind")
        if kind not in KINDS:
            what = f'unknown schedule kind "{kind}"' if kind is not None else 'the schedule has no "kind"'
            raise RotaError(f"{what}: use one of {', '.join(KINDS)}")
        allowed = ("kind",) + _FIELDS[kind] + ("timezone",)
        extra = [k for k in data if k not in allowed]
        if extra:
            raise RotaError(f'unknown field "{extra[0]}" in a {kind} schedule: use {", ".join(allowed)}')
        for name in _FIELDS[kind]:
            if name not in data:
                raise RotaError(f'a {kind} schedule needs "{name}"')
        tz_name = data.get("timezone", default_timezone)
        if not isinstance(tz_name, str):
            raise RotaError('"timezone" must be an IANA name such as "Europe/Stockholm"')
        zone(tz_name)  # unknown zone: the message suggests a fix
        values: dict[str, Any] = {"kind": kind, "timezone": tz_name.strip()}
        if kind == "cron":
            if not isinstance(data["cron"], str):
                raise RotaError('"cron" must be a string such as "0 8 * * 5"')
            values["cron"] = " ".join(data["cron"].split())
        else:
            values["time"] = _parse_time(data["time"])
        if kind == "weekly":
            values["weekdays"] = _parse_weekdays(data["weekdays"])
        elif kind == "monthly_days":
            values["days"] = _parse_days(data["days"])
        elif kind == "monthly_flexible":
            values["ordinal"], values["flex_day"] = _parse_flex(data["flex"])
        elif kind == "yearly":
            values["month"] = _parse_int(data["month"], "month", "1 (January) to 12 (December)")
            values["day"] = _parse_int(data["day"], "day", "1 to 31")
        return cls(**values)

    def to_json(self) -> dict:
        """The canonical SPEC §9 shape: kind, the kind's fields, time, timezone."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "weekly":
            out["weekdays"] = [WEEKDAY_NAMES[d] for d in self.weekdays]
        elif self.kind == "monthly_days":
            out["days"] = list(self.days)
        elif self.kind == "monthly_flexible":
            out["flex"] = {"ordinal": self.ordinal, "day": self.flex_day}
        elif self.kind == "yearly":
            out["month"], out["day"] = self.month, self.day
        elif self.kind == "cron":
            out["cron"] = self.cron
        if self.time is not None:
            out["time"] = fmt_time(self.time)
        out["timezone"] = self.timezone
        return out

    @property
    def zoneinfo(self) -> ZoneInfo:
        return self._tz

    # ---------------------------------------------------------------- wall times

    def _dates_from(self, start: date, calendar: BusinessCalendar) -> Iterator[date]:
        """The local dates this schedule fires on, from ``start`` on, ascending."""
        limit = min(start.year + _SEARCH_YEARS, 9999)
        kind = self.kind
        if kind in ("daily", "weekly", "cron"):
            rule, weekdays = self._rule, self._weekday_set
            day, one = start, timedelta(days=1)
            while day.year <= limit:
                if kind == "daily" or (rule.matches(day) if rule else day.weekday() in weekdays):
                    yield day
                if day == date.max:
                    return
                day += one
            return
        if kind == "yearly":
            month, mday = self.month or 1, self.day or 1  # always set on a yearly schedule
            for year in range(start.year, limit + 1):
                if mday <= _calendar.monthrange(year, month)[1]:
                    candidate = date(year, month, mday)
                    if candidate >= start:
                        yield candidate
            return
        year, month = start.year, start.month
        while year <= limit:
            length = _calendar.monthrange(year, month)[1]
            if kind == "monthly_days":
                candidates = [date(year, month, d) for d in self.days if d <= length]
            else:
                found = _flex_date(year, month, length, self.ordinal or "first", self.flex_day or "day", calendar)
                candidates = [found] if found else []
            for candidate in candidates:
                if candidate >= start:
                    yield candidate
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def _wall_times(self, start: date, calendar: BusinessCalendar) -> Iterator[datetime]:
        """Every local wall time this schedule names on ``start`` or later, ascending."""
        times = self._times
        for day in self._dates_from(start, calendar):
            for hour, minute in times:
                yield datetime(day.year, day.month, day.day, hour, minute)

    def _occurrences_after(self, instant: datetime, calendar: BusinessCalendar) -> Iterator[datetime]:
        """Resolved instants strictly after ``instant``, ascending, each once."""
        for _, at in self.walls_after(instant, calendar=calendar):
            yield at

    def walls_after(self, instant: datetime, *, calendar: BusinessCalendar = DEFAULT_CALENDAR
                    ) -> Iterator[tuple[datetime, datetime]]:
        """(wall time named, instant it runs) strictly after ``instant``, ascending, each
        instant once: the wall time says what was meant when a DST gap moved the run."""
        after = to_utc(instant)
        tz = self._tz
        try:
            reading = after.astimezone(tz).replace(tzinfo=None)
        except OverflowError:  # the local clock is already past year 9999
            return
        last = after
        for wall in self._wall_times(reading.date(), calendar):
            if wall <= reading:  # resolves at or before ``after``: the clock already read it
                continue
            try:
                at = resolve(wall, tz)
            except OverflowError:  # past year 9999: there is no next time
                return
            if at > last:  # drops fall-back repeats before ``after`` and gap collapses
                last = at
                yield wall, at

    # ---------------------------------------------------------------- queries

    def next_after(self, instant: datetime, *, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> datetime | None:
        """The first run strictly after ``instant`` (aware UTC), or None if never again."""
        for at in self._occurrences_after(instant, calendar):
            return at
        return None

    def next_n(self, instant: datetime, n: int, *, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> list[datetime]:
        """The next ``n`` runs strictly after ``instant``, ascending, no instant twice."""
        out: list[datetime] = []
        if n <= 0:
            return out
        for at in self._occurrences_after(instant, calendar):
            out.append(at)
            if len(out) >= n:
                break
        return out

    def between(self, start: datetime, end: datetime, *,
                calendar: BusinessCalendar = DEFAULT_CALENDAR) -> Iterator[datetime]:
        """Every run in ``(start, end]``, ascending — what the engine checks for misfires."""
        end_utc = to_utc(end)
        for at in self._occurrences_after(start, calendar):
            if at > end_utc:
                return
            yield at


# --------------------------------------------------------------------------- helpers

def _parse_time(value: Any) -> tuple[int, int]:
    match = _TIME_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise RotaError(f'time {value!r} is not a time of day: use "HH:MM", e.g. "08:00"')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        hint = " (midnight is 00:00)" if (hour, minute) == (24, 0) else ""
        raise RotaError(f'time "{value}" is out of range: use 00:00 to 23:59{hint}')
    return hour, minute


def _parse_int(value: Any, name: str, allowed: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RotaError(f"{name} {value!r} must be a whole number from {allowed}")
    return value


def _parse_weekdays(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise RotaError('"weekdays" must be a list such as ["mon", "fri"]')
    if not value:
        raise RotaError("no weekday chosen: pick at least one of mon, tue, wed, thu, fri, sat, sun")
    out = set()
    for name in value:
        key = name.strip().lower() if isinstance(name, str) else name
        if key not in WEEKDAY_NAMES:
            raise RotaError(f'weekday {name!r} is unknown: use mon, tue, wed, thu, fri, sat or sun')
        out.add(WEEKDAY_NAMES.index(key))
    return tuple(sorted(out))


def _parse_days(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise RotaError('"days" must be a list of days of the month such as [1, 15]')
    if not value:
        raise RotaError("no day of the month chosen: pick at least one day from 1 to 31")
    out = set()
    for d in value:
        d = _parse_int(d, "day", "1 to 31")
        if not 1 <= d <= 31:
            raise RotaError(f"day {d} is not a day of the month: use 1 to 31")
        out.add(d)
    return tuple(sorted(out))


def _parse_flex(value: Any) -> tuple[str, str]:
    if not isinstance(value, dict) or set(value) != {"ordinal", "day"}:
        raise RotaError('"flex" must be {"ordinal": "first|second|third|fourth|last", '
                        '"day": "mon…sun|day|weekday"}')
    ordinal, day = value["ordinal"], value["day"]
    ordinal = ordinal.strip().lower() if isinstance(ordinal, str) else ordinal
    day = day.strip().lower() if isinstance(day, str) else day
    if ordinal not in ORDINALS:
        raise RotaError(f'flexible ordinal {value["ordinal"]!r} is unknown: use one of {", ".join(ORDINALS)}')
    if day not in FLEX_DAYS:
        raise RotaError(f'flexible day {value["day"]!r} is unknown: use one of {", ".join(FLEX_DAYS)} '
                        '("day" = calendar day, "weekday" = business day)')
    return ordinal, day


def _flex_date(year: int, month: int, length: int, ordinal: str, flex_day: str,
               calendar: BusinessCalendar) -> date | None:
    """The one date a monthly_flexible schedule names in a month (None: the month has none)."""
    if flex_day == "day":
        return date(year, month, length if ordinal == "last" else ORDINALS.index(ordinal) + 1)
    if flex_day == "weekday":
        # Count business days from the month's start (from its end for "last").
        wanted = 1 if ordinal == "last" else ORDINALS.index(ordinal) + 1
        days = range(length, 0, -1) if ordinal == "last" else range(1, length + 1)
        for d in days:
            candidate = date(year, month, d)
            if calendar.is_business_day(candidate):
                wanted -= 1
                if wanted == 0:
                    return candidate
        return None
    weekday = WEEKDAY_NAMES.index(flex_day)
    if ordinal == "last":
        return date(year, month, length - (date(year, month, length).weekday() - weekday) % 7)
    first = 1 + (weekday - date(year, month, 1).weekday()) % 7
    return date(year, month, first + 7 * ORDINALS.index(ordinal))


_PARSED: dict[tuple[str, str], Schedule] = {}
_PARSED_MAX = 65536


def parse_schedule(data: object, default_timezone: str = "UTC") -> Schedule:
    """Same as :meth:`Schedule.from_json`."""
    return Schedule.from_json(data, default_timezone)
