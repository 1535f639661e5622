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

Many workflows, one pass
------------------------
:func:`next_runs_bulk` answers "next run after t" for every active workflow: parsing
interns equal schedules, each distinct schedule is computed once, and schedules in one
zone share the local reading of ``t`` and every wall time already resolved.

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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo

from croniter import croniter

from models.errors import RotaError
from models.timeutil import UTC, resolve_wall, zone

KINDS = ("daily", "weekly", "monthly_days", "monthly_flexible", "yearly", "cron")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_LABELS = ("", "January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December")
ORDINALS = ("first", "second", "third", "fourth", "last")
FLEX_DAYS = WEEKDAY_NAMES + ("day", "weekday")

# The JSON fields of each kind, in canonical (to_json) order, without kind and timezone.
_FIELDS = {
    "daily": ("time",),
    "weekly": ("weekdays", "time"),
    "monthly_days": ("days", "time"),
    "monthly_flexible": ("flex", "time"),
    "yearly": ("month", "day", "time"),
    "cron": ("cron",),
}
# A leap year: the longest each month can be.
_MAX_MONTH_DAYS = tuple(_calendar.monthrange(2000, m)[1] if m else 0 for m in range(13))
# Any schedule that fires at all fires again within this many years (Feb 29 on a given
# weekday recurs within 40 years across a non-leap century year); past it we give up.
_SEARCH_YEARS = 400
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


# --------------------------------------------------------------------------- calendar

@dataclass(frozen=True)
class BusinessCalendar:
    """Which days count as business days: a set of weekdays (0 = Monday) minus holidays."""

    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()

    def __post_init__(self):
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not self.weekdays or not set(self.weekdays) <= set(range(7)):
            raise RotaError("business days must be one or more of mon, tue, wed, thu, fri, sat, sun")

    @classmethod
    def of(cls, business_days: Iterable[str] = WEEKDAY_NAMES[:5],
           holidays: Iterable[date | str] = ()) -> "BusinessCalendar":
        """Build from the settings' shapes: weekday names and ISO dates (or dates)."""
        try:
            days = frozenset(WEEKDAY_NAMES.index(str(d).strip().lower()[:3]) for d in business_days)
        except ValueError:
            raise RotaError("business days must be one or more of mon, tue, wed, thu, fri, sat, sun") from None
        parsed = set()
        for h in holidays:
            if isinstance(h, date):
                parsed.add(h)
                continue
            try:
                parsed.add(date.fromisoformat(str(h)))
            except ValueError:
                raise RotaError(f'holiday "{h}" is not a date: use YYYY-MM-DD') from None
        return cls(days, frozenset(parsed))

    @classmethod
    def from_settings(cls, settings: Any) -> "BusinessCalendar":
        """From a ``models.settings.Settings`` (``business_days`` and ``holidays``)."""
        return cls.of(settings.business_days, settings.holidays)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays


DEFAULT_CALENDAR = BusinessCalendar()


# --------------------------------------------------------------------------- cron

@dataclass(frozen=True)
class _CronRule:
    """A parsed 5-field cron expression as sets, so we can match dates ourselves."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int] | None      # None: "*" (any day of the month)
    last_day: bool                   # "L" in the day-of-month field
    months: frozenset[int]
    weekdays: frozenset[int] | None  # None: "*"; else 0 = Monday (Python's numbering)

    @property
    def times(self) -> tuple[tuple[int, int], ...]:
        return tuple((h, m) for h in self.hours for m in self.minutes)

    def matches(self, day: date) -> bool:
        """Vixie-cron day rule: if both day fields are restricted, either may match."""
        if day.month not in self.months:
            return False
        dom_any = self.days is None and not self.last_day
        dom = dom_any or (self.days is not None and day.day in self.days) or (
            self.last_day and day.day == _calendar.monthrange(day.year, day.month)[1])
        dow = self.weekdays is None or day.weekday() in self.weekdays
        if not dom_any and self.weekdays is not None:
            return dom or dow
        return dom and dow


def _as_ints(values: list, offset: int = 0) -> frozenset[int] | None:
    return None if values == ["*"] else frozenset(int(v) + offset for v in values)


@lru_cache(maxsize=4096)
def _compile_cron(expr: str) -> _CronRule:
    """Parse with croniter (names, ranges, steps, lists) and check that it can fire."""
    fields = expr.split()
    if len(fields) != 5:
        raise RotaError(f'cron "{expr}" must have 5 fields (minute hour day-of-month month day-of-week), '
                        f"not {len(fields)}")
    if any(ch in expr.upper() for ch in "W#H@") or "L" in fields[4].upper():
        raise RotaError(f'cron "{expr}" uses W, #, L in day-of-week, H or @ which Rota does not support: '
                        'use the "monthly_flexible" kind for "third Friday" or "last business day"')
    try:
        expanded, nth = croniter.expand(expr)
    except Exception as exc:  # croniter raises several types, all meaning "bad expression"
        detail = str(exc).split("Cron:")[0].strip().rstrip(".")
        raise RotaError(f'cron "{expr}" is not valid ({detail}): check each field\'s range '
                        "(minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7)") from None
    if nth:  # pragma: no cover - '#' is rejected above; kept so a croniter change fails loudly
        raise RotaError(f'cron "{expr}" uses nth-weekday syntax, which Rota does not support')
    minutes, hours, dom, months, dow = expanded
    days = [d for d in dom if d != "l"]
    rule = _CronRule(
        minutes=tuple(range(60)) if minutes == ["*"] else tuple(sorted(int(m) for m in minutes)),
        hours=tuple(range(24)) if hours == ["*"] else tuple(sorted(int(h) for h in hours)),
        days=None if dom == ["*"] or not days else frozenset(int(d) for d in days),
        last_day="l" in dom,
        months=frozenset(range(1, 13)) if months == ["*"] else frozenset(int(m) for m in months),
        # cron counts Sunday as 0 (and 7); Python's date.weekday() counts Monday as 0
        weekdays=None if dow == ["*"] else frozenset((int(d) - 1) % 7 for d in dow),
    )
    # Every combination of month, first weekday and leap year occurs in 2000-2028, so a
    # rule that matches no day there matches none ever (e.g. "0 0 31 2 *").
    day = date(2000, 1, 1)
    while day.year <= 2028 and not rule.matches(day):
        day += timedelta(days=1)
    if day.year > 2028:
        raise RotaError(f'cron "{expr}" never fires (no month in it has such a day, e.g. February 31): '
                        "fix the day-of-month, month or day-of-week field")
    return rule


# --------------------------------------------------------------------------- schedule

def _fmt_time(time: tuple[int, int]) -> str:
    return f"{time[0]:02d}:{time[1]:02d}"


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _to_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime given where an instant is needed")
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class Schedule:
    """One trigger: ``kind`` plus that kind's fields, in an IANA ``timezone``.

    Only the fields of its kind are set; the others keep their empty defaults, so equal
    schedules are equal values (and hash alike, which :func:`next_runs_bulk` relies on).
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
    _rule: _CronRule | None = field(init=False, repr=False, compare=False, hash=False)
    _weekday_set: frozenset[int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        # Sets are stored sorted and without repeats, so equal schedules are equal values.
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        object.__setattr__(self, "days", tuple(sorted(set(self.days))))
        if self.time is not None:
            object.__setattr__(self, "time", tuple(self.time))
        self._validate()
        object.__setattr__(self, "_tz", zone(self.timezone))
        rule = _compile_cron(self.cron) if self.kind == "cron" else None
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
            _compile_cron(self.cron)
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
            if self.day > _MAX_MONTH_DAYS[self.month]:
                raise RotaError(f"{MONTH_LABELS[self.month]} has no day {self.day}: "
                                f"use 1 to {_MAX_MONTH_DAYS[self.month]}")

    @classmethod
    def from_json(cls, data: dict, default_timezone: str = "UTC") -> "Schedule":
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
    def _from_json(cls, data: dict, default_timezone: str) -> "Schedule":
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
            out["time"] = _fmt_time(self.time)
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
            for year in range(start.year, limit + 1):
                if self.day <= _calendar.monthrange(year, self.month)[1]:
                    candidate = date(year, self.month, self.day)
                    if candidate >= start:
                        yield candidate
            return
        year, month = start.year, start.month
        while year <= limit:
            length = _calendar.monthrange(year, month)[1]
            if kind == "monthly_days":
                candidates = [date(year, month, d) for d in self.days if d <= length]
            else:
                found = _flex_date(year, month, length, self.ordinal, self.flex_day, calendar)
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
        after = _to_utc(instant)
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
                at = _resolve(wall, tz)
            except OverflowError:  # past year 9999: there is no next time
                return
            if at > last:  # drops fall-back repeats before ``after`` and gap collapses
                last = at
                yield at

    def _first_after(self, after: datetime, reading: datetime, calendar: BusinessCalendar,
                     resolved: dict[datetime, datetime]) -> datetime | None:
        """The first of :meth:`_occurrences_after`, for :func:`next_runs_bulk`.

        ``reading`` is the local clock at ``after`` and ``resolved`` a wall time -> instant
        memo, both shared by every schedule in this zone; no generator layers, as this
        runs once per distinct schedule of every active workflow.
        """
        tz, times = self._tz, self._times
        for day in self._dates_from(reading.date(), calendar):
            for hour, minute in times:
                wall = datetime(day.year, day.month, day.day, hour, minute)
                if wall <= reading:
                    continue
                at = resolved.get(wall)
                if at is None:
                    try:
                        at = resolved[wall] = _resolve(wall, tz)
                    except OverflowError:  # past year 9999: there is no next time
                        return None
                if at > after:
                    return at
        return None

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
        end_utc = _to_utc(end)
        for at in self._occurrences_after(start, calendar):
            if at > end_utc:
                return
            yield at

    # ---------------------------------------------------------------- for people

    def describe(self) -> str:
        """A plain-language sentence, e.g. "Every Friday at 08:00 (Europe/Stockholm)"."""
        where = f"({self.timezone})"
        if self.kind == "cron":
            return f'{_describe_cron(self._rule)} ({self.timezone}; cron "{self.cron}")'
        at = f"at {_fmt_time(self.time)} {where}"
        if self.kind == "daily":
            return f"Every day {at}"
        if self.kind == "weekly":
            return f"Every {_weekday_phrase(self.weekdays)} {at}"
        if self.kind == "monthly_days":
            return f"On the {_join([_ordinal_suffix(d) for d in self.days])} of every month {at}"
        if self.kind == "monthly_flexible":
            what = {"day": "day", "weekday": "business day"}.get(self.flex_day)
            what = what or WEEKDAY_LABELS[WEEKDAY_NAMES.index(self.flex_day)]
            return f"On the {self.ordinal} {what} of every month {at}"
        return f"Every year on {MONTH_LABELS[self.month]} {self.day} {at}"

    def warnings(self, now: datetime, *, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> list[str]:
        """What an operator may not expect: skipped months, leap days, DST in the next year."""
        out: list[str] = []
        if self.kind == "monthly_days":
            out += _month_skip_warnings(self.days, range(1, 13))
        elif self.kind == "yearly":
            out += _month_skip_warnings((self.day,), (self.month,))
        elif self.kind == "cron":
            rule = self._rule
            if rule.days is not None and rule.weekdays is None:
                out += _month_skip_warnings(sorted(rule.days), sorted(rule.months))
        out += self._dst_warnings(_to_utc(now), calendar)
        return out

    def _dst_warnings(self, now: datetime, calendar: BusinessCalendar) -> list[str]:
        """Runs in the coming year whose wall time falls in a DST gap or overlap."""
        tz = self._tz
        out: list[str] = []
        for moment, before, after in _transitions(tz, now, now + timedelta(days=365)):
            shown_before = (moment + before).replace(tzinfo=None)   # the clock just before
            shown_after = (moment + after).replace(tzinfo=None)     # the clock from then on
            low, high = sorted((shown_before, shown_after))
            hits = []
            for wall in self._wall_times(low.date(), calendar):
                if wall >= high:
                    break
                if wall >= low:
                    hits.append(wall)
            if not hits:
                continue
            same_day = shown_before.date() == shown_after.date()
            fmt = "%H:%M" if same_day else "%Y-%m-%d %H:%M"
            change = f"{shown_before.strftime(fmt)} to {shown_after.strftime(fmt)}"
            times = _fmt_time((hits[0].hour, hits[0].minute))
            if len(hits) > 1:
                times += f"–{_fmt_time((hits[-1].hour, hits[-1].minute))} ({len(hits)} times)"
            on = hits[0].date().isoformat()
            if after > before:
                verb = "does" if len(hits) == 1 else "do"
                out.append(f"{times} {verb} not exist on {on} in {self.timezone} (clocks go forward from "
                           f"{change}): the run happens once, at {shown_after.strftime(fmt)}")
            else:
                first = (moment - timedelta(seconds=1)).astimezone(tz).tzname()
                what = f"the run happens once, at the first {times}" if len(hits) == 1 else \
                    "each runs once, at its first occurrence"
                verb = "occurs" if len(hits) == 1 else "occur"
                out.append(f"{times} {verb} twice on {on} in {self.timezone} (clocks go back from "
                           f"{change}): {what} ({first})")
        return out

    # ---------------------------------------------------------------- export

    def to_rrule(self, start: datetime | None = None, *,
                 calendar: BusinessCalendar = DEFAULT_CALENDAR) -> str:
        """iCalendar DTSTART + RRULE (RFC 5545) for checking the schedule in a calendar.

        DTSTART is the first wall time after ``start`` (default: now), as RFC 5545 wants it to
        be an occurrence.
        Calendar programs place a time that falls in a DST gap by the offset before the gap
        (02:30 shows as 03:30) where Rota runs at the end of the gap (03:00); holidays are
        not part of the rule. A cron whose day-of-month and day-of-week are both
        restricted means "either", which takes two RRULE lines (an RRULE set).
        """
        start_utc = _to_utc(start) if start is not None else datetime.now(UTC)
        reading = start_utc.astimezone(self._tz).replace(tzinfo=None)
        first = next((w for w in self._wall_times(reading.date(), calendar) if w > reading), reading)
        head = f"DTSTART;TZID={self.timezone}:{first.strftime('%Y%m%dT%H%M%S')}"
        return "\n".join([head] + [f"RRULE:{rule}" for rule in self._rrule_bodies(calendar)])

    def _rrule_bodies(self, calendar: BusinessCalendar) -> list[str]:
        ical_days = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
        if self.kind == "cron":
            rule = self._rule
            base = "FREQ=DAILY"
            if len(rule.months) < 12:
                base += ";BYMONTH=" + ",".join(map(str, sorted(rule.months)))
            timing = (";BYHOUR=" + ",".join(map(str, rule.hours))
                      + ";BYMINUTE=" + ",".join(map(str, rule.minutes)))
            monthday = sorted(rule.days or ()) + ([-1] if rule.last_day else [])
            dom = ";BYMONTHDAY=" + ",".join(map(str, monthday)) if monthday else ""
            dow = ";BYDAY=" + ",".join(ical_days[d] for d in sorted(rule.weekdays)) if rule.weekdays else ""
            if dom and dow:
                return [base + dom + timing, base + dow + timing]
            return [base + dom + dow + timing]
        timing = f";BYHOUR={self.time[0]};BYMINUTE={self.time[1]}"
        if self.kind == "daily":
            return ["FREQ=DAILY" + timing]
        if self.kind == "weekly":
            return ["FREQ=WEEKLY;BYDAY=" + ",".join(ical_days[d] for d in self.weekdays) + timing]
        if self.kind == "monthly_days":
            return ["FREQ=MONTHLY;BYMONTHDAY=" + ",".join(map(str, self.days)) + timing]
        if self.kind == "yearly":
            return [f"FREQ=YEARLY;BYMONTH={self.month};BYMONTHDAY={self.day}" + timing]
        position = -1 if self.ordinal == "last" else ORDINALS.index(self.ordinal) + 1
        if self.flex_day == "day":
            return [f"FREQ=MONTHLY;BYMONTHDAY={position}" + timing]
        if self.flex_day == "weekday":
            days = ",".join(ical_days[d] for d in sorted(calendar.weekdays))
            return [f"FREQ=MONTHLY;BYDAY={days};BYSETPOS={position}" + timing]
        weekday = ical_days[WEEKDAY_NAMES.index(self.flex_day)]
        return [f"FREQ=MONTHLY;BYDAY={position}{weekday}" + timing]

    def to_cron(self) -> str | None:
        """A standard 5-field cron line with the same wall times, or None if cron can't say it.

        Cron has no "nth weekday", "last day" or "business day" in its standard form, and
        it runs in the machine's zone: set CRON_TZ to the schedule's zone when using it.
        """
        if self.kind == "cron":
            return self.cron
        hour, minute = self.time
        if self.kind == "daily":
            return f"{minute} {hour} * * *"
        if self.kind == "weekly":
            return f"{minute} {hour} * * " + ",".join(str((d + 1) % 7) for d in self.weekdays)
        if self.kind == "monthly_days":
            return f"{minute} {hour} " + ",".join(map(str, self.days)) + " * *"
        if self.kind == "yearly":
            return f"{minute} {hour} {self.day} {self.month} *"
        if self.flex_day == "day" and self.ordinal != "last":
            return f"{minute} {hour} {ORDINALS.index(self.ordinal) + 1} * *"
        return None


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


def _weekday_phrase(weekdays: Iterable[int]) -> str:
    """"Friday", "Monday and Thursday", "Monday to Friday", "day" (all seven)."""
    days = sorted(set(weekdays))
    if len(days) == 7:
        return "day"
    if len(days) >= 3 and days[-1] - days[0] == len(days) - 1:
        return f"{WEEKDAY_LABELS[days[0]]} to {WEEKDAY_LABELS[days[-1]]}"
    return _join([WEEKDAY_LABELS[d] for d in days])


def _describe_cron(rule: _CronRule) -> str:
    """Plain words for a parsed cron rule: "Every Monday and Friday at 08:00"."""
    times = rule.times
    if len(times) <= 4:
        when = "at " + _join([_fmt_time(t) for t in times])
    elif len(rule.hours) == 24 and len(rule.minutes) == 60:
        when = "every minute"
    else:
        when = f"{len(times)} times a day, from {_fmt_time(times[0])} to {_fmt_time(times[-1])}"
    dom = [_ordinal_suffix(d) for d in sorted(rule.days or ())] + (["last day"] if rule.last_day else [])
    dow = _weekday_phrase(rule.weekdays) if rule.weekdays is not None else ""
    if dom and dow:  # both restricted: cron means either
        days = f"On the {_join(dom)} of the month, and every {dow},"
    elif dom:
        days = f"On the {_join(dom)} of the month"
    elif dow:
        days = f"Every {dow}"
    else:
        days = "Every day"
    if len(rule.months) < 12:
        days += f" in {_join([MONTH_LABELS[m] for m in sorted(rule.months)])}"
    return f"{days} {when}"


def _month_skip_warnings(days: Iterable[int], months: Iterable[int]) -> list[str]:
    """"day 31 skips 5 months a year", "Feb 29 runs every 4 years" for the given months."""
    months = list(months)
    out = []
    for d in days:
        if d < 29:
            continue
        lacking = [m for m in months if _calendar.monthrange(2001, m)[1] < d]
        lacking_in_leap = [m for m in months if _MAX_MONTH_DAYS[m] < d]
        if not lacking:
            continue
        if len(lacking) == len(months) and not lacking_in_leap:
            out.append(f"{MONTH_LABELS[months[0]][:3]} {d} runs every 4 years "
                       "(only in leap years; 2100 is not one)")
        elif lacking == [2] and not lacking_in_leap:
            out.append(f"day {d} skips February in 3 years out of 4 (it runs only in leap years)")
        else:
            names = ", ".join(MONTH_LABELS[m] for m in lacking)
            plural = "month" if len(lacking) == 1 else "months"
            out.append(f"day {d} skips {len(lacking)} {plural} a year ({names}): it is skipped, not moved")
    return out


def _resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    """:func:`models.timeutil.resolve_wall`, with a shortcut for times that exist.

    ``utcoffset`` under ``fold=0`` and ``fold=1`` (PEP 495) tells the three cases apart in
    two cheap calls: equal offsets, a time that shows once; ``fold=0`` larger, a repeated
    time whose first showing is the ``fold=0`` reading; ``fold=0`` smaller, a time in a
    gap, whose end ``resolve_wall`` finds. Bulk evaluation resolves thousands of wall
    times, so the common case skips resolve_wall's two zone conversions.
    """
    aware = wall.replace(tzinfo=tz)
    offset = aware.utcoffset()
    if offset >= aware.replace(fold=1).utcoffset():
        return (wall - offset).replace(tzinfo=UTC)
    return resolve_wall(wall, tz)


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) for each UTC-offset change in [start, end)."""
    step = timedelta(hours=6)
    out = []
    at, offset = start, start.astimezone(tz).utcoffset()
    while at < end:
        nxt = at + step
        new = nxt.astimezone(tz).utcoffset()
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


_PARSED: dict[tuple[str, str], Schedule] = {}
_PARSED_MAX = 65536


def parse_schedule(data: dict, default_timezone: str = "UTC") -> Schedule:
    """Same as :meth:`Schedule.from_json`."""
    return Schedule.from_json(data, default_timezone)


def next_runs_bulk(items: Iterable[tuple[Any, Schedule]], after: datetime, *,
                   calendar: BusinessCalendar = DEFAULT_CALENDAR) -> dict[Any, datetime | None]:
    """The next run strictly after ``after`` for many (key, schedule) pairs at once.

    Workflows share a handful of schedules ("weekdays 08:00 Europe/Stockholm"), so each
    distinct schedule is computed once and its answer shared by every key that uses it.
    """
    after_utc = _to_utc(after)
    pairs = items if isinstance(items, (list, tuple)) else list(items)
    # Parsing interns schedules, so most keys share one object: collect the objects by id
    # (a C-level int hash, in a comprehension), then the distinct values among them.
    objects = {id(schedule): schedule for _, schedule in pairs}
    memo: dict[Schedule, datetime | None] = {}
    per_zone: dict[str, tuple[datetime | None, dict[datetime, datetime]]] = {}
    by_id: dict[int, datetime | None] = {}
    for object_id, schedule in objects.items():
        if schedule in memo:  # an equal schedule parsed separately
            by_id[object_id] = memo[schedule]
            continue
        # Schedules in one zone share the local reading of ``after`` and resolved wall
        # times ("tomorrow 08:00 in Stockholm" answers many daily and weekly schedules).
        shared = per_zone.get(schedule.timezone)
        if shared is None:
            try:
                reading = after_utc.astimezone(schedule.zoneinfo).replace(tzinfo=None)
            except OverflowError:  # the local clock is already past year 9999
                reading = None
            shared = per_zone[schedule.timezone] = (reading, {})
        found = None if shared[0] is None else schedule._first_after(after_utc, shared[0], calendar, shared[1])
        by_id[object_id] = memo[schedule] = found
    return {key: by_id[id(schedule)] for key, schedule in pairs}
