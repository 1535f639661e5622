"""How long the app takes to quit with its engine running (issue 14 §6: under 0.5 s, the
engine's thread stopped at a safe point), on this tree and on /work/baseline (or
$ROTA_BASELINE), each in its own interpreter, one after the other.

Each run: a demo database, the real app in Textual's headless pilot with the engine
thread started, a wait until the engine reports running, then "q" and the time until
the app has exited and the engine thread has ended. Prints the figures; not a test.

    python tests/bench/bench_app.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]

INNER = r'''
import asyncio, sys, time, threading
try:
    from models.bootstrap import open_database
except ImportError:
    from models.db import open_database
from engine.demo import load_demo
from tui.app import RotaApp

path = sys.argv[1]
open_database(path)
load_demo(contacts=2000, companies=100, deals=100, tickets=100)

async def main():
    app = RotaApp(path, run_engine=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):
            if app.engine is not None and app.engine_status is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        engine = app.engine
        start = time.perf_counter()
        await pilot.press("q")
    quit_s = time.perf_counter() - start
    alive = engine is not None and engine._thread is not None and engine._thread.is_alive()
    print(f"{quit_s:.4f} {int(alive)}")

asyncio.run(main())
'''


def one_run(tree: Path) -> tuple[float, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(tree), "ROTA_CONFIG": str(Path(tmp) / "none.toml")}
        done = subprocess.run([sys.executable, "-c", INNER, str(Path(tmp) / "bench.db")], cwd=tree, env=env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"{tree}: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
        seconds, alive = done.stdout.split()[-2:]
        return float(seconds), alive == "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    baseline = Path(os.environ.get("ROTA_BASELINE", "/work/baseline"))
    trees = [("this tree", HERE)] + ([("baseline", baseline)] if baseline.is_dir() else [])
    for label, tree in trees:
        results = [one_run(tree) for _ in range(args.runs)]
        times = [t for t, _ in results]
        print(f"quit with the engine running ({label}): median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms over {len(times)} runs; engine thread still alive after quit: "
              f"{sum(alive for _, alive in results)} of {len(results)}")


if __name__ == "__main__":
    main()
