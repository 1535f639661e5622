"""Benchmark: 1,000,000 demo contacts into a fresh SQLite file (target: under 60 s).

Prints figures; it is not a test.

    python tests/bench/bench_demo.py [N] [--sample S] [--pg URL] [--import-rows M]

Also times the naive way (one ``create_record`` per row, in one transaction) on a
sample, extrapolated to N, to show what the bulk path buys; optionally the same load on
PostgreSQL, and ``rota import`` of an M-row CRM-style CSV file.
"""
from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from engine.demo import CONTACT_COLUMNS, contact_rows, load_demo
from models import bootstrap
from models import db as dbmod
from models.importer import import_csv
from models.objects import create_record, record_model
from models.timeutil import from_micros, to_micros, utcnow

TARGET_S = 60.0


def _bulk(url: str, n: int) -> float:
    bootstrap.open_database(url)
    try:
        t0 = time.perf_counter()
        result = load_demo(contacts=n, companies=0, deals=0, tickets=0, workflows=False)
        seconds = time.perf_counter() - t0
        assert result["contacts"] == n and record_model("contact").select().count() >= n
    finally:
        dbmod.close_database()
    return seconds


def _naive(url: str, sample: int) -> float:
    """Seconds per row of the per-record path, at its best (one transaction)."""
    bootstrap.open_database(url)
    try:
        now = utcnow()
        rows = list(contact_rows(random.Random(1), sample, to_micros(now)))
        t0 = time.perf_counter()
        with dbmod.db.atomic():
            for row in rows:
                values = dict(zip(CONTACT_COLUMNS, row))
                for k in ("last_activity_date", "createdate", "updated_at"):
                    values[k] = from_micros(values[k])
                create_record("contact", values, now=now)
        return (time.perf_counter() - t0) / sample
    finally:
        dbmod.close_database()


def _import(tmp: Path, m: int) -> float:
    """Seconds to import an m-row CRM-style export (labels as headers, local wall times)."""
    src = str(tmp / "src.db")
    bootstrap.open_database(src)
    load_demo(contacts=m, companies=0, deals=0, tickets=0, workflows=False)
    path = tmp / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["First Name", "Last Name", "Email", "Phone", "City", "Country", "Job Title", "Owner",
                      "Lifecycle Stage", "Last Activity Date", "Create Date"])
        for r in record_model("contact").select().dicts().iterator():
            out.writerow([r["firstname"], r["lastname"], r["email"], r["phone"] or "", r["city"], r["country"],
                          r["jobtitle"] or "", r["owner"], (r["lifecycle_stage"] or "").replace("_", " ").title(),
                          r["last_activity_date"].strftime("%Y-%m-%d %H:%M") if r["last_activity_date"] else "",
                          r["createdate"].strftime("%Y-%m-%d %H:%M")])
    dbmod.close_database()
    bootstrap.open_database(str(tmp / "dst.db"))
    try:
        t0 = time.perf_counter()
        assert import_csv("contact", path, tz_name="Europe/Stockholm").count == m
        return time.perf_counter() - t0
    finally:
        dbmod.close_database()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=1_000, help="rows for the create_record baseline")
    ap.add_argument("--pg", metavar="URL", default=None, help="also time the load on this PostgreSQL database")
    ap.add_argument("--import-rows", type=int, default=0, help="also time importing a CSV of this many rows")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        bulk_s = _bulk(str(tmp_path / "bench.db"), args.n)
        per_row = _naive(str(tmp_path / "naive.db"), args.sample)
        naive_s = per_row * args.n
        print(f"SQLite load_demo: {args.n:,} contacts in {bulk_s:.1f} s ({args.n / bulk_s:,.0f} rows/s)")
        print(f"target {TARGET_S:.0f} s: {'met' if bulk_s < TARGET_S else 'MISSED'} "
              f"({bulk_s / TARGET_S:.0%} of the budget)")
        print(f"baseline create_record loop: {args.sample:,} rows measured, {naive_s:.0f} s extrapolated to "
              f"{args.n:,} ({1 / per_row:,.0f} rows/s); bulk is {naive_s / bulk_s:.0f}x faster")
        if args.pg:
            pg_s = _bulk(args.pg, args.n)
            print(f"PostgreSQL load_demo: {args.n:,} contacts in {pg_s:.1f} s ({args.n / pg_s:,.0f} rows/s)")
        if args.import_rows:
            imp_s = _import(tmp_path, args.import_rows)
            print(f"import_csv: {args.import_rows:,} rows in {imp_s:.1f} s ({args.import_rows / imp_s:,.0f} rows/s)")


if __name__ == "__main__":
    main()
