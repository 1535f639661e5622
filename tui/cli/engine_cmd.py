"""``rota engine [--once]``, ``rota enroll NAME RECORD_ID``, ``rota runs NAME [--json]``."""
from __future__ import annotations

import json
import sys

from models.errors import RotaError
from tui.cli import db_option, open_db


def _engine(args) -> int:
    from engine.engine import Engine, run_headless, tune_connection

    open_db(args)
    engine = Engine(getattr(args, "db", None))
    if args.once:
        tune_connection()
        handled = engine.run_pending()
        print(f"processed {handled} due occurrence{'s' if handled != 1 else ''}")
        return 0

    def announce(e) -> None:
        print(f"engine {e.engine_id} running; Ctrl-C to stop", file=sys.stderr, flush=True)

    code = run_headless(engine, announce=announce)
    print(f"engine {engine.engine_id} stopped", file=sys.stderr)
    return code


def _enroll(args) -> int:
    from engine.enroll import check_manual, needs_confirmation
    from engine.runner import enroll_manual

    open_db(args)
    ask = needs_confirmation(check_manual(args.name, args.record_id))
    if ask and not args.force:
        raise RotaError("; ".join(f.message for f in ask) + ". Add --force to enroll anyway")
    for finding in ask:
        print(f"note: {finding.message} (enrolling anyway: --force)", file=sys.stderr)
    run = enroll_manual(args.name, args.record_id)
    if run.suppressed:
        print(f'record {args.record_id} meets the suppression criteria of "{args.name}": not enrolled '
              f"(recorded in the history, run {run.id})")
    else:
        print(f'enrolled record {args.record_id} in "{args.name}" (run {run.id})')
    return 0


def _short(iso: str | None) -> str:
    """An ISO UTC instant to the second, for the table (the JSON keeps microseconds)."""
    return "-" if iso is None else iso[:19] + "Z"


def _runs(args) -> int:
    from engine.runner import runs_as_json

    open_db(args)
    rows = runs_as_json(args.name, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f'"{args.name}" has not run yet')
        return 0
    print(f"{'scheduled for':<21} {'status':<10} {'matched':>9} {'enrolled':>9} {'suppressed':>10}  started")
    for r in rows:
        when = _short(r["scheduled_for"]) if r["scheduled_for"] else "manual"
        print(f"{when:<21} {r['status']:<10} {r['matched']:>9} {r['enrolled']:>9} {r['suppressed']:>10}  "
              f"{_short(r['started_at'])}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("engine", help="run the engine without the UI")
    db_option(p)
    p.add_argument("--once", action="store_true", help="process what is due now, then exit")
    p.set_defaults(func=_engine)

    p = sub.add_parser("enroll", help="enroll one record in a workflow now (manual enrollment)")
    db_option(p)
    p.add_argument("name", metavar="NAME", help="workflow name")
    p.add_argument("record_id", metavar="RECORD_ID", type=int, help="the record's id")
    p.add_argument("--force", action="store_true",
                   help="enroll even if the record meets the unenrollment criteria or is already in progress")
    p.set_defaults(func=_enroll)

    p = sub.add_parser("runs", help="a workflow's runs, newest first")
    db_option(p)
    p.add_argument("name", metavar="NAME", help="workflow name")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--limit", type=int, default=None, help="at most this many runs")
    p.set_defaults(func=_runs)
