"""An engine in a subprocess, for the multi-engine and crash tests.

    python -m tests.engine.engine_proc loop --db URL --origin ISO --origin-real T --speed S [--lease L]
        runs Engine.start() on a ScaledClock until SIGTERM (clean stop) or SIGKILL.
    python -m tests.engine.engine_proc steps --db URL ISO [ISO …]
        sets a FakeClock to each instant in turn and calls run_pending() (crash test):
        each line "done ISO" is printed after the pass at that instant committed.
"""
from __future__ import annotations

import argparse
import faulthandler
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from engine.clock import FakeClock, ScaledClock
from engine.engine import Engine
from models.bootstrap import open_database
from models.db import db, is_postgres
from models.timeutil import iso_z, parse_instant, to_micros

ROOT = Path(__file__).resolve().parents[2]

# The data every engine test uses: record i (ids 1..n) is a customer when i is odd and
# has no e-mail when i is a multiple of 5. CRITERIA selects customers; SUPPRESSION
# holds back records without an e-mail.
CRITERIA = [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]]
SUPPRESSION = [[{"property": "email", "operator": "unknown"}]]


def seed_contacts(n: int, created: datetime) -> None:
    """Insert n contacts with one set-based statement (fast enough for 1,000,000)."""
    ts = to_micros(created)
    if is_postgres():
        source = f"SELECT i FROM generate_series(1, {int(n)}) AS g(i)"
        prefix = ""
    else:
        prefix = f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {int(n)}) "
        source = "SELECT i FROM c"
    mod = "%%" if is_postgres() else "%"  # psycopg2 reads a lone % as a placeholder
    db.execute_sql(
        f"{prefix}INSERT INTO rec_contact (email, lifecycle_stage, firstname, createdate, updated_at) "
        f"SELECT CASE WHEN s.i {mod} 5 = 0 THEN NULL ELSE 'u' || s.i || '@example.com' END, "
        f"CASE WHEN s.i {mod} 2 = 1 THEN 'customer' ELSE 'lead' END, 'Ann', {ts}, {ts} FROM ({source}) AS s"
    )


def expected_counts(n: int) -> tuple[int, int]:
    """(enrolled, suppressed) for ids 1..n under CRITERIA and SUPPRESSION."""
    customers = (n + 1) // 2
    odd_fives = (n // 5 + 1) // 2
    return customers - odd_fives, odd_fives


def workflow_body(name: str, schedule: dict, **extra) -> dict:
    body = {"name": name, "object_type": "contact", "status": "active", "schedule": schedule,
            "criteria": CRITERIA, "suppression": SUPPRESSION}
    body.update(extra)
    return body


def start_steps(url: str, positions: list[datetime]) -> tuple[subprocess.Popen, queue.Queue[str]]:
    """This module in ``steps`` mode as a subprocess, for the crash tests: the process,
    and a queue of its stdout lines ("done ISO" per committed pass, then "EOF")."""
    err = tempfile.TemporaryFile(mode="w+")  # a file: an unread pipe could fill and stall the engine
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.engine_proc", "steps", "--db", url, *[iso_z(p) for p in positions]],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True, env=os.environ.copy())
    proc.err_file = err  # type: ignore[attr-defined]
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put("EOF")

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def stderr_tail(proc: subprocess.Popen) -> str:
    """The last 2,000 characters a process from :func:`start_steps` wrote to stderr."""
    fh = proc.err_file  # type: ignore[attr-defined]
    fh.seek(0)
    return fh.read()[-2000:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["loop", "steps"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--origin")
    parser.add_argument("--origin-real", type=float)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--lease", type=float, default=15.0)
    parser.add_argument("instants", nargs="*")
    args = parser.parse_intermixed_args(argv)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # tests dump a stuck engine's stacks
    open_database(args.db)
    if args.mode == "steps":
        clock = FakeClock(parse_instant(args.instants[0]))
        engine = Engine(args.db, clock=clock, engine_id=f"steps-{id(clock)}")
        for text in args.instants:
            clock.set(parse_instant(text))
            engine.run_pending()
            print(f"done {text}", flush=True)
        return 0
    clock = ScaledClock(parse_instant(args.origin), args.speed, args.origin_real)
    engine = Engine(args.db, clock=clock, lease_seconds=args.lease)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    engine.start()
    print(f"started {engine.engine_id}", flush=True)
    while not stop.is_set():
        stop.wait(0.2)
    ok = engine.stop(timeout=20)
    print(f"stopped {engine.engine_id} clean={ok}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
