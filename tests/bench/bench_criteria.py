"""Benchmark: counting the contacts that meet criteria, with and without the advisor index.

Targets (issue 2): over 1,000,000 contacts, a typical criteria set (two filters, ~50%
match) counts in under 100 ms on SQLite, and a selective one (~1%) in under 5 ms.

    python tests/bench/bench_criteria.py                 # 1,000,000 contacts, temp SQLite file
    python tests/bench/bench_criteria.py --contacts 200000 --db /tmp/bench.db
    python tests/bench/bench_criteria.py --db postgresql://postgres@127.0.0.1:5432/test

A script that measures and prints, not a timed test. Rows are generated inside the
database (INSERT … SELECT over a recursive CTE on SQLite, generate_series on
PostgreSQL): building a million rows through the ORM would take minutes and measure
the wrong thing. Values are spread by multiplicative hashing of the row number, so
the matching rows are scattered through the table as real data would be.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from models import criteria as C
from models import indexes as I
from models.bootstrap import open_database
from models.db import close_database, db, is_postgres
from models.objects import get_props, record_model
from models.timeutil import to_micros

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
TZ = "Europe/Stockholm"
DAY_US = 86_400 * 1_000_000
CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Helsingborg",
          "Jönköping", "Norrköping"] + [f"Town {k}" for k in range(90)]  # 100 cities: 1% each

TYPICAL = [[  # ~50%: half the lifecycle stages, created more than 30 of the last 730 days ago
    {"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead", "customer", "opportunity", "other"]},
    {"property": "createdate", "operator": "more_than_days_ago", "value": 30},
]]
SELECTIVE = [[  # ~1%: one stage in eight, created in the last 60 days
    {"property": "lifecycle_stage", "operator": "is_any_of", "value": ["evangelist"]},
    {"property": "createdate", "operator": "in_last_days", "value": 60},
]]
SELECTIVE_TEXT = [[  # ~1%: one city in a hundred, compared folded ("malmö" finds "Malmö")
    {"property": "city", "operator": "eq", "value": "malmö"},
]]

SETS = [("typical (2 filters, ~50%)", TYPICAL, 100.0), ("selective (enum+date, ~1%)", SELECTIVE, 5.0),
        ("selective (text eq, ~1%)", SELECTIVE_TEXT, 5.0)]


def generate(n: int) -> float:
    """Insert n contacts in one statement; returns seconds taken."""
    stages = [name for name, _ in get_props("contact")["lifecycle_stage"].options]
    now_us = to_micros(NOW)
    t0 = time.perf_counter()
    cities = ", ".join(f"({k}, '{c}')" for k, c in enumerate(CITIES))
    stage_rows = ", ".join(f"({k}, '{s}')" for k, s in enumerate(stages))
    select = f"""
        SELECT 'First' || (i % 997), 'Last' || (i % 1009), 'p' || i || '@example.com', s.name,
               c.name, {now_us} - ((i * 7919) % 730) * {DAY_US} - ((i * 104729) % 86400) * 1000000,
               {now_us} - ((i * 31) % 400) * {DAY_US}, {now_us}
        FROM n JOIN st AS s ON s.k = (i * 2654435761) % {len(stages)}
               JOIN ci AS c ON c.k = (i * 40503) % {len(CITIES)}
    """
    columns = "firstname, lastname, email, lifecycle_stage, city, createdate, last_activity_date, updated_at"
    if is_postgres():
        sql = f"""
            INSERT INTO rec_contact ({columns})
            WITH n(i) AS (SELECT generate_series(1, {n})::bigint),
                 st(k, name) AS (VALUES {stage_rows}), ci(k, name) AS (VALUES {cities})
            {select}""".replace("%", "%%")  # psycopg2 reads a bare % as a placeholder
    else:
        sql = f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}),
                 st(k, name) AS (VALUES {stage_rows}), ci(k, name) AS (VALUES {cities})
            INSERT INTO rec_contact ({columns}) {select}"""
    with db.atomic():
        db.execute_sql(sql)
    if is_postgres():
        vacuum_analyze()
    return time.perf_counter() - t0


def vacuum_analyze() -> None:
    """PostgreSQL: statistics for the planner, and the visibility map that lets it
    answer a count from the index alone (autovacuum would get there later)."""
    conn = db.connection()
    before = conn.autocommit
    conn.autocommit = True  # VACUUM refuses to run inside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE rec_contact")
    finally:
        conn.autocommit = before


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median milliseconds over ``repeat`` runs after one warm-up run."""
    result = fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), result


def plan(groups) -> str:
    model = record_model("contact")
    sql, params = model.select(model.id).where(C.compile_criteria(groups, "contact", now=NOW, tz=TZ)).sql()
    if is_postgres():
        rows = db.execute_sql("EXPLAIN " + sql, params).fetchall()
        return " / ".join(r[0].strip() for r in rows[:3])
    rows = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(r[-1] for r in rows)


def sql_only_ms(groups, repeat: int) -> float:
    """The count query alone, compiled once: what the database spends."""
    import peewee as pw

    model = record_model("contact")
    query = model.select(pw.fn.COUNT(pw.SQL("*"))).where(C.compile_criteria(groups, "contact", now=NOW, tz=TZ))
    sql, params = query.sql()
    return timed(lambda: db.execute_sql(sql, params).fetchone()[0], repeat)[0]


def full_scan_ms(groups, repeat: int) -> float:
    """The same count with every index ruled out (SQLite NOT INDEXED / seqscan only)."""
    model = record_model("contact")
    import peewee as pw

    query = model.select(pw.fn.COUNT(pw.SQL("*"))).where(C.compile_criteria(groups, "contact", now=NOW, tz=TZ))
    sql, params = query.sql()
    if is_postgres():
        def run():
            with db.atomic():
                db.execute_sql("SET LOCAL enable_indexscan = off")
                db.execute_sql("SET LOCAL enable_bitmapscan = off")
                db.execute_sql("SET LOCAL enable_indexonlyscan = off")
                return db.execute_sql(sql, params).fetchone()[0]
    else:
        sql = sql.replace('FROM "rec_contact" AS "t1"', 'FROM "rec_contact" AS "t1" NOT INDEXED')

        def run():
            return db.execute_sql(sql, params).fetchone()[0]
    return timed(run, repeat)[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--db", help="SQLite path or postgresql:// URL (default: a new temp file)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    scratch = None if args.db else tempfile.mkdtemp(prefix="rota-criteria-bench-")
    target = args.db or os.path.join(scratch, "bench.db")
    try:
        return run(target, args)
    finally:
        if scratch:  # a million contacts is ~150 MB: do not leave it behind
            close_database()
            shutil.rmtree(scratch, ignore_errors=True)


def run(target: str, args) -> int:
    open_database(target)
    model = record_model("contact")
    existing = model.select().count()
    if existing == 0:
        print(f"generating {args.contacts:,} contacts …", flush=True)
        print(f"  generated in {generate(args.contacts):.1f} s")
    else:
        print(f"using the {existing:,} contacts already in {target}")
    stale = [name for _, groups, _ in SETS for name, _ in I.criteria_index_plan("contact", groups)]
    for name in stale:  # a reused database: measure the baseline without the advisor's indexes
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    total = model.select().count()
    backend = "PostgreSQL" if is_postgres() else "SQLite"
    print(f"{backend}: {total:,} contacts; now = {NOW.isoformat()}, tz = {TZ}\n")

    sets = SETS
    count = lambda g: lambda: C.count_matching("contact", g, now=NOW, tz=TZ)  # noqa: E731

    before = {}
    for label, groups, _ in sets:
        ms, n = timed(count(groups), args.repeat)
        scan = full_scan_ms(groups, min(args.repeat, 3))
        before[label] = (ms, scan)
        print(f"{label:28} {n:>9,} match ({n / total:6.2%})  without advisor: {ms:8.1f} ms   "
              f"full scan: {scan:8.1f} ms")
        print(f"{'':28} plan: {plan(groups)}")

    print("\nensure_criteria_indexes …")
    for label, groups, _ in sets:
        t0 = time.perf_counter()
        names = I.ensure_criteria_indexes("contact", groups)
        print(f"  {label:28} {', '.join(names) or '(none)'} in {time.perf_counter() - t0:.1f} s")
    if is_postgres():
        vacuum_analyze()
    print()
    for label, groups, goal in sets:
        ms, n = timed(count(groups), args.repeat)
        planner_ms, scan = before[label]
        verdict = "meets" if ms < goal else "MISSES"
        print(f"{label:28} {n:>9,} match   with advisor: {ms:8.2f} ms  ({verdict} < {goal:g} ms)   "
              f"full scan / advisor = {scan / ms:6.1f}x   without advisor / advisor = {planner_ms / ms:6.1f}x")
        print(f"{'':28} of which SQL: {sql_only_ms(groups, args.repeat):.2f} ms (the rest: validation and "
              f"compilation, property look-up)")
        print(f"{'':28} plan: {plan(groups)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
