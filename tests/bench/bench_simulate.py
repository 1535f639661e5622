"""Benchmark: simulate a year of a daily schedule over 1,000,000 contacts (issue 12: < 10 s).

Run it as a script (it is not a test): ``python tests/bench/bench_simulate.py [N] [--pg URL]``.
The workflow has one relative-date filter (``createdate more_than_days_ago 30``) and a
suppression (``email unknown``), so each of the 365 runs has its own count. It prints:

- the simulation's time (``engine.simulate.simulate``: one scan per batch of dates);
- the baseline, measured in the same run: the naive way, one ``COUNT`` per occurrence
  for criteria and one for suppression, timed on a sample of runs and scaled to 365;
- a check that both ways give the same counts on that sample.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date, datetime

import peewee as pw

from engine import simulate as sim
from engine import workflows
from models import criteria as crit
from models.bootstrap import open_database
from models.db import db, is_postgres
from models.objects import record_model
from models.timeutil import UTC, to_micros

CRITERIA = [[{"property": "createdate", "operator": "more_than_days_ago", "value": 30}]]
SUPPRESSION = [[{"property": "email", "operator": "unknown"}]]
SAMPLE = 8


def seed(n: int, origin: datetime) -> None:
    """n contacts created one every few minutes over the two years before ``origin``."""
    span = 2 * 365 * 86400 * 1_000_000
    base = to_micros(origin) - span
    if is_postgres():
        source, prefix = f"SELECT i FROM generate_series(1, {n}) AS g(i)", ""
    else:
        prefix = f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) "
        source = "SELECT i FROM c"
    mod = "%%" if is_postgres() else "%"
    with db.atomic():
        db.execute_sql(
            f"{prefix}INSERT INTO rec_contact (email, lifecycle_stage, firstname, createdate, updated_at) "
            f"SELECT CASE WHEN s.i {mod} 7 = 0 THEN NULL ELSE 'u' || s.i || '@example.com' END, 'lead', 'Ann', "
            f"{base} + (CAST(s.i AS BIGINT) * {span // n}), {base} FROM ({source}) AS s")


def naive(occurrences: list, tz: str) -> list[tuple[int, int]]:
    """One COUNT per occurrence for criteria-and-not-suppressed and one for suppressed."""
    model = record_model("contact")
    out = []
    for occ in occurrences:
        where = crit.compile_criteria(CRITERIA, "contact", now=occ.scheduled_for, tz=tz)
        supp = crit.compile_criteria(SUPPRESSION, "contact", now=occ.scheduled_for, tz=tz, empty=False)
        enroll = model.select(pw.fn.COUNT(pw.SQL("*"))).where(where & ~supp).scalar()
        suppressed = model.select(pw.fn.COUNT(pw.SQL("*"))).where(where & supp).scalar()
        out.append((int(enroll), int(suppressed)))
    return out


def main(n: int = 1_000_000, url: str | None = None) -> None:
    folder = tempfile.mkdtemp(prefix="rota-bench-sim-")
    open_database(url or os.path.join(folder, "bench.db"))
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    seed(n, origin)
    seed_s = time.perf_counter() - started
    workflows.save_workflow({"name": "Bench daily", "object_type": "contact", "status": "draft",
                             "schedule": {"kind": "daily", "time": "08:00", "timezone": "Europe/Stockholm"},
                             "criteria": CRITERIA, "suppression": SUPPRESSION}, now=origin, actor="bench")

    ticks = []
    started = time.perf_counter()
    found = sim.simulate("Bench daily", date(2026, 1, 1), date(2026, 12, 31),
                         progress=lambda done, total: ticks.append(done))
    sim_s = time.perf_counter() - started

    sample = found[:: max(1, len(found) // SAMPLE)][:SAMPLE]
    started = time.perf_counter()
    expected = naive(sample, "Europe/Stockholm")
    naive_each = (time.perf_counter() - started) / len(sample)
    same = sum(exp == (o.would_enroll, o.suppressed) for exp, o in zip(expected, sample))

    print(f"database:                 {'PostgreSQL' if is_postgres() else 'SQLite'}, {n:,} contacts "
          f"(seeded in {seed_s:.1f} s)")
    print(f"runs simulated:           {len(found)} (a year of a daily schedule), "
          f"counts {found[0].would_enroll:,} .. {found[-1].would_enroll:,}")
    print(f"simulate:                 {sim_s:.2f} s   target < 10 s: {'OK' if sim_s < 10 else 'MISSED'}   "
          f"(progress reported {len(ticks)} times)")
    print(f"naive, per occurrence:    {naive_each:.3f} s -> {naive_each * len(found):.1f} s for {len(found)} "
          f"(timed on {len(sample)})")
    print(f"ratio naive / simulate:   {naive_each * len(found) / sim_s:.1f}x")
    print(f"sample check vs naive:    {same}/{len(sample)} equal")
    if hasattr(os, "getloadavg"):
        print(f"load average (1 min):     {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine)")


if __name__ == "__main__":
    args = sys.argv[1:]
    pg = None
    if "--pg" in args:
        pg = args[args.index("--pg") + 1]
        del args[args.index("--pg"):args.index("--pg") + 2]
    if pg:
        from tests.dbutil import fresh_pg_schema
        with fresh_pg_schema(pg) as url:  # a schema of its own, dropped afterwards
            main(int(args[0]) if args else 1_000_000, url)
    else:
        main(int(args[0]) if args else 1_000_000)
