"""What every schedule module shares: names, the business-day calendar, time helpers.

Wall times become instants here (:func:`resolve`): the first instant at which the local
clock reads that wall time or later (see :mod:`engine.schedule.model`).
"""
from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from models.errors import RotaError
from models.timeutil import UTC, resolve_wall

KINDS = ("daily", "weekly", "monthly_days", "monthly_flexible", "yearly", "cron")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_LABELS = ("", "January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December")
ORDINALS = ("first", "second", "third", "fourth", "last")
FLEX_DAYS = WEEKDAY_NAMES + ("day", "weekday")
# A leap year: the longest each month can be.
MAX_MONTH_DAYS = tuple(_calendar.monthrange(2000, m)[1] if m else 0 for m in range(13))


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
           holidays: Iterable[date | str] = ()) -> BusinessCalendar:
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
    def from_settings(cls, settings: Any) -> BusinessCalendar:
        """From a ``models.settings.Settings`` (``business_days`` and ``holidays``)."""
        return cls.of(settings.business_days, settings.holidays)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays


DEFAULT_CALENDAR = BusinessCalendar()


def fmt_time(time: tuple[int, int]) -> str:
    return f"{time[0]:02d}:{time[1]:02d}"


def ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def to_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime given where an instant is needed")
    return instant.astimezone(UTC)


def resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    """:func:`models.timeutil.resolve_wall`, with a shortcut for times that exist.

    ``utcoffset`` under ``fold=0`` and ``fold=1`` (PEP 495) tells the three cases apart in
    two cheap calls: equal offsets, a time that shows once; ``fold=0`` larger, a repeated
    time whose first showing is the ``fold=0`` reading; ``fold=0`` smaller, a time in a
    gap, whose end ``resolve_wall`` finds. Bulk evaluation resolves thousands of wall
    times, so the common case skips resolve_wall's two zone conversions.
    """
    aware = wall.replace(tzinfo=tz)
    offset = cast(timedelta, aware.utcoffset())  # a ZoneInfo always gives an offset
    if offset >= cast(timedelta, aware.replace(fold=1).utcoffset()):
        return (wall - offset).replace(tzinfo=UTC)
    return resolve_wall(wall, tz)


class ScheduleFields:
    """The fields of a :class:`~engine.schedule.model.Schedule`, declared once for the type
    checker: its mixins (``Describable``, ``Exportable``) read them."""

    # Declared for type checkers; the Schedule dataclass defines them.
    if TYPE_CHECKING:
        kind: str
        timezone: str
        time: tuple[int, int] | None
        weekdays: tuple[int, ...]
        days: tuple[int, ...]
        ordinal: str | None
        flex_day: str | None
        month: int | None
        day: int | None
        cron: str | None
        _tz: ZoneInfo
        _rule: Any  # CronRule for cron schedules

        @property
        def zoneinfo(self) -> ZoneInfo: ...

        def _wall_times(self, start: date, calendar: BusinessCalendar) -> Iterator[datetime]: ...

        def walls_after(self, instant: datetime, *, calendar: BusinessCalendar = ...
                        ) -> Iterator[tuple[datetime, datetime]]: ...
