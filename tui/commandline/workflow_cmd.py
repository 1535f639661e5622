"""``rota workflow import|export|count``: workflows as SPEC §9 JSON files, for versioning
and scripting.

Export prints the stored body in the SPEC's key order with header secrets masked;
importing that file again changes nothing (masked secrets are taken back from the
stored workflow), so export → import → export is byte-for-byte stable.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from models.enums import WorkflowStatus
from models.errors import RotaError
from models.text import dumps_json, loads_json, read_text_file
from models.timeutil import iso_z
from tui.commandline.common import actions, db_option, open_db
from tui.commandline.output import TIME_WIDTH, local_time, operator_zone, say, say_json
from tui.commandline.progress import Ticker


def register(subparsers) -> None:
    sub = actions(subparsers, "workflow", help="workflows: list, import and export JSON files, count matches",
                  description="Workflows as SPEC JSON files, for versioning and scripting.")

    imp = sub.add_parser("import", help="create or update a workflow (by name) from a JSON file")
    imp.add_argument("file", metavar="FILE.json")
    db_option(imp)
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="print a workflow as JSON (secrets masked)")
    exp.add_argument("name", metavar="NAME")
    exp.add_argument("--output", "-o", metavar="FILE", default=None, help="write to FILE instead of stdout")
    db_option(exp)
    exp.set_defaults(func=cmd_export)

    lst = sub.add_parser("list", help="the workflows with status, schedule in words and next run",
                         description="Every workflow, by name: its status, object type, schedule in words and "
                                     "next run (in your time zone; --json: ISO-8601 UTC).")
    lst.add_argument("--json", action="store_true", help="print a JSON list of objects")
    db_option(lst)
    lst.set_defaults(func=cmd_list)

    cnt = sub.add_parser("count", help="how many records meet the workflow's criteria now")
    cnt.add_argument("name", metavar="NAME")
    db_option(cnt)
    cnt.set_defaults(func=cmd_count)


def dumps(body: dict) -> str:
    """The file form: indent 2, keys in the order the body has them (SPEC §9 order), UTF-8."""
    return dumps_json(body) + "\n"


def cmd_import(args: argparse.Namespace) -> int:
    from engine.preview_change import import_summary
    from engine.workflows import save_workflow

    path = Path(args.file)
    body = loads_json(read_text_file(path, "workflow file"), str(path))  # before the database: no file made
    open_db(args, create=True)
    try:
        summary = import_summary(body)  # issue 11 §6: what an active workflow's import changes
        wf = save_workflow(body)
    except RotaError as exc:
        message = str(exc)
        raise RotaError(message if str(path) in message else f"{path}: {message}") from None
    say(f'saved workflow "{wf.name}" ({wf.status})')
    for line in summary or []:
        say(line)
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
    say(f'exported workflow "{args.name}" to {target}')
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    from engine.workflows import count_matching

    open_db(args)
    with Ticker("counting"):
        count = count_matching(args.name)
    print(count)
    return 0


def workflow_rows() -> list[dict]:
    """One dict per workflow for ``workflow list`` (instants as aware datetimes)."""
    from engine.schedule.model import parse_schedule
    from engine.workflows import last_runs, list_workflows
    from models.settings import load_settings

    default_tz = load_settings().timezone
    runs = last_runs()
    rows = []
    for wf in list_workflows():
        try:
            words = parse_schedule(wf.schedule, default_tz).describe()
        except RotaError as exc:
            words = f"unreadable schedule: {exc}"
        run = runs.get(wf.id)
        rows.append({
            "name": wf.name,
            "object_type": wf.object_type.name,
            "status": wf.status,
            "schedule": words,
            "next_run": wf.next_run_at if wf.status == WorkflowStatus.ACTIVE else None,
            "last_run": (run.scheduled_for or run.started_at) if run else None,
            "last_status": run.status if run else None,
        })
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    open_db(args)
    rows = workflow_rows()
    if args.json:
        say_json([{**r, "next_run": iso_z(r["next_run"]), "last_run": iso_z(r["last_run"])} for r in rows])
        return 0
    if not rows:
        say("no workflows yet: create one in the app (rota) or with `rota workflow import FILE.json`")
        return 0
    tz = operator_zone()
    width = min(max(len(r["name"]) for r in rows), 40)
    say(f"{'name':<{width}}  {'status':<8} {'type':<10} {'next run':<{TIME_WIDTH}}  schedule")
    for r in rows:
        name = r["name"] if len(r["name"]) <= width else r["name"][:width - 1] + "…"
        say(f"{name:<{width}}  {r['status']:<8} {r['object_type']:<10} "
            f"{local_time(r['next_run'], tz):<{TIME_WIDTH}}  {r['schedule']}")
    return 0
