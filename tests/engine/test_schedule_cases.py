"""Named cases for schedules: the issue's table, the awkward zones, validation, words, export."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from engine.schedule.base import BusinessCalendar
from engine.schedule.model import Schedule, parse_schedule
from models.errors import RotaError
from models.timeutil import UTC, iso_z, parse_instant

NAMES_ALL = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def sched(kind: str, tz: str = "UTC", **fields) -> Schedule:
    return parse_schedule({"kind": kind, **fields, "timezone": tz})


def runs(schedule: Schedule, after: str, n: int, **kw) -> list[str]:
    return [iso_z(at) for at in schedule.next_n(parse_instant(after), n, **kw)]


def Z(*texts: str) -> list[str]:
    return [t.replace("Z", ":00Z") for t in texts]


# --------------------------------------------------------------------- the issue's table

ISSUE_TABLE = [
    (sched("daily", "Europe/Stockholm", time="02:30"), "2026-03-28T12:00+01:00",
     Z("2026-03-29T01:00Z", "2026-03-30T00:30Z")),
    (sched("daily", "America/New_York", time="01:30"), "2026-10-31T12:00-04:00",
     Z("2026-11-01T05:30Z", "2026-11-02T06:30Z")),
    (sched("monthly_days", "Europe/Stockholm", days=[31], time="08:00"), "2026-01-31T08:00+01:00",
     Z("2026-03-31T06:00Z", "2026-05-31T06:00Z")),
    (sched("monthly_flexible", "America/Chicago", flex={"ordinal": "last", "day": "day"}, time="15:00"),
     "2026-01-15T00:00-06:00", Z("2026-01-31T21:00Z", "2026-02-28T21:00Z", "2026-03-31T20:00Z")),
    (sched("monthly_flexible", "Europe/London", flex={"ordinal": "first", "day": "mon"}, time="07:00"),
     "2026-08-01T00:00+01:00", Z("2026-08-03T06:00Z", "2026-09-07T06:00Z")),
    (sched("yearly", "UTC", month=2, day=29, time="12:00"), "2026-01-01T00:00Z",
     Z("2028-02-29T12:00Z", "2032-02-29T12:00Z")),
]


@pytest.mark.parametrize("schedule,after,expected", ISSUE_TABLE, ids=lambda v: getattr(v, "kind", None))
def test_issue_table(schedule, after, expected):
    assert runs(schedule, after, len(expected)) == expected


# --------------------------------------------------------------------- awkward zones

ZONE_CASES = [
    # Santiago springs forward at midnight (00:00 -> 01:00): 00:30 fires at 01:00, not skipped.
    ("America/Santiago", {"kind": "daily", "time": "00:30"}, "2026-09-05T12:00-04:00",
     Z("2026-09-06T04:00Z", "2026-09-07T03:30Z")),
    # ... and falls back at midnight (24:00 -> 23:00): 23:30 fires once, at its first showing.
    ("America/Santiago", {"kind": "daily", "time": "23:30"}, "2026-04-04T12:00-03:00",
     Z("2026-04-05T02:30Z", "2026-04-06T03:30Z")),
    # A whole day of clock time is skipped at midnight: the midnight run still happens.
    ("America/Sao_Paulo", {"kind": "daily", "time": "00:00"}, "2018-11-03T12:00-03:00",
     Z("2018-11-04T03:00Z", "2018-11-05T02:00Z")),
    # Apia skipped 2011-12-30 entirely: that day's run fires when the clock reappears.
    ("Pacific/Apia", {"kind": "daily", "time": "08:00"}, "2011-12-29T12:00-10:00",
     Z("2011-12-30T10:00Z", "2011-12-30T18:00Z", "2011-12-31T18:00Z")),
    ("Pacific/Apia", {"kind": "weekly", "weekdays": ["fri"], "time": "09:00"}, "2011-12-26T00:00-10:00",
     Z("2011-12-30T10:00Z", "2012-01-05T19:00Z")),
    # Apia's skipped Dec 30 00:00 and Dec 31 00:00 both resolve to one instant: it runs once.
    ("Pacific/Apia", {"kind": "daily", "time": "00:00"}, "2011-12-29T12:00-10:00",
     Z("2011-12-30T10:00Z", "2011-12-31T10:00Z")),
    # Lord Howe moves by 30 minutes: 02:00 -> 02:30 in October, 02:00 -> 01:30 in April.
    ("Australia/Lord_Howe", {"kind": "daily", "time": "02:15"}, "2026-10-03T12:00+10:30",
     Z("2026-10-03T15:30Z", "2026-10-04T15:15Z")),
    ("Australia/Lord_Howe", {"kind": "daily", "time": "01:45"}, "2026-04-04T12:00+11:00",
     Z("2026-04-04T14:45Z", "2026-04-05T15:15Z")),
    # Chatham springs forward 02:45 -> 03:45 (+12:45 -> +13:45).
    ("Pacific/Chatham", {"kind": "daily", "time": "03:00"}, "2026-09-26T12:00+12:45",
     Z("2026-09-26T14:00Z", "2026-09-27T13:15Z")),
    # Dublin's "negative DST" in tzdata makes no difference to the rule.
    ("Europe/Dublin", {"kind": "daily", "time": "01:30"}, "2026-03-28T12:00Z",
     Z("2026-03-29T01:00Z", "2026-03-30T00:30Z")),
    # Several cron minutes inside one gap collapse to one run at the gap's end.
    ("Europe/Stockholm", {"kind": "cron", "cron": "*/15 2 * * *"}, "2026-03-28T12:00+01:00",
     Z("2026-03-29T01:00Z", "2026-03-30T00:00Z", "2026-03-30T00:15Z")),
    # On a fall-back night each cron minute runs once, at its first showing.
    ("America/New_York", {"kind": "cron", "cron": "*/20 1 * * *"}, "2026-11-01T00:00-04:00",
     Z("2026-11-01T05:00Z", "2026-11-01T05:20Z", "2026-11-01T05:40Z", "2026-11-02T06:00Z")),
]


@pytest.mark.parametrize("tz,spec,after,expected", ZONE_CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_awkward_zones(tz, spec, after, expected):
    assert runs(parse_schedule({**spec, "timezone": tz}), after, len(expected)) == expected


def test_after_is_compared_as_an_instant_not_a_wall_time():
    """01:15 on the fall-back night exists twice; the second one is after the first 01:30."""
    ny = ZoneInfo("America/New_York")
    schedule = sched("daily", "America/New_York", time="01:30")
    first_pass = datetime(2026, 11, 1, 1, 15, tzinfo=ny, fold=0)
    second_pass = datetime(2026, 11, 1, 1, 15, tzinfo=ny, fold=1)
    assert iso_z(schedule.next_after(first_pass)) == "2026-11-01T05:30:00Z"
    assert iso_z(schedule.next_after(second_pass)) == "2026-11-02T06:30:00Z"


def test_results_are_strictly_after_and_never_repeat():
    schedule = sched("cron", "Europe/Stockholm", cron="0,30 2 * * *")
    at = parse_instant("2026-03-29T01:00Z")  # itself a run (the gap's end)
    following = schedule.next_n(at, 3)
    assert following[0] > at
    assert len(set(following)) == 3 and following == sorted(following)
    assert [iso_z(x) for x in following] == Z("2026-03-30T00:00Z", "2026-03-30T00:30Z", "2026-03-31T00:00Z")


def test_feb_29_skips_2100():
    schedule = sched("yearly", month=2, day=29, time="00:00")
    assert runs(schedule, "2096-03-01T00:00Z", 2) == Z("2104-02-29T00:00Z", "2108-02-29T00:00Z")


def test_day_31_is_skipped_not_moved():
    schedule = sched("monthly_days", days=[30, 31], time="09:00")
    got = runs(schedule, "2027-01-30T12:00Z", 4)
    assert got == Z("2027-01-31T09:00Z", "2027-03-30T09:00Z", "2027-03-31T09:00Z", "2027-04-30T09:00Z")


def test_between_is_half_open_and_ordered():
    schedule = sched("daily", time="08:00")
    start, end = parse_instant("2026-05-01T08:00Z"), parse_instant("2026-05-04T08:00Z")
    assert [iso_z(x) for x in schedule.between(start, end)] == Z(
        "2026-05-02T08:00Z", "2026-05-03T08:00Z", "2026-05-04T08:00Z")
    assert list(schedule.between(end, start)) == []


def test_naive_instant_is_refused():
    with pytest.raises(ValueError):
        sched("daily", time="08:00").next_after(datetime(2026, 1, 1))


# --------------------------------------------------------------------- business days

def test_last_business_day_respects_weekends_and_holidays():
    schedule = sched("monthly_flexible", "Europe/Stockholm", flex={"ordinal": "last", "day": "weekday"},
                     time="15:00")
    assert runs(schedule, "2026-01-01T00:00Z", 2) == Z("2026-01-30T14:00Z", "2026-02-27T14:00Z")
    holidays = BusinessCalendar.of(holidays=["2026-01-30"])
    assert runs(schedule, "2026-01-01T00:00Z", 1, calendar=holidays) == Z("2026-01-29T14:00Z")


def test_second_business_day_counts_from_the_first_of_the_month():
    schedule = sched("monthly_flexible", flex={"ordinal": "second", "day": "weekday"}, time="09:00")
    # August 2026 starts on a Saturday: business days are the 3rd, 4th, ...
    assert runs(schedule, "2026-08-01T00:00Z", 1) == Z("2026-08-04T09:00Z")
    saturdays_only = BusinessCalendar.of(["sat"])
    assert runs(schedule, "2026-08-01T00:00Z", 1, calendar=saturdays_only) == Z("2026-08-08T09:00Z")


def test_calendar_from_settings_shapes():
    class FakeSettings:
        business_days = ["sun", "mon", "tue", "wed", "thu"]
        holidays = ["2026-12-24"]

    cal = BusinessCalendar.from_settings(FakeSettings())
    assert cal.is_business_day(date(2026, 12, 27)) and not cal.is_business_day(date(2026, 12, 24))
    assert not cal.is_business_day(date(2026, 12, 25))  # a Friday
    with pytest.raises(RotaError, match="business days"):
        BusinessCalendar.of(["funday"])
    with pytest.raises(RotaError, match="YYYY-MM-DD"):
        BusinessCalendar.of(holidays=["25/12/2026"])


# --------------------------------------------------------------------- JSON

def test_to_json_is_canonical_and_round_trips():
    schedule = parse_schedule({"timezone": "Europe/Stockholm", "time": "8:05", "weekdays": ["fri", "mon", "fri"],
                               "kind": "weekly"})
    assert list(schedule.to_json().items()) == [
        ("kind", "weekly"), ("weekdays", ["mon", "fri"]), ("time", "08:05"), ("timezone", "Europe/Stockholm")]
    assert Schedule.from_json(schedule.to_json()) == schedule
    assert hash(Schedule.from_json(schedule.to_json())) == hash(schedule)


def test_timezone_defaults_to_the_given_default():
    schedule = parse_schedule({"kind": "daily", "time": "08:00"}, default_timezone="Asia/Tokyo")
    assert schedule.timezone == "Asia/Tokyo" and schedule.to_json()["timezone"] == "Asia/Tokyo"


def test_cron_whitespace_is_normalised():
    schedule = parse_schedule({"kind": "cron", "cron": "  0   8 * *  5 "})
    assert schedule.to_json() == {"kind": "cron", "cron": "0 8 * * 5", "timezone": "UTC"}


BAD = [
    ({"kind": "weekly", "weekdays": [], "time": "08:00"}, "no weekday chosen"),
    ({"kind": "weekly", "weekdays": ["fry"], "time": "08:00"}, "weekday 'fry' is unknown"),
    ({"kind": "monthly_days", "days": [0], "time": "08:00"}, "day 0 is not a day of the month: use 1 to 31"),
    ({"kind": "monthly_days", "days": [32], "time": "08:00"}, "day 32 is not a day of the month"),
    ({"kind": "monthly_days", "days": [], "time": "08:00"}, "no day of the month chosen"),
    ({"kind": "monthly_days", "days": [True], "time": "08:00"}, "must be a whole number"),
    ({"kind": "yearly", "month": 13, "day": 1, "time": "08:00"}, "month 13 does not exist"),
    ({"kind": "yearly", "month": 4, "day": 31, "time": "08:00"}, "April has no day 31"),
    ({"kind": "yearly", "month": 2, "day": 30, "time": "08:00"}, "February has no day 30"),
    ({"kind": "daily", "time": "24:00"}, "use 00:00 to 23:59 (midnight is 00:00)"),
    ({"kind": "daily", "time": "08:60"}, "out of range"),
    ({"kind": "daily", "time": "8am"}, 'use "HH:MM"'),
    ({"kind": "daily"}, 'needs "time"'),
    ({"kind": "daily", "time": "08:00", "timezone": "Mars/Olympus"}, 'unknown time zone "Mars/Olympus"'),
    ({"kind": "daily", "time": "08:00", "weekdays": ["mon"]}, 'unknown field "weekdays"'),
    ({"kind": "hourly", "time": "08:00"}, 'unknown schedule kind "hourly"'),
    ({"time": "08:00"}, 'has no "kind"'),
    ({"kind": "monthly_flexible", "flex": {"ordinal": "fifth", "day": "mon"}, "time": "08:00"}, "fifth"),
    ({"kind": "monthly_flexible", "flex": {"ordinal": "first", "day": "moon"}, "time": "08:00"}, "moon"),
    ({"kind": "cron", "cron": "0 0 31 2 *"}, "never fires"),
    ({"kind": "cron", "cron": "0 8 * *"}, "needs 5 fields"),
    ({"kind": "cron", "cron": "0 0 8 * * 5"}, "needs 5 fields"),
    ({"kind": "cron", "cron": "61 8 * * *"}, "minute 61 is out of range: use 0-59"),
    ({"kind": "cron", "cron": "0 8 * * 5#3"}, "monthly_flexible"),
    ({"kind": "cron", "cron": "banana"}, "needs 5 fields"),
]


@pytest.mark.parametrize("data,message", BAD, ids=[m for _, m in BAD])
def test_invalid_schedules_say_what_to_fix(data, message):
    with pytest.raises(RotaError) as err:
        parse_schedule(data)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_non_object_is_refused():
    with pytest.raises(RotaError, match="JSON object"):
        parse_schedule(["daily"])  # type: ignore[arg-type]


# --------------------------------------------------------------------- words

DESCRIBE = [
    ({"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "Europe/Stockholm"},
     "Every Friday at 08:00 (Europe/Stockholm)"),
    ({"kind": "weekly", "weekdays": ["mon", "wed", "fri"], "time": "08:00"},
     "Every Monday, Wednesday and Friday at 08:00 (UTC)"),
    ({"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "weekday"}, "time": "15:00",
      "timezone": "America/Chicago"}, "On the last business day of every month at 15:00 (America/Chicago)"),
    ({"kind": "monthly_days", "days": [1, 22, 31], "time": "06:30"},
     "On the 1st, 22nd and 31st of every month at 06:30 (UTC)"),
    ({"kind": "yearly", "month": 2, "day": 29, "time": "12:00"}, "Every year on February 29 at 12:00 (UTC)"),
    ({"kind": "daily", "time": "00:00"}, "Every day at 00:00 (UTC)"),
    ({"kind": "weekly", "weekdays": ["mon", "tue", "wed", "thu", "fri"], "time": "09:00"},
     "Every Monday to Friday at 09:00 (UTC)"),
    ({"kind": "weekly", "weekdays": list(NAMES_ALL), "time": "09:00"}, "Every day at 09:00 (UTC)"),
    ({"kind": "cron", "cron": "0 8 * * 5", "timezone": "Europe/Stockholm"},
     'Every Friday at 08:00 (Europe/Stockholm; cron "0 8 * * 5")'),
    ({"kind": "cron", "cron": "30 6 1,15 jan,jul *"},
     'On the 1st and 15th of the month in January and July at 06:30 (UTC; cron "30 6 1,15 jan,jul *")'),
    ({"kind": "cron", "cron": "0 12 13 * 5"},
     'On the 13th of the month, and every Friday, at 12:00 (UTC; cron "0 12 13 * 5")'),
    ({"kind": "cron", "cron": "*/15 9-17 * * 1-5"},
     'Every Monday to Friday every 15 minutes from 09:00 to 17:45 (36 times a day) '
     '(UTC; cron "*/15 9-17 * * 1-5")'),
    ({"kind": "cron", "cron": "0 9 L * *"}, 'On the last day of the month at 09:00 (UTC; cron "0 9 L * *")'),
    ({"kind": "cron", "cron": "* * * * *"}, 'Every day every minute (UTC; cron "* * * * *")'),
]


@pytest.mark.parametrize("data,text", DESCRIBE, ids=[t for _, t in DESCRIBE])
def test_describe(data, text):
    assert parse_schedule(data).describe() == text


NOW = parse_instant("2026-01-01T00:00Z")


def test_warnings_for_short_months_and_leap_days():
    assert sched("monthly_days", days=[1, 31], time="08:00").warnings(NOW) == [
        "day 31 skips 5 months a year (February, April, June, September, November): it is skipped, not moved"]
    assert sched("monthly_days", days=[29], time="08:00").warnings(NOW) == [
        "day 29 skips February in 3 years out of 4 (it runs only in leap years)"]
    assert sched("yearly", month=2, day=29, time="08:00").warnings(NOW) == [
        "Feb 29 runs every 4 years (only in leap years; 2100 is not one)"]
    assert sched("cron", cron="0 8 30 * *").warnings(NOW) == [
        "day 30 skips 1 month a year (February): it is skipped, not moved"]
    assert sched("monthly_days", days=[1, 28], time="08:00").warnings(NOW) == []
    assert sched("cron", cron="0 0 29 2 *").warnings(NOW) == [
        "Feb 29 runs every 4 years (only in leap years; 2100 is not one)"]
    assert sched("cron", cron="0 0 31 * 1").warnings(NOW) == []  # "the 31st or a Monday": no month is skipped


def test_warnings_for_dst_gap_and_overlap_in_the_coming_year():
    got = sched("daily", "Europe/Stockholm", time="02:30").warnings(NOW)
    assert got == [
        "02:30 does not exist on 2026-03-29 in Europe/Stockholm (clocks go forward from 02:00 to 03:00): "
        "the run happens once, at 03:00",
        "02:30 occurs twice on 2026-10-25 in Europe/Stockholm (clocks go back from 03:00 to 02:00): "
        "the run happens once, at the first 02:30 (CEST)",
    ]
    # the same time on days that are not change days: nothing to say
    assert sched("monthly_days", "Europe/Stockholm", days=[15], time="02:30").warnings(NOW) == []
    assert sched("daily", "Europe/Stockholm", time="08:00").warnings(NOW) == []


def test_warning_for_a_whole_skipped_day():
    got = sched("weekly", "Pacific/Apia", weekdays=["fri"], time="09:00").warnings(
        parse_instant("2011-06-01T00:00Z"))
    assert got == ["09:00 does not exist on 2011-12-30 in Pacific/Apia (clocks go forward from "
                   "2011-12-30 00:00 to 2011-12-31 00:00): the run happens once, at 2011-12-31 00:00"]


# --------------------------------------------------------------------- export

def test_rrule_and_cron_lines():
    weekly = sched("weekly", "Europe/Stockholm", weekdays=["fri"], time="08:00")
    assert weekly.to_rrule(NOW) == ("DTSTART;TZID=Europe/Stockholm:20260102T080000\n"
                                    "RRULE:FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=0")
    assert weekly.to_cron() == "0 8 * * 5"
    last_bd = sched("monthly_flexible", flex={"ordinal": "last", "day": "weekday"}, time="15:00")
    assert last_bd.to_rrule(NOW).endswith("RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=15;BYMINUTE=0")
    assert last_bd.to_cron() is None
    assert sched("monthly_flexible", flex={"ordinal": "third", "day": "fri"}, time="15:00").to_cron() is None
    assert sched("monthly_flexible", flex={"ordinal": "first", "day": "day"}, time="06:00").to_cron() == "0 6 1 * *"
    assert sched("yearly", month=12, day=24, time="18:30").to_cron() == "30 18 24 12 *"
    assert sched("weekly", weekdays=["sun", "sat"], time="00:00").to_cron() == "0 0 * * 6,0"


EXPORTABLE = [
    {"kind": "daily", "time": "08:00"},
    {"kind": "weekly", "weekdays": ["mon", "thu", "sun"], "time": "23:59"},
    {"kind": "monthly_days", "days": [1, 15, 29, 31], "time": "06:30"},
    {"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "sun"}, "time": "07:00"},
    {"kind": "monthly_flexible", "flex": {"ordinal": "second", "day": "tue"}, "time": "07:00"},
    {"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "day"}, "time": "07:00"},
    {"kind": "monthly_flexible", "flex": {"ordinal": "third", "day": "weekday"}, "time": "07:00"},
    {"kind": "yearly", "month": 2, "day": 29, "time": "12:00"},
    {"kind": "cron", "cron": "15,45 9-11 * 1-6 mon-fri"},
    {"kind": "cron", "cron": "0 12 13 * 5"},       # the 13th OR a Friday: an RRULE set
    {"kind": "cron", "cron": "0 6 L * *"},
]


@pytest.mark.parametrize("data", EXPORTABLE, ids=lambda d: d.get("cron") or d["kind"])
def test_rrule_names_the_same_wall_times_as_the_schedule(data):
    """dateutil reads our RRULE back; in UTC its wall times must be our run times."""
    schedule = parse_schedule(data)
    start = parse_instant("2026-01-01T00:00Z")
    ours = schedule.next_n(start, 40)
    text = schedule.to_rrule(start).replace(";TZID=UTC:", ":")
    theirs = rrulestr(text, forceset=True)
    expected = [dt.replace(tzinfo=UTC) for dt in theirs.xafter(start.replace(tzinfo=None), count=40)]
    assert ours == expected
    cron = schedule.to_cron()
    if cron is not None:
        assert parse_schedule({"kind": "cron", "cron": cron}).next_n(start, 40) == ours


def test_next_n_of_zero_is_empty():
    assert sched("daily", time="08:00").next_n(NOW, 0) == []


def test_between_spans_a_year_of_business_days_quickly_and_exactly():
    schedule = sched("monthly_flexible", "Europe/Stockholm", flex={"ordinal": "first", "day": "weekday"},
                     time="09:00")
    got = list(schedule.between(NOW, NOW + timedelta(days=365)))
    assert len(got) == 12
    assert all(at.astimezone(ZoneInfo("Europe/Stockholm")).weekday() < 5 for at in got)


def test_direct_construction_normalises_and_refuses_foreign_fields():
    built = Schedule(kind="weekly", timezone="UTC", time=[8, 0], weekdays=(4, 0, 4))
    assert built == parse_schedule({"kind": "weekly", "weekdays": ["mon", "fri"], "time": "08:00"})
    with pytest.raises(RotaError, match='a daily schedule has no "weekdays"'):
        Schedule(kind="daily", time=(8, 0), weekdays=(1,))
    with pytest.raises(RotaError, match='a cron schedule has no "time"'):
        Schedule(kind="cron", cron="0 8 * * *", time=(8, 0))


def test_the_end_of_time_has_no_next_run():
    end = datetime(9999, 12, 31, 12, 0, tzinfo=UTC)
    schedule = sched("daily", "Pacific/Kiritimati", time="08:00")
    assert schedule.next_after(end) is None
    assert sched("daily", time="13:00").next_n(end, 3) == [datetime(9999, 12, 31, 13, 0, tzinfo=UTC)]


def test_calendar_accepts_plain_sets():
    cal = BusinessCalendar({0, 1}, {date(2026, 1, 5)})
    assert hash(cal) == hash(BusinessCalendar(frozenset({0, 1}), frozenset({date(2026, 1, 5)})))
    assert not cal.is_business_day(date(2026, 1, 5)) and cal.is_business_day(date(2026, 1, 6))
