"""Benchmark: counting contacts by a property of their company (issue 13 §2).

Target: with 1,000,000 contacts and 100,000 companies, a count with one association
filter ("Company · Number of Employees > 500") takes under 200 ms.

    python tests/bench/bench_associations.py                       # temp SQLite file
    python tests/bench/bench_associations.py --contacts 200000 --companies 20000
    python tests/bench/bench_associations.py --db postgresql://postgres@127.0.0.1:5432/test

The records and links come from the demo loader (set-based: bulk insert, then one
INSERT … SELECT per association). The baseline, measured in the same run, is the same
count before the advisor has indexed the company table, and a count on an own
property of the contact for scale. A script that measures and prints, not a timed test.
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

import peewee as pw

from engine.demo import load_demo
from models import criteria as C
from models import indexes as I
from models.bootstrap import open_database
from models.db import close_database, db, is_postgres
from models.objects import record_model

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
BIG_COMPANY = [[{"association": "company", "property": "num_employees", "operator": "gt", "value": 500}]]
OWN = [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]]


def timed(groups, runs: int, general: bool = False) -> tuple[float, int]:
    """Median ms of ``count_matching`` (or, ``general``, of COUNT(*) over the compiled
    semi-join: the path enrollment's INSERT … SELECT takes)."""
    model = record_model("contact")
    times, count = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        if general:
            where = C.compile_criteria(groups, "contact", now=NOW, tz="UTC")
            count = model.select(pw.fn.COUNT(pw.SQL("*"))).where(where).scalar()
        else:
            count = C.count_matching("contact", groups, now=NOW, tz="UTC")
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--companies", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", default=None, help="SQLite path or postgresql:// URL (default: a temp file)")
    args = ap.parse_args()
    tmp = None
    target = args.db
    if target is None:
        tmp = tempfile.mkdtemp(prefix="rota-bench-assoc-")
        target = os.path.join(tmp, "bench.db")
    try:
        open_database(target)
        if is_postgres():
            for table in ("association_link", "rec_contact", "rec_company"):
                db.execute_sql(f'TRUNCATE "{table}" RESTART IDENTITY CASCADE')
        t0 = time.perf_counter()
        out = load_demo(contacts=args.contacts, companies=args.companies, deals=0, tickets=0, workflows=False,
                        now=NOW)
        print(f"{'PostgreSQL' if is_postgres() else 'SQLite'}: loaded {out['contacts']:,} contacts, "
              f"{out['companies']:,} companies, {out['links']:,} links in {time.perf_counter() - t0:.1f} s")
        if is_postgres():
            db.execute_sql("ANALYZE")
        base_ms, base_n = timed(BIG_COMPANY, args.runs)
        own_ms, own_n = timed(OWN, args.runs)
        names = I.ensure_criteria_indexes("contact", BIG_COMPANY)
        db.execute_sql("ANALYZE")
        ms, n = timed(BIG_COMPANY, args.runs)
        general_ms, general_n = timed(BIG_COMPANY, args.runs, general=True)
        assert n == base_n == general_n, (n, base_n, general_n)
        print(f"baseline  company.num_employees > 500, no advisor index: {base_ms:8.1f} ms  ({base_n:,} contacts)")
        print(f"baseline  own property (lifecycle stage is customer):     {own_ms:8.1f} ms  ({own_n:,} contacts)")
        print(f"general   semi-join COUNT(*) (the enrollment path), indexed: {general_ms:8.1f} ms  ({general_n:,})")
        print(f"indexed   company.num_employees > 500 ({', '.join(names)}): {ms:8.1f} ms  ({n:,} contacts)"
              f"  target < 200 ms: {'met' if ms < 200 else 'MISSED'}")
    finally:
        close_database()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
