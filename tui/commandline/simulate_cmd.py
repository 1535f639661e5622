"""``rota simulate NAME --from DATE --to DATE [--json]``: a workflow's runs in a range,
with the records each would enroll and notes; writes nothing (issue 12, SPEC §9)."""
from __future__ import annotations

import argparse
import json

from engine.simulate import parse_day, simulate
from tui.commandline.common import db_option, open_db

EXAMPLE = """\
example:
  rota simulate "Friday customer check-in" --from 2026-12-01 --to 2026-12-31

  Fri 2026-12-04 08:00 +01:00   2026-12-04T07:00:00Z   would enroll 1,204   suppressed 17
  ...
  Fri 2026-12-25 08:00 +01:00   2026-12-25T07:00:00Z   would enroll 1,221   suppressed 17
      pause day: enrolls; actions wait until Sat 26 Dec 2026 08:00

--json prints a list of objects with exactly: scheduled_for (UTC), local_time (ISO with
the zone's offset), would_enroll, suppressed, notes (a list of strings).
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate", help="a workflow's runs in a date range, with projected counts; writes nothing",
        description="List every run of the workflow whose local date is in [--from, --to], with how many "
                    "records would enroll and be suppressed at that run (today's data; relative dates "
                    "judged as of the run) and notes for pause days, DST shifts and skipped days. "
                    "Nothing is written to the database.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", metavar="NAME", help="the workflow's name")
    parser.add_argument("--from", dest="start", metavar="DATE", required=True,
                        help="first local date, YYYY-MM-DD (in the workflow's time zone)")
    parser.add_argument("--to", dest="end", metavar="DATE", required=True, help="last local date, YYYY-MM-DD")
    parser.add_argument("--json", action="store_true", help="print a JSON list of objects")
    db_option(parser)
    parser.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    start, end = parse_day(args.start, "--from"), parse_day(args.end, "--to")
    open_db(args)
    found = simulate(args.name, start, end)
    if args.json:
        print(json.dumps([occ.to_json() for occ in found], indent=1))
        return 0
    if not found:
        print(f"no runs from {start} to {end}")
        return 0
    for occ in found:
        local = occ.local_time
        print(f"{local:%a %Y-%m-%d %H:%M} {local.isoformat()[-6:]}   {occ.to_json()['scheduled_for']}   "
              f"would enroll {occ.would_enroll:,}   suppressed {occ.suppressed:,}")
        for note in occ.notes:
            print(f"    {note}")
    print(f"{len(found):,} runs; nothing was written")
    return 0
