"""Start-up benchmark: time to the first usable screen on a large database.

Issue 6 §1: opening takes under 1 s with 1,000,000 records and 10,000,000 enrollments,
because nothing proportional to the data happens at start-up. This builds such a
database once (raw set-based SQL: recursive CTEs, INSERT … SELECT; cached under /tmp),
then measures, in the same process and run:

* the floor: a bare Textual App with a DataTable and a Footer, to its first paint;
* Rota: ``RotaApp`` (engine off, so only the UI path is timed) until the workflows
  table is populated from the database.

It prints both and the ratio. A benchmark measures and prints; it asserts nothing.

    python tests/bench/bench_startup.py [--db PATH] [--contacts N] [--enrollments N] [--repeat K]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
DEFAULT_DB = Path(tempfile.gettempdir()) / "rota-bench-startup-1m-10m.db"
RUNS = 10  # enrollments are spread over this many runs of one workflow


def build(path: Path, contacts: int, enrollments: int) -> None:
    """Create the database with raw bulk SQL (minutes once; then reused)."""
    from engine.workflows import save_workflow
    from models import bootstrap
    from models import db as dbmod
    from models.objects import record_model
    from models.schema import Run
    from models.timeutil import to_micros

    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    database = bootstrap.open_database(str(tmp))
    now_us = to_micros(NOW)
    table = record_model("contact")._meta.table_name
    t0 = time.perf_counter()
    print(f"building {path}: {contacts:,} contacts …", flush=True)
    database.execute_sql(
        f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {contacts})
        INSERT INTO {table} (id, createdate, updated_at, firstname, lastname, email, country, lifecycle_stage)
        SELECT i, {now_us} - (i % 1000) * 86400000000, {now_us}, 'First' || (i % 997), 'Last' || (i % 991),
               'p' || i || '@example.com', CASE i % 3 WHEN 0 THEN 'SE' WHEN 1 THEN 'NL' ELSE 'DE' END,
               CASE i % 4 WHEN 0 THEN 'customer' WHEN 1 THEN 'lead' WHEN 2 THEN 'subscriber' ELSE 'other' END
        FROM n
        """
    )
    workflows = []
    for name, days in ((("Big weekly sweep", ["mon"]), ("Friday check-in", ["fri"]),
                                      ("Midweek leads", ["wed"]))):
        workflows.append(save_workflow({
            "name": name, "object_type": "contact", "status": "active",
            "schedule": {"kind": "weekly", "weekdays": days, "time": "08:00", "timezone": "UTC"},
            "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]],
        }, now=NOW, actor="bench"))
    big = workflows[0]
    per_run = enrollments // RUNS
    print(f"  {time.perf_counter() - t0:.0f} s; {enrollments:,} enrollments in {RUNS} runs …", flush=True)
    for r in range(RUNS):
        at = now_us - (RUNS - r) * 7 * 86400 * 1_000_000
        run = Run.create(workflow=big, scheduled_for=datetime.fromtimestamp(at / 1e6, UTC),
                         kind="scheduled", status="succeeded", started_at=datetime.fromtimestamp(at / 1e6, UTC),
                         finished_at=datetime.fromtimestamp(at / 1e6, UTC), matched=per_run,
                         enrolled=per_run, suppressed=0, engine_id="bench")
        with database.atomic():
            database.execute_sql(
                f"""
                INSERT INTO enrollment (run_id, workflow_id, record_id, manual, enrolled_at, state, step)
                SELECT {run.id}, {big.id}, id, 0, {at}, 'done', 0 FROM {table} WHERE id <= {per_run}
                """
            )
        print(f"  run {r + 1}/{RUNS} ({time.perf_counter() - t0:.0f} s)", flush=True)
    database.execute_sql("ANALYZE")
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    dbmod.close_database()
    tmp.replace(path)
    print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)


async def time_floor() -> float:
    """A bare Textual app with the same kind of widgets, to its first paint."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Floor(App):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

    start = time.perf_counter()
    app = Floor()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        return time.perf_counter() - start


async def time_rota(db_path: Path) -> tuple[float, int]:
    """RotaApp from construction until the workflows table shows the database's rows."""
    from models import bootstrap
    from models import db as dbmod
    from models.settings import load_settings

    start = time.perf_counter()
    bootstrap.open_database(str(db_path))  # run_app opens the database first, so it is timed
    from tui.app import RotaApp

    app = RotaApp(str(db_path), run_engine=False, settings=load_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        while True:
            screen = app.screen
            if type(screen).__name__ == "WorkflowsScreen" and getattr(screen, "loaded", False):
                from textual.widgets import DataTable

                rows = screen.query_one(DataTable).row_count
                elapsed = time.perf_counter() - start
                break
            await asyncio.sleep(0.005)
            if time.perf_counter() - start > 60:
                raise RuntimeError("the workflows screen did not load within 60 s")
        await pilot.pause()
    dbmod.close_database()
    return elapsed, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--enrollments", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("ROTA_CONFIG", str(Path(tempfile.gettempdir()) / "rota-bench-settings.toml"))
    os.environ.setdefault("ROTA_TIMEZONE", "UTC")
    if not args.db.exists():
        build(args.db, args.contacts, args.enrollments)
    from models import bootstrap
    from models import db as dbmod

    database = bootstrap.open_database(str(args.db))
    counts = {t: database.execute_sql(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("rec_contact", "enrollment")}
    dbmod.close_database()
    print(f"database {args.db}: {counts['rec_contact']:,} contacts, {counts['enrollment']:,} enrollments")

    floors, rotas, rows = [], [], 0
    for _ in range(args.repeat):  # interleaved, so machine load affects both alike
        floors.append(asyncio.run(time_floor()))
        elapsed, rows = asyncio.run(time_rota(args.db))
        rotas.append(elapsed)
    floor, rota = statistics.median(floors), statistics.median(rotas)
    print(f"textual floor (bare app, first paint):   median {floor:.3f} s  {[round(x, 3) for x in floors]}")
    print(f"rota (workflows table with {rows} rows): median {rota:.3f} s  {[round(x, 3) for x in rotas]}")
    print(f"ratio rota / floor: {rota / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
