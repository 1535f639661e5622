"""``rota record show TYPE ID [--json]``: one record, its associations and its timeline
across every workflow, newest first (SPEC §9, issue 13 §3)."""
from __future__ import annotations

import argparse

from models.text import dumps_json, printable
from tui.commandline.common import actions, db_option, open_db


def register(subparsers) -> None:
    sub = actions(subparsers, "record", help="one record: its properties and timeline")
    show = sub.add_parser("show", help="a record's properties, associations and timeline (newest first)")
    show.add_argument("type", metavar="TYPE")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="one JSON object")
    db_option(show)
    show.set_defaults(func=cmd_show)


def _safe(text) -> str:
    """Control characters shown escaped, never raw (a record value must not drive the terminal)."""
    return printable(text)


def cmd_show(args: argparse.Namespace) -> int:
    from engine.records import record_story

    open_db(args)
    story = record_story(args.type, args.id)
    if args.json:
        print(dumps_json(story))
        return 0
    print(f"{story['type']} {story['id']}")
    for name, value in story["properties"].items():
        if value is not None:
            print(f"  {name}: {_safe(value)}")
    for name, ids in story["associations"].items():
        if ids:
            print(f"  {name}: {', '.join(map(str, ids))}")
    print(f"timeline ({len(story['timeline'])} entries, newest first):")
    for row in story["timeline"]:
        where = f"  [{_safe(row['workflow'])}]" if row["workflow"] else ""
        print(f"  {row['at']}  {row['kind']:<16}{_safe(row['text'])}{where}")
    return 0
