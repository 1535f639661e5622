"""Benchmark: the cost of a wake-up with 100,000 active workflows of which none is due,
and the engine's lateness from scheduled instant to run start on the real clock.

    python tests/bench/bench_engine_wake.py [--workflows 100000] [--samples 40] [--db PATH_OR_URL]

A wake-up is one pass of the loop: renew the lease, look for due workflows, find the
earliest next run time and the earliest due step (all indexed lookups). Baseline:
the same pass if it had to read every active workflow's next run time (what a loop
without the ``next_run_at`` index would do), measured in the same run.
Targets (issue 4): a wake-up under 5 ms; median lateness under 5 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("ROTA_TIMEZONE", "UTC")
os.environ.setdefault("ROTA_CONFIG", str(Path(tempfile.gettempdir()) / "rota-bench-none.toml"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()

    from engine import workflows
    from engine.engine import Engine
    from models.bootstrap import open_database
    from models.db import db, is_postgres
    from models.objects import get_type
    from models.schema import Run, Workflow
    from models.timeutil import to_micros, utcnow
    from tests.engine.engine_proc import seed_contacts, workflow_body

    url = args.db or str(Path(tempfile.mkdtemp(prefix="rota-bench-")) / "wake.db")
    open_database(url)
    now = utcnow()
    seed_contacts(50, now - timedelta(days=3))
    contact = get_type("contact").id
    far = to_micros(now + timedelta(days=365))
    ts = to_micros(now)
    n = int(args.workflows)
    if is_postgres():
        source, prefix = f"SELECT i FROM generate_series(1, {n}) AS g(i)", ""
    else:
        prefix = f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) "
        source = "SELECT i FROM c"
    t = time.perf_counter()
    with db.atomic():
        db.execute_sql(
            f"{prefix}INSERT INTO workflow (name, object_type_id, status, schedule, criteria, suppression, "
            f"unenrollment, actions, settings, next_run_at, version, created_at, updated_at) "
            f"SELECT 'idle ' || s.i, {contact}, 'active', "
            f"'{{\"kind\": \"daily\", \"time\": \"08:00\", \"timezone\": \"UTC\"}}', '[]', '[]', '[]', '[]', '{{}}', "
            f"{far} + s.i, 1, {ts}, {ts} FROM ({source}) AS s")
    print(f"{n:,} active workflows, none due, inserted in {time.perf_counter() - t:.1f} s")

    engine = Engine(url)
    engine._one_pass()  # warm the caches once
    costs = []
    for _ in range(200):
        t = time.perf_counter()
        engine._one_pass()
        costs.append((time.perf_counter() - t) * 1000)
    costs.sort()
    med = statistics.median(costs)
    print(f"wake-up: median {med:.2f} ms, p95 {costs[int(len(costs) * 0.95)]:.2f} ms (target < 5 ms)")
    t = time.perf_counter()
    for _ in range(5):
        min(r[0] for r in Workflow.select(Workflow.next_run_at).where(Workflow.status == "active").tuples())
    scan = (time.perf_counter() - t) * 1000 / 5
    print(f"  baseline, reading every active workflow's next run time: {scan:.1f} ms ({scan / med:.0f}× slower)")
    engine._lease.release()

    # Lateness on the real clock: the engine thread sleeps until next_run_at and runs it.
    wf = workflows.save_workflow(workflow_body("Late", {"kind": "daily", "time": "08:00", "timezone": "UTC"}),
                                 actor="bench")
    engine = Engine(url).start()
    lags = []
    try:
        time.sleep(0.3)
        for _ in range(args.samples):
            at = utcnow() + timedelta(milliseconds=40)
            at = at.replace(microsecond=(at.microsecond // 1000) * 1000)
            Workflow.update(next_run_at=at).where(Workflow.id == wf.id).execute()
            engine.wake()  # what the service layer's change hook does
            deadline = time.monotonic() + 5
            run = None
            while time.monotonic() < deadline:
                run = Run.get_or_none((Run.workflow == wf.id) & (Run.scheduled_for == at))
                if run is not None:
                    break
                time.sleep(0.01)
            if run is not None:
                lags.append((run.started_at - at).total_seconds() * 1000)
            time.sleep(0.02)
    finally:
        engine.stop()
    lags.sort()
    print(f"lateness (scheduled instant → run start, real clock, {len(lags)} runs): median {statistics.median(lags):.2f} ms, "
          f"p90 {lags[int(len(lags) * 0.9)]:.2f} ms, max {lags[-1]:.2f} ms (target median < 5 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
