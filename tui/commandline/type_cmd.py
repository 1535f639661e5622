"""``rota type import|export|list|remove-property``: custom object types as JSON files
(issue 13 §1). The work is in engine/types.py, shared with the Types screen.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from models.errors import RotaError
from models.text import dumps_json, printable
from tui.commandline.common import actions, db_option, open_db


def register(subparsers) -> None:
    sub = actions(subparsers, "type", help="object types as JSON files: import, export, list")

    imp = sub.add_parser("import", help="create a type, or extend one, from a JSON type file",
                         description="Create the type named in the file, or extend it: new properties are added, "
                                     "labels, options and required are updated, a changed type converts the "
                                     "stored values. Properties missing from the file are kept.")
    imp.add_argument("file", metavar="FILE.json")
    db_option(imp)
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="print a type as a JSON type file")
    exp.add_argument("name", metavar="NAME")
    db_option(exp)
    exp.set_defaults(func=cmd_export)

    lst = sub.add_parser("list", help="list the object types")
    lst.add_argument("--json", action="store_true", help="one JSON array, each type with its properties")
    db_option(lst)
    lst.set_defaults(func=cmd_list)

    rm = sub.add_parser("remove-property", help="remove a custom property and its values "
                                                "(refused while a workflow uses it)")
    rm.add_argument("name", metavar="TYPE")
    rm.add_argument("property", metavar="PROPERTY")
    db_option(rm)
    rm.set_defaults(func=cmd_remove_property)


def cmd_import(args: argparse.Namespace) -> int:
    from engine.types import import_type, read_type_file

    open_db(args, create=True)
    path = Path(args.file)
    try:
        changes = import_type(read_type_file(path))
    except RotaError as exc:
        message = str(exc)
        raise RotaError(message if str(path) in message else f"{path}: {message}") from None
    print("; ".join(changes) if changes else "no changes: the type already matches the file")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from engine.types import export_type

    open_db(args)
    print(dumps_json(export_type(args.name)))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from engine.types import type_summaries

    open_db(args)
    rows = type_summaries()
    if args.json:
        print(dumps_json(rows))
        return 0
    width = max([4] + [len(r["name"]) for r in rows])
    label_w = max([5] + [len(r["label"]) for r in rows])
    print(f"{'NAME':<{width}}  {'LABEL':<{label_w}}  {'KIND':<7}  {'PROPERTIES':>10}  {'RECORDS':>9}")
    for r in rows:
        kind = "builtin" if r["builtin"] else "custom"
        print(f"{r['name']:<{width}}  {printable(r['label']):<{label_w}}  {kind:<7}  {len(r['properties']):>10}  "
              f"{r['records']:>9,}")
    return 0


def cmd_remove_property(args: argparse.Namespace) -> int:
    from engine.types import remove_property

    open_db(args)
    remove_property(args.name, args.property)
    print(f"removed property {args.property} from {args.name}")
    return 0
