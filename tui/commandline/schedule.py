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
from tui.commandline.common import actions, db_option

MAX_COUNT = 10_000
SHAPES = """\
every shape (SPEC §9), each with an optional "timezone" (IANA name):
  {"kind": "daily", "time": "08:00", "timezone": "Europe/Stockholm"}
  {"kind": "weekly", "weekdays": ["mon", "thu"], "time": "08:00"}
  {"kind": "monthly_days", "days": [1, 15], "time": "09:00"}
  {"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "weekday"}, "time": "15:00"}
  {"kind": "monthly_flexible", "flex": {"ordinal": "third", "day": "fri"}, "time": "15:00"}
  {"kind": "yearly", "month": 12, "day": 24, "time": "18:30"}
  {"kind": "cron", "cron": "*/15 9-17 * * mon-fri"}
flex ordinal: first|second|third|fourth|last; flex day: mon..sun, day (calendar day),
weekday (business day). cron: minute hour day-of-month month day-of-week, crontab(5)
rules; a backwards range such as wed-sun is refused (write wed-sat,sun).

examples:
  rota schedule next --schedule '{"kind": "yearly", "month": 2, "day": 29, "time": "12:00"}' --count 3
  rota schedule next --schedule '{"kind": "weekly", "weekdays": ["fri"], "time": "08:00"}' \\
      --pause-dates 2026-12-25,2027-01-01
  rota schedule next --workflow "Friday customer check-in" --count 10
"""


def register(subparsers) -> None:
    sub = actions(subparsers, "schedule", help="check a schedule: next run times, export")

    nxt = sub.add_parser("next", help="the next N run times of a schedule", epilog=SHAPES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    _schedule_option(nxt, required=False)
    nxt.add_argument("--after", metavar="ISO", default=None,
                     help="count from this instant (default: now); without an offset it is read "
                          "in the schedule's time zone")
    nxt.add_argument("--count", metavar="N", type=int, default=5, help="how many run times (default 5)")
    nxt.add_argument("--json", action="store_true", help="print a JSON list of ISO-8601 UTC instants")
    pauses = nxt.add_mutually_exclusive_group()
    pauses.add_argument("--pause-dates", metavar="DATES", default=None,
                        help="pause days, YYYY-MM-DD separated by commas: runs on them are marked "
                             '"enrolls; actions wait until …"')
    pauses.add_argument("--workflow", metavar="NAME", default=None,
                        help="use this workflow's schedule (without --schedule) and its pause days")
    db_option(nxt)
    nxt.set_defaults(func=cmd_next)

    export = sub.add_parser("export", help="the schedule as an iCalendar RRULE and a cron line", epilog=SHAPES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    _schedule_option(export)
    db_option(export)
    export.set_defaults(func=cmd_export)


def _schedule_option(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--schedule", metavar="JSON", required=required,
                        help='e.g. \'{"kind": "weekly", "weekdays": ["fri"], "time": "08:00", '
                             '"timezone": "Europe/Stockholm"}\'')
    parser.add_argument("--timezone", metavar="IANA", default=None,
                        help="zone for a schedule without one (default: the settings' time zone)")


def _load_schedule(args: argparse.Namespace):
    from engine.schedule.model import parse_schedule

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


def _pause_dates(args: argparse.Namespace, workflow) -> set:
    from engine.simulate import parse_day

    if workflow is not None:
        return {parse_day(d, "pause date") for d in (workflow.settings or {}).get("pause_dates") or []}
    if not args.pause_dates:
        return set()
    return {parse_day(d, "--pause-dates") for d in args.pause_dates.split(",") if d.strip()}


def _workflow(args: argparse.Namespace):
    """The workflow named by --workflow (its schedule, unless --schedule is given too)."""
    if args.workflow is None:
        if args.schedule is None:
            raise RotaError("give --schedule JSON or --workflow NAME")
        return None
    from models.store.workflows import get_workflow
    from tui.commandline.common import open_db

    open_db(args)
    wf = get_workflow(args.workflow)
    if args.schedule is None:
        args.schedule = json.dumps(wf.schedule)
    return wf


def cmd_next(args: argparse.Namespace) -> int:
    from engine.schedule.describe import upcoming_with_notes

    workflow = _workflow(args)
    schedule = _load_schedule(args)
    if not 1 <= args.count <= MAX_COUNT:
        raise RotaError(f"--count must be from 1 to {MAX_COUNT}")
    after = parse_instant(args.after, schedule.timezone) if args.after else _now()
    calendar = _calendar()
    marked = upcoming_with_notes(schedule, after, args.count, pause_dates=_pause_dates(args, workflow),
                                 calendar=calendar)
    runs = [at for at, _ in marked]
    if args.json:
        print(json.dumps([iso_z(at) for at in runs]))
        return 0
    print(schedule.describe())
    for warning in schedule.warnings(after, calendar=calendar):
        print(f"warning: {warning}")
    tz = schedule.zoneinfo
    for at, notes in marked:
        local = at.astimezone(tz)
        print(f"{local:%a %Y-%m-%d %H:%M} {_offset(local)} ({local.tzname()})   {iso_z(at)}")
        for note in notes:
            if note.startswith("pause day"):  # DST shifts are in the warnings above already
                print(f"    {note}")
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
    from engine.schedule.base import DEFAULT_CALENDAR, BusinessCalendar
    from models.settings import load_settings

    try:
        return BusinessCalendar.from_settings(load_settings())
    except RotaError:
        return DEFAULT_CALENDAR


def _now():
    from datetime import datetime

    return datetime.now(UTC)
