"""Schedules in words: the sentence the editor shows, and the warnings about surprises."""
from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from datetime import datetime, timedelta

from engine.schedule.base import (
    DEFAULT_CALENDAR,
    MAX_MONTH_DAYS,
    MONTH_LABELS,
    WEEKDAY_LABELS,
    WEEKDAY_NAMES,
    BusinessCalendar,
    fmt_time,
    join,
    ordinal_suffix,
    to_utc,
    transitions,
)
from engine.schedule.cron import CronRule


class Describable:
    """The words of a :class:`~engine.schedule.model.Schedule` (a base class of it)."""

    def describe(self) -> str:
        """A plain-language sentence, e.g. "Every Friday at 08:00 (Europe/Stockholm)"."""
        where = f"({self.timezone})"
        if self.kind == "cron":
            return f'{_describe_cron(self._rule)} ({self.timezone}; cron "{self.cron}")'
        at = f"at {fmt_time(self.time)} {where}"
        if self.kind == "daily":
            return f"Every day {at}"
        if self.kind == "weekly":
            return f"Every {_weekday_phrase(self.weekdays)} {at}"
        if self.kind == "monthly_days":
            return f"On the {join([ordinal_suffix(d) for d in self.days])} of every month {at}"
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
        try:
            out += self._dst_warnings(to_utc(now), calendar)
        except OverflowError:  # the year ahead runs past 9999-12-31: no runs there to warn about
            pass
        return out

    def _dst_warnings(self, now: datetime, calendar: BusinessCalendar) -> list[str]:
        """Runs in the coming year whose wall time falls in a DST gap or overlap."""
        tz = self._tz
        out: list[str] = []
        for moment, before, after in transitions(tz, now, now + timedelta(days=365)):
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
            times = fmt_time((hits[0].hour, hits[0].minute))
            if len(hits) > 1:
                times += f"–{fmt_time((hits[-1].hour, hits[-1].minute))} ({len(hits)} times)"
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



def _weekday_phrase(weekdays: Iterable[int]) -> str:
    """"Friday", "Monday and Thursday", "Monday to Friday", "day" (all seven)."""
    days = sorted(set(weekdays))
    if len(days) == 7:
        return "day"
    if len(days) >= 3 and days[-1] - days[0] == len(days) - 1:
        return f"{WEEKDAY_LABELS[days[0]]} to {WEEKDAY_LABELS[days[-1]]}"
    return join([WEEKDAY_LABELS[d] for d in days])


def _describe_cron(rule: CronRule) -> str:
    """Plain words for a parsed cron rule: "Every Monday and Friday at 08:00"."""
    times = rule.times
    if len(times) <= 4:
        when = "at " + join([fmt_time(t) for t in times])
    elif len(rule.hours) == 24 and len(rule.minutes) == 60:
        when = "every minute"
    else:
        when = f"{len(times)} times a day, from {fmt_time(times[0])} to {fmt_time(times[-1])}"
    dom = [ordinal_suffix(d) for d in sorted(rule.days or ())] + (["last day"] if rule.last_day else [])
    dow = _weekday_phrase(rule.weekdays) if rule.weekdays is not None else ""
    if dom and dow:  # both restricted: cron means either
        days = f"On the {join(dom)} of the month, and every {dow},"
    elif dom:
        days = f"On the {join(dom)} of the month"
    elif dow:
        days = f"Every {dow}"
    else:
        days = "Every day"
    if len(rule.months) < 12:
        days += f" in {join([MONTH_LABELS[m] for m in sorted(rule.months)])}"
    return f"{days} {when}"


def _month_skip_warnings(days: Iterable[int], months: Iterable[int]) -> list[str]:
    """"day 31 skips 5 months a year", "Feb 29 runs every 4 years" for the given months."""
    months = list(months)
    out = []
    for d in days:
        if d < 29:
            continue
        lacking = [m for m in months if _calendar.monthrange(2001, m)[1] < d]
        lacking_in_leap = [m for m in months if MAX_MONTH_DAYS[m] < d]
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
