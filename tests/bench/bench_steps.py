"""Benchmark: set-property steps per second through the executor (target: 5,000/s on
SQLite). Prints figures; it is not a test.

    python tests/bench/bench_steps.py [N] [--limit L] [--pg URL] [--history M]

N contacts are enrolled by one scheduled run of a one-step workflow ("set property
value", a constant), then ``run_due_steps`` is called until nothing is due. Also
times a templated value (one distinct value per record) and a three-step workflow, and
compares with a naive baseline: one ``update_record`` + one history row per step,
each in its own transaction, on a sample.

``--history M`` also fills a workflow with M history events (and a run of M/10
enrollments) and times history pages: newest, one record, one type, 50 pages deep.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("ROTA_CONFIG", str(Path(tempfile.gettempdir()) / "rota-bench-none.toml"))
os.environ.setdefault("ROTA_TIMEZONE", "UTC")

from engine import executor, runner
from engine.workflows import get_workflow, save_workflow
from models import bootstrap
from models import db as dbmod
from models.db import db
from models.objects import record_model, update_record
from models.schema import HistoryEvent
from models.timeutil import UTC

TARGET = 5000.0
T0 = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)


def _setup(n: int, name: str, actions: list[dict]) -> int:
    m = record_model("contact")
    if m.select().count() < n:
        rows = [{"firstname": f"P{i}", "createdate": T0, "updated_at": T0} for i in range(n)]
        with db.atomic():
            for i in range(0, n, 1000):
                m.insert_many(rows[i:i + 1000]).execute()
    wf = save_workflow({"name": name, "object_type": "contact", "status": "active",
                        "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
                        "criteria": [], "actions": actions}, actor="bench", now=T0)
    runner.execute_run(get_workflow(wf.id), T0 + timedelta(minutes=1), now=T0 + timedelta(minutes=1))
    return wf.id


def _drain(limit: int) -> tuple[int, float]:
    now = T0 + timedelta(minutes=1)
    steps = 0
    t0 = time.perf_counter()
    while True:
        ran = executor.run_due_steps(now, "bench", limit=limit)
        if not ran:
            break
        steps += ran
    return steps, time.perf_counter() - t0


def _naive(sample: int) -> float:
    """One record update and one history row per step, one transaction each."""
    m = record_model("contact")
    ids = [r for (r,) in m.select(m.id).limit(sample).tuples()]
    now = T0 + timedelta(minutes=2)
    t0 = time.perf_counter()
    for rid in ids:
        with db.atomic():
            update_record("contact", rid, {"city": "Naive"}, now=now)
            HistoryEvent.create(workflow=1, at=now, type="step_succeeded", record_id=rid, step=1, detail="{}")
    return sample / (time.perf_counter() - t0)


def bench(url: str, n: int, limit: int) -> None:
    bootstrap.open_database(url)
    try:
        cases = [
            ("constant set_property", [{"type": "set_property", "property": "city", "value": "Stockholm"}]),
            ("templated set_property", [{"type": "set_property", "property": "jobtitle", "value": "Hi {firstname}"}]),
            ("3 steps (set, copy, set)", [{"type": "set_property", "property": "country", "value": "SE"},
                                          {"type": "copy_property", "from": "firstname", "to": "lastname"},
                                          {"type": "set_property", "property": "phone", "value": "1"}]),
        ]
        first = None
        for i, (label, actions) in enumerate(cases):
            _setup(n, f"bench {i}", actions)
            steps, seconds = _drain(limit)
            rate = steps / seconds
            first = first or rate
            print(f"  {label:<26} {steps:>8} steps in {seconds:6.2f} s = {rate:>9,.0f} steps/s "
                  f"({rate / TARGET:.2f}x the {TARGET:,.0f}/s target)")
        naive = _naive(min(n, 2000))
        print(f"  naive baseline (per-step transaction) {naive:>9,.0f} steps/s; "
              f"batched constant set_property is {first / naive:.1f}x the baseline")
    finally:
        dbmod.close_database()


def bench_history(url: str, m: int) -> None:
    """Time history pages over ``m`` events: each must cost about the same as at 10."""
    from engine.history import history
    from models.schema import Enrollment, Run
    from models.store.steps import insert_tuples
    from models.timeutil import to_micros

    bootstrap.open_database(url)
    try:
        wf_id = _setup(1000, "history bench", [])
        base = to_micros(T0)
        kinds = ["step_succeeded", "step_succeeded", "delayed", "step_failed", "paused"]
        t0 = time.perf_counter()
        with db.atomic():
            for start in range(0, m, 50_000):
                rows = [(wf_id, base + i * 1_000_000, kinds[i % 5], i % 100_000, None, None, None, 1, "{}")
                        for i in range(start, min(m, start + 50_000))]
                insert_tuples(HistoryEvent, ["workflow", "at", "type", "record_id", "run", "enrollment",
                                             "scheduled_for", "step", "detail"], rows)
            run = Run.create(workflow=wf_id, scheduled_for=T0 + timedelta(days=400), status="succeeded")
            at = base + m * 1_000_000
            for start in range(0, m // 10, 50_000):
                insert_tuples(Enrollment, ["run", "workflow", "record_id", "manual", "enrolled_at", "state", "step"],
                              [(run.id, wf_id, r, False, at, "done", 0)
                               for r in range(start, min(m // 10, start + 50_000))])
        print(f"  filled {m:,} events + {m // 10:,} enrollments in {time.perf_counter() - t0:.1f} s")

        def timed(label, **kw):
            t = time.perf_counter()
            rows = history("history bench", **kw)
            print(f"  {label:<34} {len(rows):>4} rows in {(time.perf_counter() - t) * 1000:8.1f} ms")
            return rows

        timed("newest 200 (merged)")
        timed("one record", record_id=4242)
        timed("type step_failed", type="step_failed")
        timed("type enrolled", type="enrolled")
        rows, t = [], time.perf_counter()
        cursor = None
        for _ in range(50):
            rows = history("history bench", limit=200, before=cursor)
            cursor = rows[-1]["cursor"]
        print(f"  {'50 pages of 200 (keyset)':<34} {50 * 200:>4} rows in {(time.perf_counter() - t) * 1000:8.1f} ms")
    finally:
        dbmod.close_database()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=50_000)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--pg", metavar="URL", help="also run on this (empty) PostgreSQL database/schema")
    parser.add_argument("--history", metavar="M", type=int, default=0, help="also time history over M events")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite, {args.n:,} enrollments, batches of {args.limit}:")
        bench(str(Path(tmp) / "bench.db"), args.n, args.limit)
        if args.history:
            print(f"SQLite history, {args.history:,} events:")
            bench_history(str(Path(tmp) / "history.db"), args.history)
    if args.pg:
        print(f"PostgreSQL, {args.n:,} enrollments, batches of {args.limit}:")
        bench(args.pg, args.n, args.limit)


if __name__ == "__main__":
    main()
