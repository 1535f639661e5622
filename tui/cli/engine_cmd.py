"""``rota engine [--once]``, ``rota enroll NAME RECORD_ID``, ``rota runs NAME [--json]``."""
from __future__ import annotations

import sys

from tui.cli import db_option, open_db, whole_number
from tui.cli.output import TIME_WIDTH, local_time, operator_zone, say, say_json


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
    from engine.runner import enroll_manual

    open_db(args)
    run = enroll_manual(args.name, args.record_id)
    if run.suppressed:
        say(f'record {args.record_id} meets the suppression criteria of "{args.name}": not enrolled '
            f"(recorded in the history, run {run.id})")
    else:
        say(f'enrolled record {args.record_id} in "{args.name}" (run {run.id})')
    return 0


def _runs(args) -> int:
    from engine.runner import runs_as_json

    open_db(args)
    rows = runs_as_json(args.name, limit=args.limit)
    if args.json:
        say_json(rows)
        return 0
    if not rows:
        say(f'"{args.name}" has not run yet')
        return 0
    tz = operator_zone()
    steps = "steps_failed" in rows[0]  # the run counters (issue 10), when the runner reports them
    head = f"{'scheduled for':<{TIME_WIDTH}} {'status':<10} {'matched':>9} {'enrolled':>9} {'suppressed':>10}"
    if steps:
        head += f" {'steps ok':>9} {'failed':>7} {'pending':>8}"
    say(f"{head}  started")
    for r in rows:
        when = local_time(r["scheduled_for"], tz, missing="manual")
        line = f"{when:<{TIME_WIDTH}} {r['status']:<10} {r['matched']:>9} {r['enrolled']:>9} {r['suppressed']:>10}"
        if steps:
            line += f" {r.get('steps_succeeded') or 0:>9} {r.get('steps_failed') or 0:>7} {r.get('in_progress') or 0:>8}"
        say(f"{line}  {local_time(r['started_at'], tz)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("engine", help="run the engine without the UI")
    db_option(p)
    p.add_argument("--once", action="store_true", help="process what is due now, then exit")
    p.set_defaults(func=_engine)

    p = sub.add_parser("enroll", help="enroll one record in a workflow now (manual enrollment)")
    db_option(p)
    p.add_argument("name", metavar="NAME", help="workflow name")
    p.add_argument("record_id", metavar="RECORD_ID", type=whole_number(), help="the record's id")
    p.set_defaults(func=_enroll)

    p = sub.add_parser("runs", help="a workflow's runs, newest first")
    db_option(p)
    p.add_argument("name", metavar="NAME", help="workflow name")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--limit", metavar="N", type=whole_number(), default=None, help="at most N runs (1 or more)")
    p.set_defaults(func=_runs)
