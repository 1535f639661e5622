"""A deliberately simple, independent model of SPEC §2 schedules for the tests.

It shares nothing with ``engine.schedule`` or ``models.timeutil.resolve_wall``:

* which local dates fire is decided by listing the days of each month and picking,
  straight from the JSON (and, for cron, from the field sets the test generated);
* a wall time becomes an instant by the rule itself — "the first instant at which the
  local clock reads that wall time or later" — computed from the zone's UTC offsets
  only (``utcoffset`` of UTC instants is never ambiguous), never from ``fold``.
"""
from __future__ import annotations

import calendar as _cal
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = UTC
NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ORDINALS = ("first", "second", "third", "fourth", "last")


# ----------------------------------------------------------------------- offsets

@lru_cache(maxsize=20000)
def _pieces(zone_name: str, anchor: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """Constant-offset pieces (start, end, offset) covering anchor-3 days .. anchor+4 days.

    Offsets are sampled every 30 minutes; a change between two samples is bisected to
    the second. (Real zones never change twice within 30 minutes.)
    """
    tz = ZoneInfo(zone_name)
    lo = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC) - timedelta(days=3)
    hi = lo + timedelta(days=7)
    step = timedelta(minutes=30)
    pieces = []
    start, offset = lo, lo.astimezone(tz).utcoffset()
    t = lo
    while t < hi:
        nxt = t + step
        new = nxt.astimezone(tz).utcoffset()
        if new != offset:
            a, b = t, nxt
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) // 2
                if mid.astimezone(tz).utcoffset() == offset:
                    a = mid
                else:
                    b = mid
            change = a.replace(microsecond=0) + timedelta(seconds=1)  # changes fall on whole seconds
            pieces.append((start, change, offset))
            start, offset = change, new
        t = nxt
    pieces.append((start, hi, offset))
    return tuple(pieces)


def reference_resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant t (UTC) with t + offset(t) >= wall: the SPEC §2 rule, literally."""
    for start, end, offset in _pieces(tz.key, wall.date()):
        candidate = max(start, (wall - offset).replace(tzinfo=UTC))
        if candidate < end:
            return candidate
    raise AssertionError(f"no instant found for {wall} in {tz.key}")  # pragma: no cover


def reference_reading(instant: datetime, tz: ZoneInfo) -> datetime:
    """What the local clock reads at ``instant`` (naive), from the offset alone."""
    utc = instant.astimezone(UTC)
    return (utc + utc.astimezone(tz).utcoffset()).replace(tzinfo=None)


# ----------------------------------------------------------------------- dates

def _month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, _cal.monthrange(year, month)[1] + 1)]


def fires_on(spec: dict, day: date, *, cron_sets: dict | None = None,
             business_weekdays=frozenset(range(5)), holidays=frozenset()) -> bool:
    """Does the schedule ``spec`` (SPEC §9 JSON) fire on local date ``day``?"""
    kind = spec["kind"]
    if kind == "daily":
        return True
    if kind == "weekly":
        return NAMES[day.weekday()] in spec["weekdays"]
    if kind == "monthly_days":
        return day.day in spec["days"]
    if kind == "yearly":
        return (day.month, day.day) == (spec["month"], spec["day"])
    if kind == "monthly_flexible":
        ordinal, what = spec["flex"]["ordinal"], spec["flex"]["day"]
        days = _month_days(day.year, day.month)
        if what == "weekday":
            days = [d for d in days if d.weekday() in business_weekdays and d not in holidays]
        elif what != "day":
            days = [d for d in days if NAMES[d.weekday()] == what]
        position = -1 if ordinal == "last" else ORDINALS.index(ordinal)
        try:
            return days[position] == day
        except IndexError:
            return False
    if kind == "cron":
        s = cron_sets
        if day.month not in s["months"]:
            return False
        cron_dow = (day.weekday() + 1) % 7  # cron: Sunday = 0
        dom_ok = s["dom"] is None or day.day in s["dom"]
        dow_ok = s["dow"] is None or cron_dow in s["dow"]
        if s["dom"] is not None and s["dow"] is not None:
            return dom_ok or dow_ok
        return dom_ok and dow_ok
    raise AssertionError(kind)  # pragma: no cover


def wall_times_on(spec: dict, day: date, cron_sets: dict | None = None) -> list[datetime]:
    if spec["kind"] == "cron":
        return [datetime(day.year, day.month, day.day, h, m)
                for h in sorted(cron_sets["hours"]) for m in sorted(cron_sets["minutes"])]
    hour, minute = map(int, spec["time"].split(":"))
    return [datetime(day.year, day.month, day.day, hour, minute)]


def reference_between(spec: dict, start: datetime, end: datetime, **kw) -> list[datetime]:
    """Every run in (start, end]: walk each local date, resolve each wall time, dedupe."""
    tz = ZoneInfo(spec.get("timezone", "UTC"))
    found = set()
    day = reference_reading(start, tz).date() - timedelta(days=2)
    last = reference_reading(end, tz).date() + timedelta(days=2)
    while day <= last:
        if fires_on(spec, day, **kw):
            for wall in wall_times_on(spec, day, kw.get("cron_sets")):
                at = reference_resolve(wall, tz)
                if start < at <= end:
                    found.add(at)
        day += timedelta(days=1)
    return sorted(found)


def reference_next_n(spec: dict, instant: datetime, n: int, *, horizon_days: int = 6500, **kw) -> list[datetime]:
    """The first ``n`` runs strictly after ``instant``, by walking dates one at a time."""
    tz = ZoneInfo(spec.get("timezone", "UTC"))
    reading = reference_reading(instant, tz)
    found: set[datetime] = set()
    day = reading.date() - timedelta(days=2)
    stop = None
    for _ in range(horizon_days):
        if stop is not None and day > stop:
            break
        if fires_on(spec, day, **kw):
            for wall in wall_times_on(spec, day, kw.get("cron_sets")):
                if wall < reading - timedelta(hours=26):
                    continue  # a clock never jumps back a day and more: surely before
                at = reference_resolve(wall, tz)
                if at > instant:
                    found.add(at)
            if len(found) >= n and stop is None:
                stop = day + timedelta(days=2)  # later dates can't resolve earlier
        day += timedelta(days=1)
    return sorted(found)[:n]


@lru_cache(maxsize=4000)
def transitions_in_year(zone_name: str, year: int) -> tuple[datetime, ...]:
    """The instants in ``year`` at which the zone's UTC offset changes (for biasing tests)."""
    tz = ZoneInfo(zone_name)
    out = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    offset = t.astimezone(tz).utcoffset()
    while t.year == year:
        nxt = t + timedelta(hours=12)
        new = nxt.astimezone(tz).utcoffset()
        if new != offset:
            a, b = t, nxt
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) // 2
                if mid.astimezone(tz).utcoffset() == offset:
                    a = mid
                else:
                    b = mid
            out.append(a.replace(microsecond=0) + timedelta(seconds=1))
            offset = new
        t = nxt
    return tuple(out)
