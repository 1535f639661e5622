"""``rota schedule …``: check a schedule from the command line (SPEC §9).

``rota schedule next --schedule JSON [--after ISO] [--count N] [--json]`` prints the next
run times; ``rota schedule export --schedule JSON`` prints the iCalendar RRULE and, where
cron can say it, a cron line, so an operator can check the schedule elsewhere.
Neither needs the database; ``--db`` is accepted so every command takes the same options.
"""
from __future__ import annotations

import argparse
import json

from models.errors import RotaError
from models.timeutil import UTC, iso_z, parse_instant
from tui.cli import db_option

MAX_COUNT = 10_000


def register(subparsers) -> None:
    parser = subparsers.add_parser("schedule", help="check a schedule: next run times, export")
    sub = parser.add_subparsers(dest="schedule_command", metavar="ACTION", parser_class=type(parser))
    sub.required = True

    nxt = sub.add_parser("next", help="the next N run times of a schedule")
    _schedule_option(nxt)
    nxt.add_argument("--after", metavar="ISO", default=None,
                     help="count from this instant (default: now); without an offset it is read "
                          "in the schedule's time zone")
    nxt.add_argument("--count", metavar="N", type=int, default=5, help="how many run times (default 5)")
    nxt.add_argument("--json", action="store_true", help="print a JSON list of ISO-8601 UTC instants")
    db_option(nxt)
    nxt.set_defaults(func=cmd_next)

    export = sub.add_parser("export", help="the schedule as an iCalendar RRULE and a cron line")
    _schedule_option(export)
    db_option(export)
    export.set_defaults(func=cmd_export)


def _schedule_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schedule", metavar="JSON", required=True,
                        help='e.g. \'{"kind": "weekly", "weekdays": ["fri"], "time": "08:00", '
                             '"timezone": "Europe/Stockholm"}\'')
    parser.add_argument("--timezone", metavar="IANA", default=None,
                        help="zone for a schedule without one (default: the settings' time zone)")


def _load_schedule(args: argparse.Namespace):
    from engine.schedule import parse_schedule

    try:
        data = json.loads(args.schedule)
    except json.JSONDecodeError as exc:
        raise RotaError(f"--schedule is not valid JSON ({exc.msg} at column {exc.colno})") from None
    return parse_schedule(data, default_timezone=args.timezone or _default_zone())


def _default_zone() -> str:
    from models.settings import load_settings

    try:
        return load_settings().timezone
    except RotaError:
        return "UTC"


def cmd_next(args: argparse.Namespace) -> int:
    schedule = _load_schedule(args)
    if not 1 <= args.count <= MAX_COUNT:
        raise RotaError(f"--count must be from 1 to {MAX_COUNT}")
    after = parse_instant(args.after, schedule.timezone) if args.after else _now()
    calendar = _calendar()
    runs = schedule.next_n(after, args.count, calendar=calendar)
    if args.json:
        print(json.dumps([iso_z(at) for at in runs]))
        return 0
    print(schedule.describe())
    for warning in schedule.warnings(after, calendar=calendar):
        print(f"warning: {warning}")
    tz = schedule.zoneinfo
    for at in runs:
        local = at.astimezone(tz)
        print(f"{local:%a %Y-%m-%d %H:%M} {_offset(local)} ({local.tzname()})   {iso_z(at)}")
    if len(runs) < args.count:
        print("(no further runs)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    schedule = _load_schedule(args)
    print(schedule.describe())
    print(schedule.to_rrule(_now(), calendar=_calendar()))
    cron = schedule.to_cron()
    if cron is None:
        print("# cron: not expressible in standard 5-field cron")
    else:
        print(f"CRON_TZ={schedule.timezone}")
        print(cron)
    return 0


def _offset(local) -> str:
    minutes = int(local.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _calendar():
    """The business-day calendar from the settings (Mon–Fri, no holidays if unreadable)."""
    from engine.schedule import DEFAULT_CALENDAR, BusinessCalendar
    from models.settings import load_settings

    try:
        return BusinessCalendar.from_settings(load_settings())
    except RotaError:
        return DEFAULT_CALENDAR


def _now():
    from datetime import datetime

    return datetime.now(UTC)
