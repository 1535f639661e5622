"""``rota list show|export|delete|all``: static lists, saved from the review screen or
by an ``add_to_list`` step (issue 13 §4)."""
from __future__ import annotations

import argparse
import csv
import sys

from models.text import dumps_json, printable
from tui.commandline.common import actions, db_option, open_db


def register(subparsers) -> None:
    sub = actions(subparsers, "list", help="static lists: show, export, delete")
    show = sub.add_parser("show", help="a list's object type, member count and member ids")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help='{"name", "object_type", "count", "members": [ids]}')
    db_option(show)
    show.set_defaults(func=cmd_show)
    exp = sub.add_parser("export", help="the members' records as CSV on stdout")
    exp.add_argument("name", metavar="NAME")
    db_option(exp)
    exp.set_defaults(func=cmd_export)
    rm = sub.add_parser("delete", help="delete a list (its records stay)")
    rm.add_argument("name", metavar="NAME")
    db_option(rm)
    rm.set_defaults(func=cmd_delete)
    every = sub.add_parser("all", help="every static list with its member count")
    every.add_argument("--json", action="store_true")
    db_option(every)
    every.set_defaults(func=cmd_all)


def cmd_show(args: argparse.Namespace) -> int:
    from models.store.records import list_info, list_member_ids

    open_db(args)
    info = {**list_info(args.name), "members": list_member_ids(args.name)}
    if args.json:
        print(dumps_json(info, indent=None))
        return 0
    print(f'list "{printable(info["name"])}": {info["count"]:,} {info["object_type"]} records')
    for rid in info["members"]:
        print(rid)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from models.objects import get_props, to_json_value
    from models.store.records import list_info, list_member_records

    open_db(args)
    info = list_info(args.name)
    props = get_props(info["object_type"])
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["id", *[p.label for p in props.values()]])
    for row in list_member_records(args.name):
        values = []
        for name, prop in props.items():
            value = to_json_value(prop, row.get(name))
            values.append("" if value is None else ("true" if value is True else "false" if value is False
                                                    else value))
        writer.writerow([row["id"], *values])
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from models.store.records import delete_list

    open_db(args)
    count = delete_list(args.name)
    print(f'deleted list "{printable(args.name)}" ({count:,} memberships; the records stay)')
    return 0


def cmd_all(args: argparse.Namespace) -> int:
    from models.store.records import list_summaries

    open_db(args)
    rows = list_summaries()
    if args.json:
        print(dumps_json([{k: v for k, v in r.items() if k != "created_at"} for r in rows], indent=None))
        return 0
    for r in rows:
        print(f"{printable(r['name'])}  ({r['object_type']}, {r['count']:,} members)")
    return 0
