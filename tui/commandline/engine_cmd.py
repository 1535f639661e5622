"""``rota engine [--once]``, ``rota enroll NAME RECORD_ID``, ``rota runs NAME [--json]``."""
from __future__ import annotations

import dataclasses
import sys
import threading
from datetime import datetime

from engine.events import EngineError, Misfire, RunFinished
from models.errors import RotaError
from models.text import dumps_json, printable
from models.timeutil import iso_z
from tui.commandline.common import db_option, open_db, whole_number
from tui.commandline.output import TIME_WIDTH, local_time, operator_zone, say, say_json


class EventPrinter:
    """Prints the engine's events to stderr, one line each: a run, a misfire, an error.

    ``text``: a line for a person (instants in the operator's zone, names escaped).
    ``json``: one JSON object per line with an ``event`` key and ISO-8601 UTC instants,
    for a log shipper. Called from the engine thread; a lock keeps lines whole.
    """

    def __init__(self, fmt: str, stream=None):
        self.fmt = fmt
        self.stream = stream if stream is not None else sys.stderr
        self.tz = operator_zone()
        self._lock = threading.Lock()

    def __call__(self, event) -> None:
        if not isinstance(event, (RunFinished, Misfire, EngineError)):
            return  # status and step counts change every pass: the dashboard shows them
        line = self.as_json(event) if self.fmt == "json" else printable(self.as_text(event))
        with self._lock:
            print(line, file=self.stream, flush=True)

    @staticmethod
    def as_json(event) -> str:
        kind = "run" if isinstance(event, RunFinished) else "misfire" if isinstance(event, Misfire) else "error"
        fields = {"event": kind}
        for key, value in dataclasses.asdict(event).items():
            if isinstance(value, datetime):
                value = iso_z(value)
            elif isinstance(value, (tuple, list)):
                value = [iso_z(v) if isinstance(v, datetime) else v for v in value]
            fields[key] = value
        return dumps_json(fields, indent=None)

    def as_text(self, event) -> str:
        at = local_time(event.at, self.tz)
        if isinstance(event, RunFinished):
            when = "manual" if event.scheduled_for is None else local_time(event.scheduled_for, self.tz)
            counts = (f"matched {event.matched:,}, enrolled {event.enrolled:,}, suppressed {event.suppressed:,}, "
                      f"skipped in progress {getattr(event, 'skipped_in_progress', 0):,}")
            failed = getattr(event, "steps_failed", None)
            if failed:
                counts += f", {failed:,} step{'s' if failed != 1 else ''} failed"
            detail = f": {event.detail}" if event.detail else ""
            return (f'{at}  run      "{event.workflow_name}" {when}: {event.status}{detail} ({counts}; '
                    f"late {event.lag_ms / 1000:.1f} s, took {event.duration_ms / 1000:.1f} s)")
        if isinstance(event, Misfire):
            times = ", ".join(local_time(t, self.tz) for t in event.scheduled_for[:3])
            more = f" and {len(event.scheduled_for) - 3:,} more" if len(event.scheduled_for) > 3 else ""
            return f'{at}  misfire  "{event.workflow_name}" {event.status}: {times}{more}'
        return f"{at}  error    {event.message} (retrying in {event.retry_in_s:.0f} s)"


def _engine(args) -> int:
    from engine.engine import Engine, run_headless, tune_connection

    open_db(args)
    engine = Engine(getattr(args, "db", None), on_event=EventPrinter(args.log_format))
    if args.once:
        tune_connection()
        handled = engine.run_pending()
        say(f"processed {handled} due occurrence{'s' if handled != 1 else ''}")
        return 0

    def announce(e) -> None:
        say(f"engine {e.engine_id} running; Ctrl-C to stop", err=True)

    code = run_headless(engine, announce=announce)
    say(f"engine {engine.engine_id} stopped", err=True)
    return code


def _enroll(args) -> int:
    from engine.enroll import check_manual, needs_confirmation
    from engine.runner import enroll_manual

    open_db(args)
    ask = needs_confirmation(check_manual(args.name, args.record_id))
    if ask and not args.force:
        raise RotaError("; ".join(f.message for f in ask) + ". Add --force to enroll anyway")
    for finding in ask:
        say(f"note: {finding.message} (enrolling anyway: --force)", err=True)
    run = enroll_manual(args.name, args.record_id)
    if run.suppressed:
        say(f'record {args.record_id} meets the suppression criteria of "{args.name}": not enrolled '
            f"(recorded in the history, run {run.id})")
    else:
        say(f'enrolled record {args.record_id} in "{args.name}" (run {run.id})')
    return 0


def _runs(args) -> int:
    from engine.runner import runs_as_json
    from models.store.reads import status_text

    open_db(args)
    rows = runs_as_json(args.name, limit=args.limit)
    if args.json:
        say_json(rows)
        return 0
    if not rows:
        say(f'"{args.name}" has not run yet')
        return 0
    tz = operator_zone()
    words = [status_text(r["status"], r["steps_failed"]) for r in rows]
    sw = max(10, *(len(w) for w in words))
    # matched = enrolled + suppressed + skipped (still in progress from an earlier run: overlap)
    say(f"{'scheduled for':<{TIME_WIDTH}} {'status':<{sw}} {'matched':>9} {'enrolled':>9} {'suppressed':>10} "
        f"{'skipped':>8} {'steps ok':>9} {'failed':>7} {'in prog.':>8} {'done':>8}  started")
    for r, status in zip(rows, words):
        when = local_time(r["scheduled_for"], tz, missing="manual")
        say(f"{when:<{TIME_WIDTH}} {status:<{sw}} {r['matched']:>9} {r['enrolled']:>9} {r['suppressed']:>10} "
            f"{r['skipped_in_progress']:>8} {r['steps_succeeded']:>9} {r['steps_failed']:>7} {r['in_progress']:>8} {r['completed']:>8}  "
            f"{local_time(r['started_at'], tz)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("engine", help="run the engine without the UI")
    db_option(p)
    p.add_argument("--once", action="store_true", help="process what is due now, then exit")
    p.add_argument("--log-format", choices=("text", "json"), default="text",
                   help="stderr gets one line per run, misfire and error: text (default) or JSON objects")
    p.set_defaults(func=_engine)

    p = sub.add_parser("enroll", help="enroll one record in a workflow now (manual enrollment)")
    db_option(p)
    p.add_argument("name", metavar="NAME", help="workflow name")
    p.add_argument("record_id", metavar="RECORD_ID", type=whole_number(), help="the record's id")
    p.add_argument("--force", action="store_true",
                   help="enroll even if the record meets the unenrollment criteria or is already in progress")
    p.set_defaults(func=_enroll)

    p = sub.add_parser("runs", help="a workflow's runs, newest first")
    db_option(p)
    p.add_argument("name", metavar="NAME", help="workflow name")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--limit", metavar="N", type=whole_number(), default=None, help="at most N runs (1 or more)")
    p.set_defaults(func=_runs)
