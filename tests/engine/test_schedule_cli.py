"""`rota schedule next` / `rota schedule export` through the real command entry point."""
from __future__ import annotations

import json

import pytest

from tui.cli import main

WEEKLY = '{"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "Europe/Stockholm"}'
GAP = '{"kind": "daily", "time": "02:30", "timezone": "Europe/Stockholm"}'


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_next_json_lists_utc_instants(capsys):
    code, out, err = run(capsys, "schedule", "next", "--schedule", GAP,
                         "--after", "2026-03-28T12:00+01:00", "--count", "2", "--json")
    assert code == 0 and err == ""
    assert json.loads(out) == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]


def test_next_human_lines_start_with_the_description(capsys):
    code, out, _ = run(capsys, "schedule", "next", "--schedule", GAP, "--after", "2026-03-28T12:00+01:00",
                       "--count", "2", "--db", "/nonexistent/ignored.db")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "Every day at 02:30 (Europe/Stockholm)"
    assert lines[1].startswith("warning: 02:30 does not exist on 2026-03-29")
    assert lines[-2:] == ["Sun 2026-03-29 03:00 +02:00 (CEST)   2026-03-29T01:00:00Z",
                          "Mon 2026-03-30 02:30 +02:00 (CEST)   2026-03-30T00:30:00Z"]


def test_after_without_offset_is_read_in_the_schedules_zone(capsys):
    code, out, _ = run(capsys, "schedule", "next", "--schedule", WEEKLY, "--after", "2026-04-03T08:00",
                       "--count", "1", "--json")
    assert code == 0 and json.loads(out) == ["2026-04-10T06:00:00Z"]


def test_default_count_is_five_and_default_after_is_now(capsys):
    code, out, _ = run(capsys, "schedule", "next", "--schedule", WEEKLY, "--json")
    got = json.loads(out)
    assert code == 0 and len(got) == 5 and got == sorted(got)


@pytest.mark.parametrize("schedule,message", [
    ('{"kind": "daily",', "--schedule is not valid JSON"),
    ('{"kind": "weekly", "weekdays": [], "time": "08:00"}', "no weekday chosen"),
    ('{"kind": "cron", "cron": "0 0 31 2 *"}', "never fires"),
    ('{"kind": "daily", "time": "08:00", "timezone": "Nowhere/City"}', 'unknown time zone "Nowhere/City"'),
])
def test_bad_schedules_exit_2_with_one_line(capsys, schedule, message):
    code, out, err = run(capsys, "schedule", "next", "--schedule", schedule)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("rota: ") and message in err


@pytest.mark.parametrize("extra,message", [
    (["--count", "0"], "--count must be from 1"),
    (["--count", "many"], "invalid int value"),
    (["--after", "yesterday"], "is not an ISO-8601 date"),
])
def test_bad_options_exit_2(capsys, extra, message):
    code, _, err = run(capsys, "schedule", "next", "--schedule", WEEKLY, *extra)
    assert code == 2 and message in err and err.count("\n") == 1


def test_export_prints_rrule_and_cron(capsys):
    code, out, _ = run(capsys, "schedule", "export", "--schedule", WEEKLY)
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "Every Friday at 08:00 (Europe/Stockholm)"
    assert lines[1].startswith("DTSTART;TZID=Europe/Stockholm:") and lines[1].endswith("T080000")
    assert lines[2:] == ["RRULE:FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=0", "CRON_TZ=Europe/Stockholm", "0 8 * * 5"]


def test_export_says_when_cron_cannot_express_it(capsys):
    flexible = '{"kind": "monthly_flexible", "flex": {"ordinal": "third", "day": "fri"}, "time": "09:00"}'
    code, out, _ = run(capsys, "schedule", "export", "--schedule", flexible)
    assert code == 0
    assert "RRULE:FREQ=MONTHLY;BYDAY=3FR;BYHOUR=9;BYMINUTE=0" in out
    assert out.splitlines()[-1] == "# cron: not expressible in standard 5-field cron"


def test_schedule_without_zone_uses_the_settings_zone(capsys, monkeypatch):
    monkeypatch.setenv("ROTA_TIMEZONE", "Asia/Tokyo")
    code, out, _ = run(capsys, "schedule", "next", "--schedule", '{"kind": "daily", "time": "09:00"}',
                       "--after", "2026-01-01T00:00Z", "--count", "1", "--json")
    # 09:00 JST on Jan 1 is exactly the --after instant, so the next run is a day later
    assert code == 0 and json.loads(out) == ["2026-01-02T00:00:00Z"]


def test_next_help_shows_every_shape(capsys):
    with pytest.raises(SystemExit) as done:
        main(["schedule", "next", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    for kind in ('"daily"', '"weekly"', '"monthly_days"', '"monthly_flexible"', '"yearly"', '"cron"'):
        assert f'"kind": {kind}' in out
    assert '"flex": {"ordinal": "last", "day": "weekday"}' in out
    assert '"kind": "yearly", "month": 12, "day": 24' in out


def test_next_marks_runs_on_pause_days(capsys):
    code, out, _ = run(capsys, "schedule", "next", "--schedule", WEEKLY, "--after", "2026-12-10T00:00Z",
                       "--count", "3", "--pause-dates", "2026-12-25, 2026-12-26")
    assert code == 0
    assert out.splitlines()[-2:] == [
        "Fri 2026-12-25 08:00 +01:00 (CET)   2026-12-25T07:00:00Z",
        "    pause day: enrolls; actions wait until Sun 27 Dec 2026 08:00"]
    code, _, err = run(capsys, "schedule", "next", "--schedule", WEEKLY, "--pause-dates", "25/12")
    assert code == 2 and '--pause-dates "25/12" is not a date' in err


def test_next_of_a_named_workflow_uses_its_schedule_and_pause_days(sqlite_url, capsys):
    from engine.workflows import save_workflow
    from models import bootstrap
    from models import db as dbmod

    bootstrap.open_database(sqlite_url)
    save_workflow({"name": "Fri", "object_type": "contact", "status": "draft", "schedule": json.loads(WEEKLY),
                   "settings": {"pause_dates": ["2027-01-01"]}}, actor="test")
    dbmod.close_database()
    code, out, _ = run(capsys, "--db", sqlite_url, "schedule", "next", "--workflow", "Fri",
                       "--after", "2026-12-26T00:00Z", "--count", "2")
    assert code == 0
    assert out.splitlines() == [
        "Every Friday at 08:00 (Europe/Stockholm)",
        "Fri 2027-01-01 08:00 +01:00 (CET)   2027-01-01T07:00:00Z",
        "    pause day: enrolls; actions wait until Sat 02 Jan 2027 08:00",
        "Fri 2027-01-08 08:00 +01:00 (CET)   2027-01-08T07:00:00Z"]
    code, _, err = run(capsys, "schedule", "next")
    assert code == 2 and "give --schedule JSON or --workflow NAME" in err
