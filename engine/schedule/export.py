"""Schedules for other tools: an iCalendar RRULE and, where it can say it, a cron line."""
from __future__ import annotations

from datetime import datetime

from engine.schedule.base import (
    DEFAULT_CALENDAR,
    ORDINALS,
    WEEKDAY_NAMES,
    BusinessCalendar,
    ScheduleFields,
    to_utc,
)
from models.timeutil import UTC


class Exportable(ScheduleFields):
    """RRULE and cron export of a :class:`~engine.schedule.model.Schedule` (a base class of it)."""

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
        start_utc = to_utc(start) if start is not None else datetime.now(UTC)
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
            monthday = [] if len(rule.days) == 31 else sorted(rule.days) + ([-1] if rule.last_day else [])
            dom = ";BYMONTHDAY=" + ",".join(map(str, monthday)) if monthday else ""
            dow = ";BYDAY=" + ",".join(ical_days[d] for d in sorted(rule.weekdays)) if len(rule.weekdays) < 7 else ""
            if dom and dow and rule.either_day:  # cron's OR of the two day fields: an RRULE set
                return [base + dom + timing, base + dow + timing]
            if rule.either_day and not (dom and dow):  # one of them names every day: every day
                return [base + timing]
            return [base + dom + dow + timing]
        assert self.time is not None  # every kind but cron has one (Schedule._validate)
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
        assert self.time is not None  # every kind but cron has one (Schedule._validate)
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
