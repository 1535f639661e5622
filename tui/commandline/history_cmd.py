"""``rota history NAME [--record ID] [--type T] [--since DATE] [--json]``: the workflow's
history, newest first (SPEC §9)."""
from __future__ import annotations

import argparse

from models.errors import RotaError
from tui.commandline.common import db_option, open_db, whole_number
from tui.commandline.output import TIME_WIDTH, local_time, operator_zone, say, say_json


def register(sub) -> None:
    p = sub.add_parser("history", help="a workflow's history, newest first",
                       description="Enrollments, steps and their outcomes, waits, unenrollments, suppressed "
                                   "records, missed and coalesced occurrences, errors — newest first.")
    p.add_argument("name", metavar="NAME", help="the workflow's name")
    p.add_argument("--record", metavar="ID", type=whole_number(), help="only this record")
    p.add_argument("--type", metavar="T", help="only this event type (e.g. step_failed, enrolled)")
    p.add_argument("--since", metavar="DATE", help="from this date (the workflow's time zone) or ISO instant")
    p.add_argument("--until", metavar="DATE", help="before this date or ISO instant")
    p.add_argument("--limit", metavar="N", type=whole_number(), default=200, help="at most N events (default 200)")
    p.add_argument("--before", metavar="CURSOR", help="continue after the row with this cursor (paging)")
    p.add_argument("--json", action="store_true", help="print a JSON list of events")
    db_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    open_db(args)
    from engine.history import history, parse_when, summary
    from engine.runner import workflow_timezone
    from engine.workflows import get_workflow
    from models.settings import load_settings

    if args.limit < 1:
        raise RotaError("--limit must be 1 or more")
    wf = get_workflow(args.name)
    tz = workflow_timezone(wf, load_settings())
    since = parse_when(args.since, tz) if args.since else None
    until = parse_when(args.until, tz) if args.until else None
    rows = history(wf.name, record_id=args.record, type=args.type, since=since, until=until,
                   limit=args.limit, before=args.before)
    if args.json:
        say_json(rows)
        return 0
    if not rows:
        say(f'no history for "{wf.name}" with these filters')
        return 0
    tz = operator_zone()
    for row in rows:
        rec = f"record {row['record_id']}" if row["record_id"] is not None else ""
        step = f"step {row['step']}" if row["step"] is not None else ""
        say(f"{local_time(row['at'], tz):<{TIME_WIDTH}} {row['type']:<15} {rec:<14} {step:<8} {summary(row)}".rstrip())
    return 0
