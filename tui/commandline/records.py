"""``rota import TYPE FILE.csv`` and ``rota demo``: records in bulk (SPEC §1, §9).

Both are thin: the work is in models/importer.py and engine/demo.py, so the TUI's
import and demo actions behave exactly like these commands.
"""
from __future__ import annotations

import argparse
import time

from tui.commandline.common import db_option, open_db, whole_number
from tui.commandline.output import say
from tui.commandline.progress import TerminalProgress

MAX_DEMO = 10_000_000  # per type: a demo beyond this is a mistyped number, not a demo


def register(subparsers) -> None:
    imp = subparsers.add_parser(
        "import", help="import records from a CSV file (all or nothing)",
        description="Import every row of a CSV file as a new record. Headers are matched to property "
                    "names or labels, ignoring case (\"First Name\", \"Lifecycle Stage\", \"Create Date\"); "
                    "unknown columns are reported and skipped. Rows are always added, never merged: an id "
                    "column is ignored. A bad value aborts the whole import, naming its line and column.")
    imp.add_argument("type", metavar="TYPE", help="object type: contact, company, deal, ticket or a custom type")
    imp.add_argument("file", metavar="FILE.csv", help="comma-, semicolon- or tab-separated, UTF-8")
    imp.add_argument("--timezone", metavar="IANA", default=None,
                     help="zone for date-times without an offset (default: the settings' time zone)")
    db_option(imp)
    imp.set_defaults(func=cmd_import)

    demo = subparsers.add_parser(
        "demo", help="fill the database with realistic demo records and sample workflows",
        description="Add realistic contacts, companies, deals and tickets, and one sample workflow per "
                    "schedule kind (existing workflows of the same name are kept). Run again to add more.")
    demo.add_argument("--contacts", metavar="N", type=whole_number(0, MAX_DEMO), default=5000, help="contacts to add (default 5,000)")
    demo.add_argument("--companies", metavar="N", type=whole_number(0, MAX_DEMO), default=500, help="companies to add (default 500)")
    demo.add_argument("--deals", metavar="N", type=whole_number(0, MAX_DEMO), default=800, help="deals to add (default 800)")
    demo.add_argument("--tickets", metavar="N", type=whole_number(0, MAX_DEMO), default=600, help="tickets to add (default 600)")
    demo.add_argument("--seed", metavar="S", type=whole_number(0), default=42, help="random seed: same seed, same data")
    demo.add_argument("--no-workflows", action="store_true", help="records only, no sample workflows")
    db_option(demo)
    demo.set_defaults(func=cmd_demo)


def _noun(type_name: str, count: int) -> str:
    from models.objects import get_type

    otype = get_type(type_name)
    return (otype.label if count == 1 else otype.plural).lower()


def cmd_import(args: argparse.Namespace) -> int:
    from models.importer import import_csv

    open_db(args, create=True)
    bar = TerminalProgress()
    try:
        with bar:
            result = import_csv(args.type, args.file, tz_name=args.timezone, progress=bar)
    except KeyboardInterrupt:  # the transaction was rolled back on the way out
        say(f"rota: import of {args.file} interrupted: nothing was imported", err=True)
        return 130
    if result.unknown_columns:
        shown = ", ".join(f'"{c}"' for c in result.unknown_columns)
        say(f"ignored unknown columns: {shown}", err=True)
    say(f"imported {result.count:,} {_noun(result.type_name, result.count)} from {args.file}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.demo import load_demo
    from models.importer import ImportProgress

    open_db(args, create=True)
    bar = TerminalProgress(label="demo")
    started = time.monotonic()

    def on_rows(done: int, total: int) -> None:  # rows stand in for bytes: the share done is known
        bar(ImportProgress(rows=done, bytes_read=done, total_bytes=total, elapsed_s=time.monotonic() - started))

    try:
        with bar:
            out = load_demo(contacts=args.contacts, companies=args.companies, deals=args.deals,
                            tickets=args.tickets, seed=args.seed, workflows=not args.no_workflows, on_rows=on_rows)
    except KeyboardInterrupt:  # one transaction: rolled back on the way out
        say("rota: demo interrupted: nothing was added", err=True)
        return 130
    added = ", ".join(f"{out[k]:,} {k}" for k in ("contacts", "companies", "deals", "tickets"))
    print(f"added {added} in {out['seconds']:.1f} s")
    if not args.no_workflows:
        print(f"sample workflows: {out['workflows_created']} saved, {out['workflows_skipped']} already there")
    return 0
