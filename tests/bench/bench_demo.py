"""Benchmark: 1,000,000 demo contacts into a fresh SQLite file (target: under 60 s).

Prints figures; it is not a test. Run: python tests/bench/bench_demo.py [N]
Also times the naive way (one ``create_record`` per row) on a sample, extrapolated to
N, to show what the bulk path buys.
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from engine.demo import CONTACT_COLUMNS, contact_rows, load_demo
from models import db as dbmod
from models.objects import create_record, record_model
from models.timeutil import from_micros, to_micros, utcnow

TARGET_S = 60.0


def main(n: int = 1_000_000, sample: int = 1_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dbmod.open_database(str(Path(tmp) / "bench.db"))
        t0 = time.perf_counter()
        result = load_demo(contacts=n, companies=0, deals=0, tickets=0, workflows=False)
        bulk_s = time.perf_counter() - t0
        stored = record_model("contact").select().count()
        dbmod.close_database()

        dbmod.open_database(str(Path(tmp) / "naive.db"))
        now = utcnow()
        rows = list(contact_rows(random.Random(1), sample, to_micros(now)))
        t0 = time.perf_counter()
        with dbmod.db.atomic():  # the naive loop at its best: one transaction, no per-row commit
            for row in rows:
                values = dict(zip(CONTACT_COLUMNS, row))
                for k in ("last_activity_date", "createdate", "updated_at"):
                    values[k] = from_micros(values[k])
                create_record("contact", values, now=now)
        naive_s = (time.perf_counter() - t0) / sample * n
        dbmod.close_database()

    print(f"load_demo: {n:,} contacts in {bulk_s:.1f} s ({n / bulk_s:,.0f} rows/s); stored {stored:,}")
    print(f"target {TARGET_S:.0f} s: {'met' if bulk_s < TARGET_S else 'MISSED'} "
          f"({bulk_s / TARGET_S:.0%} of the budget)")
    print(f"baseline create_record loop: {sample:,} rows measured, {naive_s:.1f} s extrapolated to {n:,} "
          f"({n / naive_s:,.0f} rows/s)")
    print(f"speed-up: {naive_s / bulk_s:.1f}x")
    assert result["contacts"] == n


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
