"""Benchmark: action steps over whole runs (issue 15). Prints figures; not a test.

    python tests/bench/bench_steps.py [--records 1000000] [--runs 5] [--pg] [--no-engine] [--limit L]

Each case enrolls every contact by one scheduled run, then runs the steps. Printed,
measured in the same run on the same database:

* the raw ceiling: the bare SQL that does a step's work for the whole run, in one
  transaction: the record ``UPDATE … WHERE id IN (SELECT record_id FROM enrollment
  WHERE run_id = ?)``, one ``history_event`` row per record (the per-record layout,
  three indexes) and the pointer ``UPDATE`` — and the record ``UPDATE`` alone, and the
  three with a templated value built by ``||`` (the templated case's ceiling);
* constant ``set_property`` through the executor (``run_due_steps`` until nothing is
  due), steps/s and its ratio to the ceiling (targets ≥ 300,000/s and ≥ 0.5×);
* templated ``set_property`` (``Hi {firstname}``; target ≥ 150,000/s);
* a 3-step workflow (set, copy, create_task) run by ``rota engine`` itself, from the
  run's start to every enrollment completed (target ≤ 15 s), and the engine process's
  memory growth meanwhile (peak RSS, ``VmHWM``, less the idle engine's RSS; target
  < 100 MB). The workflow is saved with a schedule whose instant is due as the engine
  starts, so the engine enrolls and runs it as it would any workflow; the workflows of
  the other cases are paused once measured, so the engine has nothing else to do;
* with ``--pg``: constant ``set_property`` on PostgreSQL beside its own ceiling
  (target ≥ 100,000/s).

``--runs N`` repeats everything on fresh databases and prints each figure's runs and
median. The machine may be shared: the load average is printed at the start and the
end; say so when you report the numbers.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("ROTA_CONFIG", str(Path(tempfile.gettempdir()) / "rota-bench-none.toml"))
os.environ.setdefault("ROTA_TIMEZONE", "UTC")

from engine import executor, runner, workflows  # noqa: E402
from engine.engine import tune_connection  # noqa: E402
from models.bootstrap import open_database  # noqa: E402
from models.db import close_database, db, is_postgres  # noqa: E402
from models.schema import Enrollment, Run, Workflow  # noqa: E402
from models.timeutil import UTC, to_micros, utcnow  # noqa: E402
from tests.dbutil import fresh_pg_schema, pg_base_url  # noqa: E402
from tests.engine.engine_proc import seed_contacts  # noqa: E402

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
DAILY = {"kind": "daily", "time": "08:00", "timezone": "UTC"}
CONSTANT = [{"type": "set_property", "property": "city", "value": "Stockholm"}]
TEMPLATED = [{"type": "set_property", "property": "jobtitle", "value": "Hi {firstname}"}]
THREE = [{"type": "set_property", "property": "country", "value": "SE"},
         {"type": "copy_property", "from": "firstname", "to": "lastname"},
         {"type": "create_task", "title": "Call {firstname}", "due_in_days": 1}]


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _enroll(name: str, actions: list[dict], at: datetime) -> Run:
    """A run of a new workflow at ``at`` (a schedule instant), by the runner the engine
    uses; the workflow is paused by ``_done`` once its case is measured."""
    wf = workflows.save_workflow({"name": name, "object_type": "contact", "status": "active", "schedule": DAILY,
                                  "criteria": [], "suppression": [], "actions": actions}, actor="bench", now=T0)
    return runner.execute_run(Workflow.get_by_id(wf.id), at, now=at)


def _done(name: str) -> None:
    """Pause a measured case's workflow: its next run would otherwise come due (its
    schedule started at T0) for the engine case's ``rota engine``."""
    workflows.set_status(name, "paused", actor="bench")


def _drain(at: datetime, limit: int) -> tuple[int, float]:
    steps, t = 0, time.perf_counter()
    while True:
        ran = executor.run_due_steps(at, "bench", limit=limit)
        if not ran:
            return steps, time.perf_counter() - t
        steps += ran


def _ceiling(run: Run, n: int, value: str = "'Ceiling'", detail: str | None = None) -> tuple[float, float]:
    """The bare statements for a set over the run (rolled back): (all three, update alone) rows/s.
    ``value`` is the SQL of the value, ``detail`` of the history row's detail."""
    at = to_micros(T0 + timedelta(days=30))
    cols = '"workflow_id", "at", "type", "record_id", "run_id", "enrollment_id", "scheduled_for", "step", "detail"'
    join = "" if detail is None else " JOIN rec_contact AS r ON r.id = e.record_id"
    detail = detail or "'{\"action\":\"set_property\",\"value\":\"Ceiling\",\"path\":\"1\"}'"
    with db.atomic() as txn:
        t = time.perf_counter()
        db.execute_sql(f"UPDATE rec_contact SET jobtitle = {value}, updated_at = {at} WHERE id IN "
                       f"(SELECT record_id FROM enrollment WHERE run_id = {run.id})")
        update_s = time.perf_counter() - t
        db.execute_sql(f"INSERT INTO history_event ({cols}) SELECT e.workflow_id, {at}, 'step_succeeded', e.record_id, "
                       f"e.run_id, e.id, {at}, 1, {detail} FROM enrollment AS e{join} WHERE e.run_id = {run.id}")
        db.execute_sql(f"UPDATE enrollment SET state = 'done', step = 1, next_step_at = NULL WHERE run_id = {run.id}")
        total_s = time.perf_counter() - t
        txn.rollback()
    return n / total_s, n / update_s


def _templated_ceiling(run: Run, n: int) -> float:
    """The same with the value built by ``||`` from a record column, as the templated step does."""
    value = "'Hi ' || COALESCE(firstname, '')"
    obj = "json_build_object('value', r.jobtitle)::text" if is_postgres() else "json_object('value', r.jobtitle)"
    return _ceiling(run, n, value, obj)[0]


def _engine_case(url: str, n: int, day: int) -> tuple[float, float, float]:
    """``rota engine`` runs a due 3-step workflow: seconds from the run's start to
    every enrollment done, of which the enrollment itself, and the process's peak RSS
    growth.

    The workflow's daily schedule is at the next UTC minute at least 8 s away, so its
    next run time (computed by the store from the schedule, as for any workflow) is
    that minute: the engine starts, settles (its RSS then is the baseline) and runs the
    workflow when it comes due, on time.
    """
    wall = utcnow()
    due = (wall + timedelta(seconds=68)).replace(second=0, microsecond=0)
    schedule = {"kind": "daily", "time": due.strftime("%H:%M"), "timezone": "UTC"}
    wf = workflows.save_workflow({"name": f"Engine {day}", "object_type": "contact", "status": "active",
                                  "schedule": schedule, "criteria": [], "suppression": [], "actions": THREE},
                                 actor="bench", now=wall)
    assert Workflow.get_by_id(wf.id).next_run_at == due
    close_database()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())",
                             "engine", "--db", url], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(max((due - utcnow()).total_seconds() - 1.0, 0))
        rss0 = _rss_mb(proc.pid)  # started, schema checked, idle until the run is due
        open_database(url)
        enrolled = None  # when the run's enrollment was seen committed (to 0.1 s)
        while True:
            time.sleep(0.1)
            if proc.poll() is not None:
                raise RuntimeError(f"rota engine exited with {proc.returncode}")
            run = Run.get_or_none(Run.workflow == wf.id)
            if run is None or run.started_at is None or run.status == "running":
                continue
            enrolled = enrolled or utcnow()
            if not Enrollment.select().where(Enrollment.next_step_at.is_null(False)
                                             & (Enrollment.run == run.id)).exists():
                done = utcnow()
                break
        peak = _rss_mb(proc.pid, "VmHWM")
        assert run.status == "succeeded", (run.status, run.detail)
        assert Enrollment.select().where((Enrollment.run == run.id) & (Enrollment.state == "done")).count() == n
        return (done - run.started_at).total_seconds(), (enrolled - run.started_at).total_seconds(), peak - rss0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def one_run(url: str, n: int, limit: int, engine: bool) -> dict[str, float]:
    open_database(url)
    tune_connection()
    out: dict[str, float] = {}
    kind = "PostgreSQL" if is_postgres() else "SQLite"
    t = time.perf_counter()
    with db.atomic():
        seed_contacts(n, T0 - timedelta(days=10))
    if is_postgres():
        db.execute_sql("ANALYZE")
    print(f"  {kind}: seeded {n:,} contacts in {time.perf_counter() - t:.1f} s", flush=True)

    run = _enroll("Ceiling", CONSTANT, T0 + timedelta(days=1, hours=1))
    out["ceiling rows/s"], out["record UPDATE alone rows/s"] = _ceiling(run, n)
    if not is_postgres():
        out["templated ceiling rows/s"] = _templated_ceiling(run, n)
    Enrollment.update(state="done", next_step_at=None).where(Enrollment.run == run.id).execute()
    _done("Ceiling")
    if is_postgres():
        # The ceiling's rolled-back million rows (history, records, enrollments) are dead
        # tuples until autovacuum comes by; the measured case would otherwise pay for
        # them (e.g. MAX(id) over history_event scans them). Its own dead rows it keeps.
        db.execute_sql("VACUUM ANALYZE")

    _enroll("Constant", CONSTANT, T0 + timedelta(days=2, hours=1))
    steps, secs = _drain(T0 + timedelta(days=2, hours=1), limit)
    assert steps == n, steps
    _done("Constant")
    out["constant set_property steps/s"] = steps / secs
    out["ratio to ceiling"] = out["constant set_property steps/s"] / out["ceiling rows/s"]
    if not is_postgres():
        _enroll("Templated", TEMPLATED, T0 + timedelta(days=3, hours=1))
        steps, secs = _drain(T0 + timedelta(days=3, hours=1), limit)
        assert steps == n, steps
        _done("Templated")
        out["templated set_property steps/s"] = steps / secs
        out["templated ratio to ceiling"] = out["templated set_property steps/s"] / out["templated ceiling rows/s"]
        if engine:
            secs, enrolling, growth = _engine_case(url, n, 4)
            out["3-step workflow by rota engine s"] = secs
            out["  of which the enrollment s"] = enrolling
            out["engine memory growth MB"] = growth
    for key, value in out.items():
        print(f"    {key:<36} {value:>12,.2f}", flush=True)
    close_database()
    return out


def _report(title: str, runs: list[dict[str, float]], targets: dict[str, str]) -> None:
    print(title)
    for key in runs[0]:
        values = [r[key] for r in runs]
        each = ", ".join(f"{v:,.2f}" for v in values)
        print(f"  {key:<36} median {statistics.median(values):>12,.2f}   runs: {each}  {targets.get(key, '')}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=executor.BATCH)
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL, a fresh schema on $ROTA_TEST_PG_URL")
    parser.add_argument("--no-engine", action="store_true", help="skip the rota engine case")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    sqlite, pg = [], []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            sqlite.append(one_run(str(Path(tmp) / "bench.db"), args.records, args.limit, not args.no_engine))
        if args.pg:
            base = pg_base_url()
            if not base:
                print("set ROTA_TEST_PG_URL for --pg", file=sys.stderr)
                return 2
            with fresh_pg_schema(base) as url:
                pg.append(one_run(url, args.records, args.limit, False))
    print(f"load average at end: {os.getloadavg()}")
    print(f"{args.runs} run(s), each figure's median and every run's value:")
    _report(f"SQLite, {args.records:,} enrollments of one run, batches of {args.limit:,}:", sqlite, {
        "constant set_property steps/s": "(target >= 300,000)", "ratio to ceiling": "(target >= 0.5)",
        "templated set_property steps/s": "(target >= 150,000)",
        "3-step workflow by rota engine s": "(target <= 15)", "engine memory growth MB": "(target < 100)"})
    if pg:
        _report(f"PostgreSQL, {args.records:,} enrollments of one run:", pg,
                {"constant set_property steps/s": "(target >= 100,000)"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
