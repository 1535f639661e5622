"""Property tests: the implementation against the brute-force reference in schedule_reference.

Random schedules of every kind, in zones chosen for their awkward clock changes, at
random instants from 2000 to 2100 — half of them within a day of a clock change.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from croniter import CroniterBadDateError, croniter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schedule_reference import NAMES, reference_between, reference_next_n, transitions_in_year

from engine.schedule.base import BusinessCalendar
from engine.schedule.model import Schedule, parse_schedule
from models.errors import RotaError
from models.timeutil import UTC

ZONES = [
    "UTC", "Europe/Stockholm", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
    "Europe/Dublin", "Pacific/Apia", "Pacific/Chatham", "America/Sao_Paulo", "Africa/Casablanca",
    "America/St_Johns", "Asia/Kolkata",
]
# Times near the hours when clocks change are drawn far more often than chance would.
TIMES = st.one_of(
    st.sampled_from(["00:00", "00:30", "01:00", "01:30", "01:45", "02:00", "02:15", "02:30", "02:45",
                     "03:00", "03:30", "23:00", "23:30", "23:59"]),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
)
MAX_DAY = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}

# No example database: several engineers share this working tree.
PROFILE = settings(deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _field(values: set[int] | None) -> str:
    return "*" if values is None else ",".join(map(str, sorted(values)))


@st.composite
def schedules(draw):
    """(SPEC §9 JSON, cron field sets or None) for a random schedule in a random zone."""
    tz = draw(st.sampled_from(ZONES))
    kind = draw(st.sampled_from(["daily", "weekly", "monthly_days", "monthly_flexible", "yearly", "cron"]))
    if kind == "cron":
        sets = {
            "minutes": draw(st.one_of(st.sets(st.integers(0, 59), min_size=1, max_size=3),
                                      st.just(set(range(0, 60, 15))))),
            "hours": draw(st.one_of(st.sets(st.integers(0, 23), min_size=1, max_size=3),
                                    st.sets(st.sampled_from([0, 1, 2, 3, 23]), min_size=1, max_size=2))),
            "dom": draw(st.one_of(st.none(), st.sets(st.integers(1, 31), min_size=1, max_size=3))),
            "months": draw(st.one_of(st.none(), st.sets(st.integers(1, 12), min_size=1, max_size=4))),
            "dow": draw(st.one_of(st.none(), st.sets(st.integers(0, 6), min_size=1, max_size=3))),
        }
        expr = " ".join([_field(sets["minutes"]), _field(sets["hours"]), _field(sets["dom"]),
                         _field(sets["months"]), _field(sets["dow"])])
        if sets["months"] is None:
            sets["months"] = set(range(1, 13))
        return {"kind": "cron", "cron": expr, "timezone": tz}, sets
    spec: dict = {"kind": kind}
    if kind == "weekly":
        spec["weekdays"] = sorted(draw(st.sets(st.sampled_from(NAMES), min_size=1)), key=NAMES.index)
    elif kind == "monthly_days":
        spec["days"] = sorted(draw(st.sets(st.integers(1, 31), min_size=1, max_size=4)))
    elif kind == "monthly_flexible":
        spec["flex"] = {"ordinal": draw(st.sampled_from(["first", "second", "third", "fourth", "last"])),
                        "day": draw(st.sampled_from(NAMES + ("day", "weekday")))}
    elif kind == "yearly":
        month = draw(st.integers(1, 12))
        spec["month"], spec["day"] = month, draw(st.one_of(st.integers(1, MAX_DAY[month]), st.just(MAX_DAY[month])))
        if draw(st.integers(0, 4)) == 0:
            spec["month"], spec["day"] = 2, 29
    spec["time"] = draw(TIMES)
    spec["timezone"] = tz
    return spec, None


@st.composite
def instants(draw, zone_name: str):
    """An instant from 2000 to 2100, half the time within a day of one of the zone's changes."""
    if draw(st.booleans()):
        year = draw(st.integers(2000, 2100))
        changes = transitions_in_year(zone_name, year)
        if changes:
            base = draw(st.sampled_from(changes))
            return base + timedelta(seconds=draw(st.integers(-26 * 3600, 26 * 3600)))
    return draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31),
                             timezones=st.just(UTC)))


@st.composite
def calendars(draw):
    weekdays = draw(st.one_of(st.just(frozenset(range(5))), st.frozensets(st.integers(0, 6), min_size=1)))
    return weekdays


def _build(spec: dict) -> Schedule:
    try:
        return parse_schedule(spec)
    except RotaError as exc:  # a random cron may name only days its months lack
        assert "never fires" in str(exc), str(exc)
        assume(False)
        raise  # pragma: no cover


@settings(PROFILE, max_examples=200)
@given(st.data())
def test_next_n_matches_the_brute_force_reference(data):
    spec, cron_sets = data.draw(schedules())
    schedule = _build(spec)
    instant = data.draw(instants(spec["timezone"]))
    weekdays = data.draw(calendars())
    local = instant.astimezone(schedule.zoneinfo).date()
    holidays = frozenset(data.draw(st.sets(st.integers(0, 45), max_size=4)))
    holidays = frozenset(local + timedelta(days=d) for d in holidays)
    calendar = BusinessCalendar(weekdays, holidays)

    got = schedule.next_n(instant, 3, calendar=calendar)
    expected = reference_next_n(spec, instant, 3, cron_sets=cron_sets,
                                business_weekdays=weekdays, holidays=holidays)
    assert got == expected
    assert all(at.tzinfo is UTC for at in got)
    if got:
        assert schedule.next_after(instant, calendar=calendar) == got[0]
        assert schedule.next_n(got[0], 2, calendar=calendar) == got[1:3]


@settings(PROFILE, max_examples=100)
@given(st.data())
def test_between_matches_the_reference_window(data):
    spec, cron_sets = data.draw(schedules())
    schedule = _build(spec)
    start = data.draw(instants(spec["timezone"]))
    span_days = 12 if spec["kind"] in ("daily", "weekly", "cron") else 150
    end = start + timedelta(seconds=data.draw(st.integers(0, span_days * 86400)))
    got = list(schedule.between(start, end))
    assert got == reference_between(spec, start, end, cron_sets=cron_sets)
    assert len(set(got)) == len(got)


@settings(PROFILE, max_examples=100)
@given(st.data())
def test_json_round_trip_is_exact(data):
    spec, _ = data.draw(schedules())
    schedule = _build(spec)
    again = Schedule.from_json(schedule.to_json())
    assert again == schedule and hash(again) == hash(schedule)
    assert again.to_json() == schedule.to_json()
    if spec["kind"] != "cron":
        assert schedule.to_json() == spec  # the strategy already writes the canonical shape


# Cron field texts in the syntax operators use: names, ranges, steps, lists.
def _cron_field(low: int, high: int, names: tuple[str, ...] = ()):
    number = st.integers(low, high)
    atoms = [
        st.just("*"),
        number.map(str),
        st.tuples(number, number).map(lambda ab: f"{min(ab)}-{max(ab)}"),
        st.integers(1, max(1, (high - low) // 2)).map(lambda n: f"*/{n}"),
        st.tuples(number, number, st.integers(1, 5)).map(lambda t: f"{min(t[:2])}-{max(t[:2])}/{t[2]}"),
    ]
    if names:
        atoms.append(st.sampled_from(names))
    single = st.one_of(*atoms)
    return st.one_of(single, st.lists(single.filter(lambda a: a != "*"), min_size=2, max_size=3).map(",".join))


CRON_TEXT = st.tuples(
    _cron_field(0, 59), _cron_field(0, 23), st.one_of(_cron_field(1, 31), st.just("L")),
    _cron_field(1, 12, ("jan", "feb", "jun", "dec")), _cron_field(0, 7, ("mon", "fri", "sun")),
).map(" ".join)


@settings(PROFILE, max_examples=100)
@given(CRON_TEXT, st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)))
def test_cron_syntax_means_what_croniter_says_in_a_zone_without_dst(expr, start):
    """Rota parses cron itself; in UTC it agrees exactly with croniter wherever croniter
    follows crontab(5). Two croniter quirks are left out (issue 12; the hand-written table
    in test_cron_table.py covers them): an equal-ends range ("5-5") is read as "*", and a
    "*/N" day field counts as restricted for the day-of-month/day-of-week OR rule."""
    fields = expr.split()
    assume(not any(a == b for f in fields for item in f.split(",")
                   for a, _, b in [item.split("/")[0].partition("-")] if "-" in item))
    assume(not (fields[2].startswith("*/") and fields[4] != "*")
           and not (fields[4].startswith("*/") and fields[2] != "*"))
    try:
        schedule = parse_schedule({"kind": "cron", "cron": expr})
    except RotaError as exc:
        assert "never fires" in str(exc), str(exc)
        with pytest.raises((CroniterBadDateError, ValueError, KeyError)):
            it = croniter(expr, start)
            for _ in range(3):
                it.get_next(datetime)
        return
    it = croniter(expr, start)
    expected = [it.get_next(datetime).replace(tzinfo=UTC) for _ in range(4)]
    assert schedule.next_n(start.replace(tzinfo=UTC), 4) == expected


def test_every_zone_in_the_strategy_changes_its_clock_somewhere_or_is_fixed():
    """Guard against a typo silently turning a zone into UTC: each name resolves as given."""
    changing = [z for z in ZONES if any(transitions_in_year(z, y) for y in (2011, 2018, 2026))]
    assert set(ZONES) - set(changing) == {"UTC", "Asia/Kolkata"}
