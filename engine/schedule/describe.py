"""Schedules in words: the sentence the editor shows, and the warnings about surprises."""
from __future__ import annotations

import calendar as _calendar
import itertools
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.schedule.base import (
    DEFAULT_CALENDAR,
    MAX_MONTH_DAYS,
    MONTH_LABELS,
    WEEKDAY_LABELS,
    WEEKDAY_NAMES,
    BusinessCalendar,
    ScheduleFields,
    fmt_time,
    join,
    ordinal_suffix,
    resolve,
    to_utc,
)
from engine.schedule.cron import CronRule
from models.timeutil import transitions

# More runs than this a day is probably a mistake in a cron line (e.g. "* * * * *").
BUSY_PER_DAY = 24


class Describable(ScheduleFields):
    """The words of a :class:`~engine.schedule.model.Schedule` (a base class of it)."""

    def describe(self) -> str:
        """A plain-language sentence, e.g. "Every Friday at 08:00 (Europe/Stockholm)"."""
        where = f"({self.timezone})"
        if self.kind == "cron":
            return f'{_describe_cron(self._rule)} ({self.timezone}; cron "{self.cron}")'
        assert self.time is not None  # every kind but cron has one (Schedule._validate)
        at = f"at {fmt_time(self.time)} {where}"
        if self.kind == "daily":
            return f"Every day {at}"
        if self.kind == "weekly":
            return f"Every {_weekday_phrase(self.weekdays)} {at}"
        if self.kind == "monthly_days":
            return f"On the {join([ordinal_suffix(d) for d in self.days])} of every month {at}"
        if self.kind == "monthly_flexible":
            what = {"day": "day", "weekday": "business day"}.get(self.flex_day or "")
            what = what or WEEKDAY_LABELS[WEEKDAY_NAMES.index(self.flex_day)]
            return f"On the {self.ordinal} {what} of every month {at}"
        assert self.month is not None  # a yearly schedule has one (Schedule._validate)
        return f"Every year on {MONTH_LABELS[self.month]} {self.day} {at}"

    def warnings(self, now: datetime, *, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> list[str]:
        """What an operator may not expect: skipped months, leap days, DST in the next year."""
        out: list[str] = []
        if self.kind == "monthly_days":
            out += _month_skip_warnings(self.days, range(1, 13))
        elif self.kind == "yearly":
            out += _month_skip_warnings((self.day or 0,), (self.month or 0,))
        elif self.kind == "cron":
            rule = self._rule
            if len(rule.days) < 31 and len(rule.weekdays) == 7 and not rule.either_day:
                out += _month_skip_warnings(sorted(rule.days), sorted(rule.months))
            busy = len(rule.times)
            if busy > BUSY_PER_DAY:
                every = " on each day it runs" if self._rule_days_limited() else ""
                out.append(f"runs {busy:,} times a day{every}: each run enrolls every record that meets "
                           "the criteria at that moment")
        try:
            out += self._dst_warnings(to_utc(now), calendar)
        except OverflowError:  # the year ahead runs past 9999-12-31: no runs there to warn about
            pass
        return out

    def runs_per_day(self) -> int:
        """How many times the schedule runs on a day it runs (more than 1 only for cron)."""
        return len(self._rule.times) if self.kind == "cron" else 1

    def is_busy(self) -> bool:
        """More than :data:`BUSY_PER_DAY` runs a day: the editor asks before saving it."""
        return self.runs_per_day() > BUSY_PER_DAY

    def _rule_days_limited(self) -> bool:
        rule = self._rule
        return len(rule.months) < 12 or (rule.either_day and len(rule.days) < 31 and len(rule.weekdays) < 7) or (
            not rule.either_day and (len(rule.days) < 31 or len(rule.weekdays) < 7))

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
    """"Friday", "Monday and Thursday", "Monday to Friday", "Sunday to Thursday", "day" (all)."""
    days = sorted(set(weekdays))
    if len(days) == 7:
        return "day"
    if len(days) >= 3:
        for order in (range(7), (6, 0, 1, 2, 3, 4, 5)):  # Monday first, then cron's Sunday first
            position = [list(order).index(d) for d in days]
            if max(position) - min(position) == len(days) - 1:
                ends = sorted(days, key=lambda d: list(order).index(d))
                return f"{WEEKDAY_LABELS[ends[0]]} to {WEEKDAY_LABELS[ends[-1]]}"
    return join([WEEKDAY_LABELS[d] for d in days])


def _runs_of(values: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs in sorted values: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for v in values:
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _progression(values: list[int]) -> int | None:
    """The common step of 3 or more evenly spaced values (more than 1 apart), else None."""
    if len(values) < 3:
        return None
    step = values[1] - values[0]
    ok = step > 1 and all(b - a == step for a, b in itertools.pairwise(values))
    return step if ok else None


def _day_words(rule: CronRule) -> str:
    """"the 1st and 15th", "the 1st to the 7th", "the 1st, 3rd, 5th … 31st (every 2 days)"."""
    days = sorted(rule.days)
    step = _progression(days)
    words: list[str]
    if step is not None and len(days) > 4:
        words = [(f"the {ordinal_suffix(days[0])}, {ordinal_suffix(days[1])}, {ordinal_suffix(days[2])} … "
                 f"{ordinal_suffix(days[-1])} (every {step} days)")]
    else:
        words = [ordinal_suffix(a) if a == b else f"{ordinal_suffix(a)} to the {ordinal_suffix(b)}"
                 for a, b in _runs_of(days)]
    if rule.last_day:
        words.append("last day")
    return "the " + join(words) if not words[0].startswith("the ") else join(words)


def _time_words(rule: CronRule) -> str:
    """"at 08:00 and 17:30", "every 15 minutes from 09:00 to 17:45 (36 times a day)"."""
    times = rule.times
    if len(times) <= 4:
        return "at " + join([fmt_time(t) for t in times])
    minutes, hours = list(rule.minutes), list(rule.hours)
    if len(minutes) == 60 and len(hours) == 24:
        return "every minute"
    step = _progression(minutes) if minutes[0] == 0 and 60 % max(len(minutes), 1) == 0 else None
    if len(minutes) == 60:
        each = "every minute"
    elif step is not None and step * len(minutes) == 60:
        each = f"every {step} minutes"
    else:
        each = "every hour at " + join([f":{m:02d}" for m in minutes])
    if len(hours) == 24:
        span = ""
    elif len(_runs_of(hours)) == 1:
        span = f" from {fmt_time(times[0])} to {fmt_time(times[-1])}"
    else:
        span = ", in the hours " + join([f"{a:02d}:00-{b:02d}:59" for a, b in _runs_of(hours)])
    return f"{each}{span} ({len(times):,} times a day)"


def _describe_cron(rule: CronRule) -> str:
    """Plain words for a parsed cron rule, saying exactly which days and times run."""
    all_days = len(rule.days) == 31 or rule.last_day and len(rule.days) >= 28
    dom_limits = len(rule.days) < 31
    dow_limits = len(rule.weekdays) < 7
    dow = _weekday_phrase(rule.weekdays)
    if rule.either_day and not (all_days or not dow_limits):  # both restricted: either may match
        days = f"On {_day_words(rule)} of the month, and every {dow},"
    elif rule.either_day or (not dom_limits and not dow_limits):
        days = "Every day"
    elif dom_limits and dow_limits:  # a "*/2"-style field keeps cron's AND
        days = f"Every {dow} falling on {_day_words(rule)} of the month"
    elif dom_limits:
        days = f"On {_day_words(rule)} of the month"
    else:
        days = f"Every {dow}"
    if len(rule.months) < 12:
        days += f" in {join([MONTH_LABELS[m] for m in sorted(rule.months)])}"
    return f"{days} {_time_words(rule)}"


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


# --------------------------------------------------------------------------- occurrences

def pause_note(at: datetime, tz: ZoneInfo, pause_dates: Collection[date]) -> str | None:
    """"enrolls; actions wait until Sat 26 Dec 2026 08:00" for a run on a pause day.

    Records enroll as usual on a pause day; their steps wait for the same wall time on
    the next day that is not a pause day (as the executor does), which this names.
    """
    local = at.astimezone(tz)
    if local.date() not in pause_dates:
        return None
    day = local.date() + timedelta(days=1)
    while day in pause_dates:
        day += timedelta(days=1)
    resumed = resolve(datetime.combine(day, local.time().replace(tzinfo=None)), tz).astimezone(tz)
    return f"pause day: enrolls; actions wait until {resumed:%a %d %b %Y %H:%M}"


def occurrence_notes(schedule: Describable, wall: datetime, at: datetime, *,
                     pause_dates: Collection[date] = ()) -> list[str]:
    """What is unusual about one run: a pause day, a DST gap that moved it, a repeated hour.

    ``wall`` is the local time the schedule names and ``at`` the instant it runs (see
    ``Schedule.walls_after``).
    """
    tz: ZoneInfo = schedule.zoneinfo
    local = at.astimezone(tz)
    out: list[str] = []
    shown = local.replace(tzinfo=None)
    if shown != wall:
        when = f"{shown:%H:%M}" if shown.date() == wall.date() else f"{shown:%a %d %b %H:%M}"
        out.append(f"DST: fires at {when} instead of {wall:%H:%M} (the clocks skip {wall:%H:%M} that day)")
    elif wall.replace(tzinfo=tz).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset():
        out.append(f"DST: {wall:%H:%M} happens twice that night; it runs once, at the first ({local.tzname()})")
    note = pause_note(at, tz, pause_dates)
    if note:
        out.append(note)
    return out


def upcoming_with_notes(schedule: Describable, after: datetime, count: int, *,
                        pause_dates: Collection[date] = (),
                        calendar: BusinessCalendar = DEFAULT_CALENDAR) -> list[tuple[datetime, list[str]]]:
    """The next ``count`` runs after ``after``, each with its :func:`occurrence_notes`.

    What the editor's preview, ``rota schedule next`` and the review screen show.
    """
    out = []
    for wall, at in schedule.walls_after(after, calendar=calendar):
        out.append((at, occurrence_notes(schedule, wall, at, pause_dates=pause_dates)))
        if len(out) >= count:
            break
    return out


def skipped_days(schedule: Describable, start: date, end: date) -> list[tuple[date, str]]:
    """Days the schedule names that the calendar lacks in [start, end] (local dates):
    (the month's last day, "no run on April 31: April 2026 has 30 days (skipped, not moved)")."""
    kind = schedule.kind
    days: tuple[int, ...]
    months: Collection[int]
    if kind == "monthly_days":
        days, months = schedule.days, range(1, 13)
    elif kind == "yearly":
        days, months = (schedule.day or 0,), (schedule.month or 0,)
    elif kind == "cron" and not schedule._rule.either_day and len(schedule._rule.weekdays) == 7:
        days, months = tuple(sorted(schedule._rule.days)), schedule._rule.months
    else:
        return []
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        length = _calendar.monthrange(year, month)[1]
        last = date(year, month, length)
        if month in months and start <= last <= end:
            for d in days:
                if d > length:
                    out.append((last, (f"no run on {MONTH_LABELS[month]} {d}: {MONTH_LABELS[month]} {year} has "
                                      f"{length} days (skipped, not moved)")))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
