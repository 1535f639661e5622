"""Benchmark: the schedule section of the editor under a pilot (issue 14 §6: kind switch < 100 ms).

Run it as a script (it is not a test): ``python tests/bench/bench_editor.py [ROUNDS]``.
It opens the real workflow editor on a fresh SQLite file with 2,000 demo contacts and
prints, as medians over the rounds:

- switching the schedule kind (Select changed → screen refreshed): the forms of every
  kind are built once and shown or hidden;
- the preview worker (next five runs with notes, and a year of DST warnings) and the
  projected counts worker;
- the baseline, measured in the same run: building a fresh schedule form (what a
  re-render from scratch would cost) and the same preview computed inline, on the UI
  thread, as the editor did before.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime

from textual.widgets import Select

from engine.demo import load_demo
from engine.schedule.describe import upcoming_with_notes
from models.bootstrap import open_database
from models.timeutil import UTC
from tests.tui.test_editor import editor_host, settle
from tui.widgets.schedule_form import ScheduleForm

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KINDS = ["daily", "weekly", "monthly", "yearly", "cron"]
BODY = {"name": "Bench", "object_type": "contact", "status": "draft",
        "schedule": {"kind": "weekly", "weekdays": ["mon"], "time": "08:00", "timezone": "Europe/Stockholm"},
        "criteria": [[{"property": "createdate", "operator": "more_than_days_ago", "value": 30}]],
        "suppression": [], "unenrollment": [], "actions": [], "settings": {"pause_dates": ["2026-03-09"]}}


async def measure(rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"switch": [], "preview": [], "counts": [], "fresh_form": [], "inline": []}
    app = editor_host(BODY, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = app.screen.query_one(ScheduleForm)
        freq = form.query_one("#sf-freq", Select)
        for _ in range(rounds):
            for kind in KINDS:
                started = time.perf_counter()
                freq.value = kind
                await pilot.pause()  # the Changed message handled and the screen refreshed
                times["switch"].append(time.perf_counter() - started)
                schedule = form.schedule
                if schedule is None:
                    continue
                started = time.perf_counter()
                form.compute_preview(schedule, NOW, {datetime(2026, 3, 9).date()})
                await settle(pilot)
                times["preview"].append(time.perf_counter() - started)
                started = time.perf_counter()
                form.refresh_projection()
                await settle(pilot)
                times["counts"].append(time.perf_counter() - started)
                # Baselines: the preview on the UI thread, and a form built from scratch.
                started = time.perf_counter()
                upcoming_with_notes(schedule, NOW, 5)
                schedule.warnings(NOW)
                times["inline"].append(time.perf_counter() - started)
        for _ in range(rounds):
            started = time.perf_counter()
            fresh = ScheduleForm(BODY["schedule"], default_timezone="UTC", operator_timezone="UTC")
            await app.screen.mount(fresh)
            await pilot.pause()
            times["fresh_form"].append(time.perf_counter() - started)
            await fresh.remove()
    return times


def main(rounds: int = 5) -> None:
    folder = tempfile.mkdtemp(prefix="rota-bench-editor-")
    open_database(os.path.join(folder, "bench.db"))
    load_demo(contacts=2000, companies=0, deals=0, tickets=0, seed=7, now=NOW, workflows=False)
    times = asyncio.run(measure(rounds))

    def ms(key: str) -> str:
        values = times[key]
        return f"{statistics.median(values) * 1000:7.1f} ms median, {max(values) * 1000:7.1f} ms max ({len(values)})"

    switch = statistics.median(times["switch"]) * 1000
    print(f"kind switch (show/hide):      {ms('switch')}   target < 100 ms: {'OK' if switch < 100 else 'MISSED'}")
    print(f"preview worker (runs, DST):   {ms('preview')}   (off the UI thread, debounced)")
    print(f"projected counts worker:      {ms('counts')}   (2,000 contacts, relative dates)")
    print(f"baseline: preview inline:     {ms('inline')}   (what the UI thread paid per keystroke before)")
    print(f"baseline: build a fresh form: {ms('fresh_form')}   (a re-render from scratch)")
    if hasattr(os, "getloadavg"):
        print(f"load average (1 min):         {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
