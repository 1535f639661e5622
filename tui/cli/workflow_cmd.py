"""``rota workflow import|export|count``: workflows as SPEC §9 JSON files, for versioning
and scripting.

Export prints the stored body in the SPEC's key order with header secrets masked;
importing that file again changes nothing (masked secrets are taken back from the
stored workflow), so export → import → export is byte-for-byte stable.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from models.errors import RotaError
from tui.cli import db_option, open_db


def register(subparsers) -> None:
    parser = subparsers.add_parser("workflow", help="workflows as JSON files: import, export, count")
    sub = parser.add_subparsers(dest="workflow_command", metavar="ACTION", parser_class=type(parser))
    sub.required = True

    imp = sub.add_parser("import", help="create or update a workflow (by name) from a JSON file")
    imp.add_argument("file", metavar="FILE.json")
    db_option(imp)
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="print a workflow as JSON (secrets masked)")
    exp.add_argument("name", metavar="NAME")
    exp.add_argument("--output", "-o", metavar="FILE", default=None, help="write to FILE instead of stdout")
    db_option(exp)
    exp.set_defaults(func=cmd_export)

    cnt = sub.add_parser("count", help="how many records meet the workflow's criteria now")
    cnt.add_argument("name", metavar="NAME")
    db_option(cnt)
    cnt.set_defaults(func=cmd_count)


def dumps(body: dict) -> str:
    """The file form: indent 2, keys in the order the body has them (SPEC §9 order), UTF-8."""
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def cmd_import(args: argparse.Namespace) -> int:
    from engine.preview_change import import_summary
    from engine.workflows import import_workflow_file

    open_db(args)
    path = Path(args.file)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        body = None  # import_workflow_file says what is wrong with the file
    summary = import_summary(body)  # issue 11 §6: what an active workflow's import changes
    try:
        wf = import_workflow_file(path)
    except RotaError as exc:
        message = str(exc)
        raise RotaError(message if str(path) in message else f"{path}: {message}") from None
    print(f'saved workflow "{wf.name}" ({wf.status})')
    for line in summary or []:
        print(line)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from engine.workflows import export_workflow

    open_db(args)
    text = dumps(export_workflow(args.name))
    if args.output is None:
        print(text, end="")
        return 0
    target = Path(args.output)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)  # a reader never sees half a file
    except OSError as exc:
        raise RotaError(f"cannot write {target}: {exc.strerror}") from None
    print(f'exported workflow "{args.name}" to {target}')
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    from engine.workflows import count_matching

    open_db(args)
    print(count_matching(args.name))
    return 0
