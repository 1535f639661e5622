"""Benchmark: ``rota import`` of a large CSV file, this tree against /work/baseline.

    python tests/bench/bench_import.py                   # 1,000,000 rows
    python tests/bench/bench_import.py --rows 200000

Both trees import the same generated file into a fresh SQLite file through the real
command (a subprocess each, stderr a pipe, so no progress line is drawn). This tree is
timed twice more in-process: with a progress callback (what a TTY or the app's
ProgressBar gets) and without, to show what the NUL check and progress reports cost.
A script that measures and prints, not a timed test.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path("/work/baseline")
sys.path.insert(0, str(ROOT))

from models.bootstrap import open_database  # noqa: E402
from models.db import close_database  # noqa: E402
from models.importer import import_csv  # noqa: E402


def make_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("Email,First Name,Last Name,Lifecycle Stage,Create Date\n")
        stages = ("Lead", "Customer", "Subscriber", "Opportunity")
        for i in range(rows):
            f.write(f"p{i}@example.com,Person {i},Family {i % 977},{stages[i % 4]},"
                    f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T10:{i % 60:02d}\n")


def run_command(tree: Path, db: Path, csv: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), ROTA_TIMEZONE="UTC")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())",
                    "--db", str(db), "import", "contact", str(csv)],
                   cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        csv = tmpdir / "contacts.csv"
        make_csv(csv, args.rows)
        print(f"{args.rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB CSV, SQLite")
        if BASELINE.is_dir():
            seconds = run_command(BASELINE, tmpdir / "base.db", csv)
            print(f"  baseline  rota import     {seconds:6.1f} s  {args.rows / seconds:>9,.0f} rows/s")
        seconds = run_command(ROOT, tmpdir / "this.db", csv)
        print(f"  this tree rota import     {seconds:6.1f} s  {args.rows / seconds:>9,.0f} rows/s")
        reports = []
        for label, progress in (("no progress", None), ("with progress", reports.append)):
            db = tmpdir / f"inproc-{label.replace(' ', '-')}.db"
            open_database(str(db))
            started = time.perf_counter()
            import_csv("contact", csv, tz_name="UTC", progress=progress)
            seconds = time.perf_counter() - started
            close_database()
            print(f"  this tree in-process, {label:<13} {seconds:6.1f} s  {args.rows / seconds:>9,.0f} rows/s")
        print(f"  progress reports: {len(reports):,} (one per 2,000-row batch)")


if __name__ == "__main__":
    main()
