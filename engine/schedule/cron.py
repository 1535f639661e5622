"""Cron expressions: a 5-field line compiled to sets of minutes, hours, days and months.

The :class:`CronRule` matches dates itself; instants are made by :mod:`.model` like
every other schedule kind's, so DST is handled one way for all of them.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from croniter import croniter

from models.errors import RotaError


@dataclass(frozen=True)
class CronRule:
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


@lru_cache(maxsize=4096)
def compile_cron(expr: str) -> CronRule:
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
    rule = CronRule(
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
