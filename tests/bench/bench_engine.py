"""Benchmark: one run enrolling 1,000,000 matching records (SQLite by default).

    python tests/bench/bench_engine.py [--records 1000000] [--db PATH_OR_URL] [--sample 20000]
                                       [--in-progress-pct 10]

Prints, measured in the same process on the same database:
* the raw ceiling: a bare ``INSERT INTO enrollment … SELECT … FROM rec_contact`` (no run
  row, no counts, no rollup) — the fastest the database can append these rows;
* the engine's run (``runner.process_next_due``: claim, run row, INSERT … SELECT with
  ON CONFLICT DO NOTHING, suppressed history, counts, daily rollup, next run time, all in
  one transaction) as enrollments per second, and its ratio to the ceiling;
* a per-record ORM loop (``Enrollment.create`` per record) on a sample, extrapolated,
  and the engine's speed-up over it;
* the engine process's peak RSS growth during the run.
With ``--in-progress-pct P``, the engine's run is measured twice in the same process:
first with nothing in progress (on an identical copy of the database on SQLite; undone
again on PostgreSQL), then with P % of the records holding an enrollment in progress
(``waiting``) from an earlier run, which the default ``overlap = skip_in_progress``
skips. Both rates (matched records per second) and their ratio are printed (issue 11:
the ratio stays ≥ 0.9). ``--spread`` puts every (100/P)-th record in progress instead of
the first P %. On SQLite both runs are repeated (``--repeat``, default 3), alternately and
each on a fresh copy of the database, and their medians compared.
Targets (issue 4): ≥ 700,000 enrollments/s on SQLite; ≥ 40× the ORM loop; < 50 MB.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("ROTA_TIMEZONE", "UTC")
os.environ.setdefault("ROTA_CONFIG", str(Path(tempfile.gettempdir()) / "rota-bench-none.toml"))


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
    except OSError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--db", default=None, help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--pg", action="store_true", help="a fresh schema on $ROTA_TEST_PG_URL")
    parser.add_argument("--in-progress-pct", type=float, default=0.0,
                        help="share of records with an enrollment in progress before the run")
    parser.add_argument("--with-step", action="store_true",
                        help="the workflow has a step (a delay), so its enrollments are in progress after the run "
                             "(only such workflows ever have records in progress); default: no steps")
    parser.add_argument("--repeat", type=int, default=3,
                        help="with --in-progress-pct on SQLite: runs of each kind, alternately, each on a fresh copy; "
                             "the medians are compared (default 3)")
    parser.add_argument("--spread", action="store_true",
                        help="records in progress spread over the table (every n-th) instead of the first ones")
    parser.add_argument("--engine-run", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--ceiling-run", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_run:
        return engine_run(args.engine_run, args.records, args.in_progress_pct)
    if args.ceiling_run:
        return ceiling_run(args.ceiling_run)
    if args.pg:
        from tests.dbutil import fresh_pg_schema, pg_base_url

        base = pg_base_url()
        if not base:
            print("set ROTA_TEST_PG_URL for --pg", file=sys.stderr)
            return 2
        with fresh_pg_schema(base) as url:
            return bench(args, url)
    return bench(args, args.db)


def bench(args, db_url: str | None) -> int:
    from engine import workflows
    from models.bootstrap import open_database
    from models.db import db, is_postgres
    from models.schema import Enrollment, Run
    from models.timeutil import UTC
    from tests.engine.engine_proc import seed_contacts, workflow_body

    tmp = tempfile.mkdtemp(prefix="rota-bench-")
    url = db_url or str(Path(tmp) / "bench.db")
    open_database(url)
    kind = "PostgreSQL" if is_postgres() else "SQLite"
    t0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    t = time.perf_counter()
    with db.atomic():
        seed_contacts(args.records, t0 - timedelta(days=10))
    print(f"{kind}: seeded {args.records:,} contacts in {time.perf_counter() - t:.1f} s")
    if is_postgres():
        db.execute_sql("ANALYZE")
    # Every record matches: empty criteria, no suppression (the "1,000,000 matching").
    steps = [{"type": "delay", "days": 2}] if args.with_step else []
    wf = workflows.save_workflow(workflow_body("Bench", {"kind": "daily", "time": "08:00", "timezone": "UTC"},
                                                criteria=[], suppression=[], actions=steps), now=t0, actor="bench")
    if steps:
        print("the workflow has one step (a delay): its enrollments stay in progress, as overlap presumes")

    # 1. The raw ceiling, on the empty table, then removed again — in a fresh process
    # with the engine's connection settings, exactly as the engine's run below.
    from models.db import close_database

    target = url
    if not is_postgres():  # SQLite: on an identical copy of the file, so both start equal
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        close_database()
        target = str(Path(url).with_suffix(".ceiling.db"))
        shutil.copyfile(url, target)
    close_database()
    out = subprocess.run([sys.executable, __file__, "--ceiling-run", target, "--records", str(args.records)],
                         capture_output=True, text=True, check=True)
    if target != url:
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
    rows, ceiling_s = (float(x) for x in out.stdout.split())
    ceiling_rate = rows / ceiling_s
    print(f"raw INSERT … SELECT ceiling: {int(rows):,} rows in {ceiling_s:.2f} s = {ceiling_rate:,.0f} rows/s")
    open_database(url)

    # 2. The per-record ORM loop on a sample (rolled back), extrapolated.
    scratch = Run.create(workflow=wf.id, scheduled_for=t0 - timedelta(days=2), kind="scheduled", status="running")
    from models.objects import record_model

    R = record_model("contact")
    ids = [r[0] for r in R.select(R.id).order_by(R.id).limit(args.sample).tuples()]
    t = time.perf_counter()
    with db.atomic() as txn:
        for rid in ids:
            Enrollment.create(run=scratch.id, workflow=wf.id, record_id=rid, manual=False, enrolled_at=t0,
                              state="done", step=0, next_step_at=None)
        loop_s = time.perf_counter() - t
        txn.rollback()
    scratch.delete_instance()
    if is_postgres():
        db.execute_sql("VACUUM ANALYZE enrollment")
    loop_rate = len(ids) / loop_s
    print(f"per-record ORM loop: {len(ids):,} rows in {loop_s:.2f} s = {loop_rate:,.0f} rows/s "
          f"(extrapolated to {args.records:,}: {args.records / loop_rate:.1f} s)")

    busy = int(args.records * args.in_progress_pct / 100)
    base_rate = None
    repeat = max(1, args.repeat) if busy and not is_postgres() else 1
    nothing = url
    if busy and not is_postgres():  # the database with nothing in progress, kept for the repeats
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        close_database()
        nothing = str(Path(url).with_suffix(".nothing.db"))
        shutil.copyfile(url, nothing)
        open_database(url)
    base_runs: list[tuple[float, float, float]] = []
    if busy:  # the same run with nothing in progress first, for the ratio measured in this process
        base_runs.append(_engine_child(nothing, args.records, 0.0, copy=not is_postgres()))
        base_s, _, base_cpu = base_runs[0]
        base_rate = args.records / base_s
        open_database(url)
        if is_postgres():  # undo it: the run, its enrollments and rollup, the workflow's next run
            from models.schema import EnrollmentDaily, Workflow

            base = Run.get((Run.workflow == wf.id) & (Run.scheduled_for == datetime(2026, 3, 2, 8, tzinfo=UTC)))
            with db.atomic():
                Enrollment.delete().where(Enrollment.run == base.id).execute()
                base.delete_instance()
                EnrollmentDaily.delete().where(EnrollmentDaily.workflow == wf.id).execute()
                Workflow.update(next_run_at=datetime(2026, 3, 2, 8, tzinfo=UTC), last_scheduled_for=None).where(
                    Workflow.id == wf.id).execute()
            db.execute_sql("VACUUM ANALYZE enrollment")
        print(f"engine run, nothing in progress: {args.records:,} matched in {base_s:.2f} s "
              f"= {base_rate:,.0f} matched records/s" + ("" if is_postgres() else f" (CPU {base_cpu:.2f} s)"))
        # An earlier run whose enrollments are still waiting on a delay.
        earlier = Run.create(workflow=wf.id, scheduled_for=t0 - timedelta(days=1), kind="scheduled",
                             status="succeeded")
        step = max(1, round(100 / args.in_progress_pct)) if args.spread else 1
        which = (f"WHERE id % {step} = 0 ORDER BY id LIMIT {busy}" if step > 1 else f"ORDER BY id LIMIT {busy}")
        with db.atomic():
            db.execute_sql(
                f"INSERT INTO enrollment (run_id, workflow_id, manual, enrolled_at, state, step, next_step_at, "
                f"record_id) SELECT {earlier.id}, {wf.id}, FALSE, 0, 'waiting', 1, CAST(NULL AS BIGINT), id "
                f"FROM rec_contact {which}".replace("%", "%%" if is_postgres() else "%"))
        if is_postgres():
            db.execute_sql("VACUUM ANALYZE enrollment")
        spread = f", every {step}th record" if step > 1 else ", the first ones"
        print(f"in progress before the run: {busy:,} records ({args.in_progress_pct:g} %{spread})")

    # 3. The engine's run, with all its bookkeeping, in one transaction — in a fresh
    # process, so that its memory is the engine's alone (not this script's warm cache).
    close_database()
    runs = [_engine_child(url, args.records, args.in_progress_pct, copy=repeat > 1)]
    for _ in range(repeat - 1):  # alternately, each on a fresh copy: the median of each is printed
        base_runs.append(_engine_child(nothing, args.records, 0.0, copy=True))
        runs.append(_engine_child(url, args.records, args.in_progress_pct, copy=True))
    if repeat > 1:
        Path(nothing).unlink(missing_ok=True)
        base_s, base_cpu = _median([r[0] for r in base_runs]), _median([r[2] for r in base_runs])
        base_rate = args.records / base_s
        print(f"  {repeat} runs of each, alternately: nothing in progress "
              + ", ".join(f"{r[0]:.2f}" for r in base_runs) + " s; "
              + f"{args.in_progress_pct:g} % in progress " + ", ".join(f"{r[0]:.2f}" for r in runs)
              + " s (medians below)")
    run_s, cpu_s = _median([r[0] for r in runs]), _median([r[2] for r in runs])
    peak_growth = max(r[1] for r in runs)
    rate = args.records / run_s
    skipped = f", {busy:,} skipped in progress" if busy else ""
    print(f"engine run: {args.records:,} matched ({args.records - busy:,} enrolled{skipped}) in {run_s:.2f} s "
          f"= {rate:,.0f} matched records/s (target ≥ 700,000 on SQLite"
          + (")" if is_postgres() else f"; CPU {cpu_s:.2f} s)"))
    if base_rate:
        print(f"  ratio to the same run with nothing in progress: {rate / base_rate:.2f} "
              f"({rate:,.0f} / {base_rate:,.0f} matched records/s; target ≥ 0.90)"
              + ("" if is_postgres() else f"; by the engine process's CPU time: {base_cpu / cpu_s:.2f}"))
    print(f"  ratio to the raw ceiling: {rate / ceiling_rate:.2f}")
    print(f"  speed-up over the per-record ORM loop: {rate / loop_rate:.0f}× (target ≥ 40×)")
    print(f"  engine memory growth during the run: +{peak_growth:.1f} MB peak RSS (target < 50 MB)")
    return 0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _engine_child(url: str, records: int, in_progress_pct: float, copy: bool = False) -> tuple[float, float, float]:
    """The engine's run in a fresh process (so that its memory is the engine's alone);
    ``copy``: on an identical copy of the SQLite file, removed afterwards.
    Returns (seconds, peak RSS growth in MB, the child's CPU seconds for the run)."""
    from models.db import close_database, db

    target = url
    if copy:
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        close_database()
        target = str(Path(url).with_suffix(".base.db"))
        shutil.copyfile(url, target)
    close_database()
    out = subprocess.run([sys.executable, __file__, "--engine-run", target, "--records", str(records),
                          "--in-progress-pct", str(in_progress_pct)],
                         capture_output=True, text=True, check=True)
    if target != url:
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
    run_s, peak_growth, cpu_s = (float(x) for x in out.stdout.split())
    return run_s, peak_growth, cpu_s


def ceiling_run(url: str) -> int:
    """The child: the bare statement, timed; then its rows are removed (not timed)."""
    from engine.engine import tune_connection
    from models.bootstrap import open_database
    from models.db import db, is_postgres
    from models.schema import Enrollment, Run, Workflow
    from models.timeutil import UTC, to_micros

    open_database(url)
    tune_connection()
    wf = Workflow.get(Workflow.name == "Bench")
    t0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    scratch = Run.create(workflow=wf.id, scheduled_for=t0 - timedelta(days=1), kind="scheduled", status="succeeded")
    t = time.perf_counter()
    with db.atomic():
        cur = db.execute_sql(
            f"INSERT INTO enrollment (run_id, workflow_id, manual, enrolled_at, state, step, next_step_at, record_id) "
            f"SELECT {scratch.id}, {wf.id}, FALSE, {to_micros(t0)}, 'done', 0, CAST(NULL AS BIGINT), id "
            f"FROM rec_contact WHERE (1 = 1)")
    elapsed = time.perf_counter() - t
    rows = cur.rowcount
    with db.atomic():
        Enrollment.delete().where(Enrollment.run == scratch.id).execute()
        scratch.delete_instance()
    if is_postgres():  # give the engine's run a table without a million dead rows
        db.execute_sql("VACUUM ANALYZE enrollment")
    print(rows, elapsed)
    return 0


def engine_run(url: str, records: int, in_progress_pct: float = 0.0) -> int:
    """The child: open the database as the engine thread does, run, report time and memory."""
    from engine import runner
    from engine.engine import tune_connection
    from models.bootstrap import open_database
    from models.schema import Workflow
    from models.settings import load_settings
    from models.timeutil import UTC

    open_database(url)
    tune_connection()
    settings = load_settings()
    reset_peak()
    rss0 = rss_mb()
    at = datetime(2026, 3, 2, 8, 0, 0, 1000, tzinfo=UTC)
    t, cpu = time.perf_counter(), time.process_time()
    outcome = runner.process_next_due(at, "bench", settings=settings)
    run_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    peak = max(rss_mb("VmHWM"), rss_mb())
    run = outcome.run
    busy = int(records * in_progress_pct / 100)
    assert run is not None and run.enrolled == records - busy, (run and run.enrolled)
    assert getattr(run, "skipped_in_progress", 0) == busy
    assert Workflow.get_by_id(run.workflow_id).next_run_at == datetime(2026, 3, 3, 8, tzinfo=UTC)
    print(run_s, peak - rss0, cpu_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
