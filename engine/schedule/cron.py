"""Cron expressions: a 5-field line compiled to sets of minutes, hours, days and months.

Rota reads cron itself, by the rules of crontab(5) and POSIX, rather than through
croniter, whose quirks (an equal-ends range read as ``*``, a ``*`` inside a list
crashing, names refused by a letter check) leaked into schedules:

- fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or jan-dec, day of
  week 0-7 or sun-sat (0 and 7 are both Sunday); names are three letters, any case;
- each field is a list of items separated by commas; an item is ``*``, a value ``N``, a
  range ``N-M`` (both ends included, so ``5-5`` is just 5), optionally followed by
  ``/STEP``; ``*/STEP`` steps through the whole field and ``N/STEP`` from N to the
  field's end (as cronie does);
- a list mixing ``*`` with values (``*,5``) means every value;
- day of month and day of week: when both are restricted — neither starts with ``*``,
  as crontab(5) defines it — a day matches if *either* matches; otherwise both must;
- ``L`` in the day-of-month field is the last day of the month (an extension);
- a range whose start is after its end (``wed-sun``, ``nov-mar``, ``22-2``) is refused
  with the rewrite that says what was probably meant (``wed-sat,sun``): cron
  implementations disagree about it (Vixie cron matches nothing, croniter wraps), so
  Rota makes the operator say it explicitly.

The :class:`CronRule` matches dates itself; instants are made by :mod:`.model` like
every other schedule kind's, so DST is handled one way for all of them.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from models.errors import RotaError

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()   # names[i] is the value low_name + i
    name_base: int = 0

    @property
    def allowed(self) -> str:
        text = f"{self.low}-{self.high}"
        if self.names:
            text += f" or {self.names[0]}-{self.names[-1]}"
        return text


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTH_NAMES, 1),
    _Field("day-of-week", 0, 7, _DOW_NAMES, 0),
)


@dataclass(frozen=True)
class CronRule:
    """A parsed 5-field cron expression as sets, so we can match dates ourselves."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]             # days of the month named (all 31 for "*")
    last_day: bool                   # "L" in the day-of-month field
    months: frozenset[int]
    weekdays: frozenset[int]         # 0 = Monday (Python's numbering); all 7 for "*"
    dom_star: bool = True            # the day-of-month field starts with "*"
    dow_star: bool = True            # the day-of-week field starts with "*"

    @property
    def times(self) -> tuple[tuple[int, int], ...]:
        return tuple((h, m) for h in self.hours for m in self.minutes)

    @property
    def either_day(self) -> bool:
        """Both day fields restricted: a day matches if either does (crontab(5))."""
        return not self.dom_star and not self.dow_star

    def matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days or (
            self.last_day and day.day == _calendar.monthrange(day.year, day.month)[1])
        dow = day.weekday() in self.weekdays
        return (dom or dow) if self.either_day else (dom and dow)


def _error(expr: str, message: str) -> RotaError:
    return RotaError(f'cron "{expr}": {message}')


def _value(expr: str, spec: _Field, text: str) -> int:
    key = text.lower()
    if spec.names and key in spec.names:
        return spec.names.index(key) + spec.name_base
    if not text.isdigit():
        if any(ch in text.upper() for ch in "#?LWH@"):
            raise _error(expr, f'{spec.name} "{text}" uses a non-standard cron extension: use {spec.allowed} '
                               '(for "third Friday" or "last business day" use the monthly_flexible kind)')
        hint = f" or a name {spec.names[0]}-{spec.names[-1]}" if spec.names else ""
        raise _error(expr, f'{spec.name} "{text}" is not a number{hint}: use {spec.allowed}')
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise _error(expr, f"{spec.name} {value} is out of range: use {spec.allowed}")
    return value


def _rewrite(spec: _Field, start_text: str, end_text: str, start: int, end: int) -> str:
    """"wed-sat,sun" for "wed-sun": a backwards range written forwards."""
    named = start_text.isalpha() or end_text.isalpha()
    style = str.title if (start_text + end_text)[:1].isupper() else str.lower
    top = 6 if spec.name == "day-of-week" else spec.high
    bottom = spec.low

    def show(v: int) -> str:
        if named and spec.names:
            return style(spec.names[(v % 7 if spec.name == "day-of-week" else v) - spec.name_base])
        return str(v)

    if spec.name == "day-of-week" and start == 7:  # 7 is Sunday, the week's first day too
        return f"{show(0)}-{show(end)}" if end else show(0)
    head = show(start) if start == top else f"{show(start)}-{show(top)}"
    tail = show(bottom) if end == bottom else f"{show(bottom)}-{show(end)}"
    return f"{head},{tail}"


def _parse_field(expr: str, spec: _Field, text: str) -> tuple[set[int], bool]:
    """The values a field names, and whether it had "L" (last day of the month)."""
    values: set[int] = set()
    last = False
    for item in text.split(","):
        if not item:
            raise _error(expr, f'{spec.name} "{text}" has an empty item between commas')
        if spec.name == "day-of-month" and item.upper() == "L":
            last = True
            continue
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise _error(expr, f'{spec.name} step "/{step_text}" must be a whole number of 1 or more')
            step = int(step_text)
        if base == "*":
            low, high = spec.low, spec.high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            if not start_text or not end_text or "-" in end_text:
                raise _error(expr, f'{spec.name} "{base}" is not a range: write N-M with N and M in {spec.allowed}')
            low, high = _value(expr, spec, start_text), _value(expr, spec, end_text)
            if low > high:
                raise _error(expr, f'{spec.name} range "{base}" runs backwards; write it as '
                                   f'{_rewrite(spec, start_text, end_text, low, high)}')
        else:
            low = _value(expr, spec, base)
            high = spec.high if slash else low  # "5/15": from 5 to the field's end, as cronie does
        values.update(range(low, high + 1, step))
    return values, last


@lru_cache(maxsize=4096)
def compile_cron(expr: str) -> CronRule:
    """Parse a 5-field cron line; every mistake is one line naming the field and its range."""
    fields = expr.split()
    if len(fields) == 1 and fields[0].lower() in _MACROS:
        raise _error(expr, f'write it as the 5 fields "{_MACROS[fields[0].lower()]}" (the @ forms are not supported)')
    if len(fields) != 5:
        raise _error(expr, f"needs 5 fields (minute hour day-of-month month day-of-week), not {len(fields)}")
    parsed = [_parse_field(expr, spec, text) for text, spec in zip(fields, _FIELDS)]
    (minutes, _), (hours, _), (days, last_day), (months, _), (dow, _) = parsed
    rule = CronRule(
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=frozenset(days),
        last_day=last_day,
        months=frozenset(months),
        # cron counts Sunday as 0 (and 7); Python's date.weekday() counts Monday as 0
        weekdays=frozenset((d - 1) % 7 for d in dow),
        dom_star=fields[2].startswith("*"),
        dow_star=fields[4].startswith("*"),
    )
    # Every combination of month, first weekday and leap year occurs in 2000-2028, so a
    # rule that matches no day there matches none ever (e.g. "0 0 31 2 *").
    day = date(2000, 1, 1)
    while day.year <= 2028 and not rule.matches(day):
        day += timedelta(days=1)
    if day.year > 2028:
        raise _error(expr, "never fires (no month in it has such a day, e.g. February 31): "
                           "fix the day-of-month, month or day-of-week field")
    return rule
