"""Network work never holds up a scheduled run (issue 10 item 2).

500 contacts are enrolled in a workflow whose only step is a webhook to a local
endpoint that answers after 10 s; an unrelated workflow is due every minute on the
real clock. The engine runs in this process on the system clock, as ``rota engine``
does. Printed:

- baseline: the unrelated workflow's lateness with no webhook load (first minute);
- under load: its lateness in each following minute while the 500 webhooks are in
  flight (the figure that must stay under 1 s);
- how many webhooks were answered meanwhile, and the largest number the endpoint
  saw at once (the per-host limit);
- the shutdown: how long ``stop`` took with webhooks still in flight (bounded by the
  grace, default 10 s), and that their claims were released and recorded as retries.

Runs about ``--minutes`` + 1 minutes (default 3 minutes of load). SQLite in a temporary
directory; the endpoint on 127.0.0.1 only.

    python tests/bench/bench_isolation.py [--minutes 3] [--records 500] [--answer-after 10]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.engine import Engine
from engine.events import RunFinished
from engine.workflows import save_workflow
from models.bootstrap import open_database
from models.db import db
from models.schema import Enrollment, HistoryEvent
from models.timeutil import UTC
from tests.engine.engine_proc import seed_contacts


class SlowEndpoint(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, delay: float):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.answered = 0
        self.stopping = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        server: SlowEndpoint = self.server  # type: ignore[assignment]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with server.lock:
            server.current += 1
            server.peak = max(server.peak, server.current)
        server.stopping.wait(server.delay)
        with server.lock:
            server.current -= 1
            server.answered += 1
        try:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=3, help="minutes of load to measure")
    ap.add_argument("--records", type=int, default=500)
    ap.add_argument("--answer-after", type=float, default=10.0)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rota-bench-isolation-"))
    url = str(tmp / "bench.db")
    open_database(url)
    now = datetime.now(UTC)
    seed_contacts(args.records, now - timedelta(days=1))  # odd ids are customers
    endpoint = SlowEndpoint(args.answer_after)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{endpoint.server_address[1]}/hook"

    # The unrelated workflow: every minute, one set-property step on leads.
    save_workflow({"name": "Unrelated", "object_type": "contact", "status": "active",
                   "schedule": {"kind": "cron", "cron": "* * * * *", "timezone": "UTC"},
                   "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead"]}]],
                   "actions": [{"type": "set_property", "property": "city", "value": "Touched"}]},
                  actor="bench", now=now)

    lags: list[tuple[datetime, float]] = []

    def on_event(event) -> None:
        if isinstance(event, RunFinished) and event.workflow_name == "Unrelated" and event.run_id:
            lags.append((event.scheduled_for, event.lag_ms))
            print(f"  Unrelated ran for {event.scheduled_for:%H:%M}: {event.lag_ms:.1f} ms late; endpoint has "
                  f"{endpoint.current} requests open, {endpoint.answered} answered", flush=True)

    engine = Engine(url, on_event=on_event)
    engine.start()
    print(f"engine started; one plain minute (baseline), then {args.records} webhooks "
          f"answering after {args.answer_after:.0f} s", flush=True)
    while len(lags) < 1:
        time.sleep(0.2)
    # Load: every contact enrolls once in the webhook workflow at the next minute,
    # together with the unrelated workflow's run.
    t_load = datetime.now(UTC)
    at = (t_load + timedelta(minutes=1)).strftime("%H:%M")  # once, with the unrelated workflow's next run
    save_workflow({"name": "Slow hooks", "object_type": "contact", "status": "active",
                   "schedule": {"kind": "daily", "time": at, "timezone": "UTC"},
                   "criteria": [[{"property": "firstname", "operator": "eq", "value": "Ann"}]],
                   "actions": [{"type": "webhook", "url": hook_url, "timeout_s": 60, "retries": 3}]},
                  actor="bench", now=t_load)
    baseline = list(lags)
    deadline = time.monotonic() + 60 * (args.minutes + 1) + 5
    # The first loaded minute runs together with the webhook workflow's enrolling run;
    # then ``--minutes`` more with the webhooks in flight.
    while time.monotonic() < deadline and len(lags) < len(baseline) + 1 + args.minutes:
        time.sleep(0.5)
    loaded = lags[len(baseline):]

    in_flight_before = endpoint.current
    t0 = time.monotonic()
    ended = engine.stop(timeout=60)
    stop_s = time.monotonic() - t0
    endpoint.stopping.set()
    db.connect(reuse_if_open=True)
    claimed = Enrollment.select().where(Enrollment.claimed_by.is_null(False)).count()
    retries = HistoryEvent.select().where(HistoryEvent.type == "step_retry").count()
    succeeded = HistoryEvent.select().where(HistoryEvent.type == "step_succeeded").count()
    enrolled = Enrollment.select().count()

    def fmt(rows):
        return ", ".join(f"{at:%H:%M} {ms:.1f} ms" for at, ms in rows) or "none"

    print(f"baseline (no webhooks):   {fmt(baseline)}")
    print(f"under load ({args.records} slow webhooks in flight): {fmt(loaded)}")
    worst = max((ms for _, ms in loaded), default=float("nan"))
    print(f"worst lateness under load: {worst:.1f} ms (must stay under 1000 ms)")
    print(f"endpoint: {endpoint.answered} answered, at most {endpoint.peak} at once; {in_flight_before} in flight "
          f"at stop; enrollments {enrolled}, steps succeeded {succeeded}")
    print(f"stop with webhooks in flight: {stop_s:.1f} s (clean={ended}); claims still held: {claimed}; "
          f"retries recorded: {retries}")
    endpoint.shutdown()
    return 0 if loaded and worst < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
