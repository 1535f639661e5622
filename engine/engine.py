"""The engine: a loop that sleeps until the next thing is due, then does it.

Shape (after APScheduler 4's scheduler loop): the store (the database) owns persistence
and claiming; each active workflow's next run time lives in ``workflow.next_run_at``
(indexed); the loop asks for the earliest one, sleeps on its clock until then or until
it is woken, processes what is due, and repeats. There is no fixed-interval poll of due
work.

What wakes it
* In-process changes: ``engine.changes.subscribe`` calls :meth:`Engine.wake` after
  every committed change (schedule, status, activation, pause, delete) and after a
  manual enrollment.
* Changes made by another process:
  - SQLite: the loop also wakes to renew its lease (every ``lease_seconds / 3``); each
    wake-up re-reads the earliest ``next_run_at`` (one indexed lookup, well under a
    millisecond), so another operator's edit is noticed within one renewal interval
    (default 5 s). SQLite has no cross-process notification to do better cheaply.
  - PostgreSQL: a listener thread (``engine.changes.listen``) holds a
    ``LISTEN rota_engine`` connection and wakes the loop on every ``NOTIFY`` (sent by
    ``engine.changes.notify_changed`` after every change and manual enrollment); the
    lease renewal is the fallback.
* Shutdown (:meth:`Engine.stop`, Ctrl-C, SIGTERM in ``rota engine``) and, under a
  ``FakeClock``, every move of the clock. Real-clock waits are cut into slices of at
  most a minute so that a wall-clock step (NTP, suspend) is noticed.

On time: on the real clock the loop wakes ``lead`` (25 ms) before the earliest instant,
claims the workflow and plans the misfires, then starts the run on the instant itself;
a run never starts before its instant. A wake-up with nothing due costs two indexed
reads; the lease row is written only every third of its term.

Several engines, one database: each keeps a heartbeat; on SQLite one holds the store
lease and the others stand by; on PostgreSQL all share the due runs by row locks; the
unique keys make duplicates impossible (engine/lease.py tells it whole).

Errors: a database error (locked, read-only, disk full, lost connection) rolls the run
transaction back whole; the loop reports it, backs off exponentially (0.5 s … 30 s,
in clock time) and retries. Nothing is half-written because every run is one
transaction. A run that fails for a reason of its own is recorded ``failed`` and its
workflow backs off alone (engine/run_failure.py).
What one pass runs is engine/runner.py's (runs) and engine/executor.py's (steps).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import peewee as pw

from engine import changes, executor, network_pass
from engine.clock import Clock, SystemClock
from engine.events import EngineError, EngineEvent, EngineStatus, Misfire, RunFailed, RunFinished, RunStarted, StepsRan
from engine.lease import Lease, stop_network
from engine.run_failure import write_failure
from engine.runner import Outcome, process_next_due
from engine.steps import run_network
from models.bootstrap import open_database
from models.db import db
from models.enums import RunStatus
from models.settings import Settings, load_settings
from models.store import claims
from models.store.dialect import classify_error, dialect
from models.timeutil import iso_z

log = logging.getLogger("rota.engine")

DEFAULT_LEASE_SECONDS = 15.0
DEFAULT_LEAD = timedelta(milliseconds=25)
HELD_RETRY = timedelta(milliseconds=250)  # a due workflow another engine holds: look again after this
# The engine's own SQLite connection: a run appends in key order and scans records once,
# so a small page cache and no memory map serve it as well as the app's 256 MiB cache
# and 1 GiB map would, and keep the engine's memory flat during a 1,000,000-record run.
ENGINE_SQLITE_PRAGMAS = {"cache_size": -32768, "mmap_size": 0}
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0


def new_engine_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Status:
    running: bool = False
    active: bool = False  # holds the store lease (SQLite) / claims work (PostgreSQL)
    next_wake_at: datetime | None = None
    lag_ms: float | None = None
    last_error: str | None = None
    runs: int = 0


class Engine:
    """The scheduling engine. ``start()`` runs it in a daemon thread; ``run_pending()``
    does one synchronous pass (``rota engine --once``, tests)."""

    def __init__(self, db_url: str | None = None, *, clock: Clock | None = None, engine_id: str | None = None,
                 on_event: Callable[[EngineEvent], None] | None = None, settings: Settings | None = None,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS, lead: timedelta | None = None,
                 stop_grace: float = run_network.DEFAULT_GRACE_S):
        self.db_url = db_url
        self.stop_grace = float(stop_grace)  # how long calls in flight get when stopping
        self.clock: Clock = clock or SystemClock()
        self.engine_id = engine_id or new_engine_id()
        self.on_event = on_event
        self._settings = settings
        self.lease_seconds = float(lease_seconds)
        # On the real clock the loop wakes a little before an instant, claims it and
        # prepares, then starts the run on the instant: lateness is then the OS's timer
        # precision, not the preparation time. Fake clocks get no lead (exact tests).
        if lead is None:
            lead = DEFAULT_LEAD if type(self.clock) is SystemClock else timedelta(0)
        self.lead = lead
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._status = Status()
        self._status_lock = threading.Lock()
        self._lease = Lease(self.engine_id, self.lease_seconds)
        self._pass_lock = threading.Lock()  # run_pending from another thread never overlaps the loop's pass
        self._attempt: Outcome | None = None  # the run being started (for failures)
        # Network calls (webhooks, e-mail) go to this engine's pool; one coming back wakes
        # the loop, and their claims last one heartbeat lease (renewed while alive).
        run_network.attach(self.engine_id, on_done=self.wake, hold=timedelta(seconds=self.lease_seconds))

    # ------------------------------------------------------------------ public API

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def status(self) -> Status:
        with self._status_lock:
            return self._status

    def start(self) -> Engine:
        """Start the engine thread (a daemon: it never keeps the app alive)."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._ensure_database()
        self._stopping.clear()
        run_network.attach(self.engine_id, on_done=self.wake, hold=timedelta(seconds=self.lease_seconds))
        self._subscribe()
        self._thread = threading.Thread(target=self._run, name=f"rota-engine-{self.engine_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> bool:
        """Ask the loop to finish: the transaction in progress commits or rolls back whole.

        Returns True if the thread ended within ``timeout`` seconds.
        """
        self._stopping.set()
        self._wake.set()
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        ended = True
        if self._thread is not None:
            self._thread.join(timeout)
            ended = not self._thread.is_alive()
        if self._listener is not None:
            self._listener.join(min(timeout, 2))
        return ended

    def wake(self, workflow_id: int | None = None) -> None:
        """Re-check what is due now (thread-safe, cheap, callable from any thread)."""
        self._wake.set()

    def run_pending(self, now: datetime | None = None) -> int:
        """Process everything due at ``now`` (default: the clock) in this thread.

        Returns the number of workflow occurrences handled (runs, plus missed or
        coalesced instants). Does not need the store lease: every run transaction
        re-reads its workflow under the write lock, and unique keys refuse duplicates.
        """
        self._ensure_database()
        with self._pass_lock:
            handled = self._process_due(now)
            # Drain the steps due now (a run may enroll more than one round's worth).
            for _ in range(10_000):  # bounded: a step that keeps itself due cannot spin forever
                if not self._run_steps(now or self.clock.now()) and not run_network.wait(self.engine_id):
                    break  # (only here, never in the loop, is the network waited for)
        return handled

    # ------------------------------------------------------------------ the loop

    def _ensure_database(self) -> None:
        if db.obj is None:
            open_database(self.db_url)

    def _subscribe(self) -> None:
        # changes.notify_changed also tells engines in other processes (PostgreSQL NOTIFY).
        self._unsubscribe = changes.subscribe(self.wake)

    def _run(self) -> None:
        self._set_status(running=True)
        backoff = 0.0
        try:
            db.connect(reuse_if_open=True)
            tune_connection()
            self._listener = changes.listen(self._wake.set, self._stopping, self.db_url)
            while not self._stopping.is_set():
                try:
                    self._wake.clear()
                    if db.is_closed():  # after an error: a fresh connection, tuned again
                        db.connect(reuse_if_open=True)
                        tune_connection()
                    deadline = self._one_pass()
                    if backoff:  # recovered: the error is history (it stays in the log)
                        self._set_status(last_error=None)
                    backoff = 0.0
                except (pw.DatabaseError, pw.InterfaceError, OSError) as exc:
                    backoff = min(max(backoff * 2, BACKOFF_MIN_S), BACKOFF_MAX_S)
                    # The retry time is fixed before the error is announced: a listener
                    # that reacts to the event (or a clock moved meanwhile) cannot push it.
                    deadline = self.clock.now() + timedelta(seconds=backoff)
                    self._report_error(exc, backoff)
                    self._reset_connection()
                except Exception as exc:  # never let the thread die silently
                    log.exception("engine pass failed")
                    backoff = min(max(backoff * 2, BACKOFF_MIN_S), BACKOFF_MAX_S)
                    deadline = self.clock.now() + timedelta(seconds=backoff)
                    self._report_error(exc, backoff)
                if self._stopping.is_set():
                    break
                self._set_status(next_wake_at=deadline)
                self._emit_status()
                self.clock.wait(self._wake, deadline)
        finally:
            stop_network(self.engine_id, self.clock.now(), self.stop_grace)
            try:
                self._lease.release()
            except (pw.DatabaseError, pw.InterfaceError):
                pass
            self._set_status(running=False, active=False)
            self._emit_status()
            try:
                db.close()
            except (pw.DatabaseError, pw.InterfaceError):
                pass

    def _one_pass(self) -> datetime | None:
        """Renew the lease if it is time, process what is due, return when to wake next.

        A wake-up with nothing due costs two indexed reads (earliest next run time,
        earliest due step); the lease is written only every ``lease_seconds / 3``.
        """
        now = self.clock.now()
        if self._lease.renew_at is None or now >= self._lease.renew_at or not self.status.active:
            self._set_status(active=self._lease.hold(now))
            network_pass.renew_network_claims(self.engine_id, now)  # the heartbeat of calls in flight
        if not self.status.active or self._stopping.is_set():
            return self._lease.renew_at
        with self._pass_lock:
            next_run = claims.next_due_at()
            if next_run is not None and next_run <= now + self.lead:
                self._process_due(None)
                next_run = claims.next_due_at()
                again = self.clock.now()
                if next_run is not None and next_run <= again + self.lead and not self._stopping.is_set():
                    # Still due: another engine holds it (PostgreSQL: its row lock; or a
                    # killed engine's session that has not noticed yet). Look again
                    # shortly rather than spin on the database until it commits.
                    next_run = again + self.lead + HELD_RETRY
            next_step = executor.next_step_due(self.engine_id)
            if (next_step is not None and next_step <= self.clock.now()) or run_network.has_results(self.engine_id):
                self._run_steps(self.clock.now())
                next_step = executor.next_step_due(self.engine_id)
        wake_for_run = next_run - self.lead if next_run is not None else None
        present = [d for d in (self._lease.renew_at, wake_for_run, next_step) if d is not None]
        return min(present) if present else None

    def _process_due(self, now: datetime | None) -> int:
        handled = 0
        while not self._stopping.is_set():
            at = now or self.clock.now()
            self._attempt = None
            try:
                outcome = process_next_due(
                    at, self.engine_id, settings=self.settings,
                    clock_now=(lambda at=at: at) if now else self.clock.now,
                    lead=timedelta(0) if now else self.lead, sleep_until=self._sleep_until,
                    on_start=self._report_start)
            except Exception as exc:
                # The run transaction rolled back whole. The database's own trouble
                # (locked, full, read-only, disconnected) is everyone's: the loop backs
                # off. Anything else is this workflow's: a failed run, and the others go on.
                problem = classify_error(exc)
                attempt = self._attempt
                if attempt is None or problem.transient:
                    raise
                log.debug("run of %s failed", attempt.workflow_name, exc_info=True)
                handled += 1
                self._fail_run(attempt.workflow_id, attempt.workflow_name, attempt.scheduled_for,
                               problem.message, at, horizon=at + (timedelta(0) if now else self.lead))
                continue
            if outcome is None:
                break
            handled += self._report_outcome(outcome, at)
            if now is None and self._lease.renew_at is not None and self.clock.now() >= self._lease.renew_at:
                # A batch of long runs must not let the lease lapse: renew between runs.
                self._set_status(active=self._lease.hold(self.clock.now()))
                if not self.status.active:
                    break
        return handled

    def _sleep_until(self, instant: datetime) -> None:
        """Wait out the last few milliseconds before an instant claimed early (see lead)."""
        if not self._stopping.is_set():
            self.clock.wait(threading.Event(), instant)

    def _run_steps(self, now: datetime) -> int:
        """One round of due action steps (engine/executor.py claims its own rows).

        The loop does one round per pass: if more are due, ``next_step_due`` is already
        past and the loop comes straight back, after checking for due runs first.
        """
        if self._stopping.is_set():
            return 0
        count = executor.run_due_steps(now, self.engine_id)
        if count:
            self._emit(StepsRan(at=now, count=count))
        return count

    # ------------------------------------------------------------------ reporting

    def _report_start(self, outcome: Outcome, started: datetime) -> None:
        self._attempt = outcome
        self._emit(RunStarted(at=started, workflow_id=outcome.workflow_id, workflow_name=outcome.workflow_name,
                              scheduled_for=outcome.scheduled_for, lag_ms=outcome.lag_ms or 0.0))

    def _report_outcome(self, outcome: Outcome, now: datetime) -> int:
        handled = len(outcome.missed) + len(outcome.coalesced)
        for status, instants in ((RunStatus.MISSED, outcome.missed), (RunStatus.COALESCED, outcome.coalesced)):
            if instants:
                self._emit(Misfire(at=now, workflow_id=outcome.workflow_id, workflow_name=outcome.workflow_name,
                                   status=status, scheduled_for=tuple(instants)))
        run = outcome.run
        if outcome.failed:
            # The runner recorded the failed run and moved the workflow on; add the
            # event, the notification and the back-off in the same way as above.
            self._fail_run(outcome.workflow_id, outcome.workflow_name, run.scheduled_for if run else None,
                           outcome.failed, now, horizon=None)
            return handled + 1
        if run is not None:
            handled += 1
            lag = outcome.lag_ms or 0.0
            self._emit(RunFinished(
                at=self.clock.now(), workflow_id=outcome.workflow_id, workflow_name=outcome.workflow_name,
                run_id=run.id, scheduled_for=run.scheduled_for, status=RunStatus(run.status), matched=run.matched,
                enrolled=run.enrolled, suppressed=run.suppressed, duration_ms=outcome.duration_ms, lag_ms=lag,
                skipped_in_progress=run.skipped_in_progress or 0))
            with self._status_lock:
                self._status = replace(self._status, lag_ms=lag if outcome.lag_ms is not None else self._status.lag_ms,
                                       runs=self._status.runs + 1)
            if outcome.lag_ms is not None:
                log.info("ran %s for %s: %d enrolled, %d suppressed, %d skipped in progress, %.1f ms late",
                         outcome.workflow_name, iso_z(run.scheduled_for), run.enrolled, run.suppressed,
                         run.skipped_in_progress or 0, lag)
        return handled

    def _fail_run(self, workflow_id: int, workflow_name: str, at: datetime | None, message: str, now: datetime,
                  *, horizon: datetime | None) -> None:
        """A run of this workflow cannot be evaluated: record it and move the workflow on
        (engine/run_failure.py says what is written), then a ``RunFailed`` event.
        ``horizon`` is set when the run transaction rolled back."""
        written = write_failure(workflow_id, at, message, now, horizon=horizon, engine_id=self.engine_id,
                                settings=self.settings)
        in_a_row, nxt = written.in_a_row, written.next_run_at
        log.error("run of %s for %s failed (%d in a row; next run %s): %s", workflow_name, iso_z(at) or "?",
                  in_a_row, iso_z(nxt) or "none", message)
        with self._status_lock:
            self._status = replace(self._status, runs=self._status.runs + 1)
        self._emit(RunFailed(at=self.clock.now(), workflow_id=workflow_id, workflow_name=workflow_name,
                             run_id=written.run_id, scheduled_for=at, status=RunStatus.FAILED, matched=0, enrolled=0,
                             suppressed=0, duration_ms=0.0, lag_ms=0.0, detail=message, in_a_row=in_a_row,
                             next_run_at=nxt))

    def _report_error(self, exc: BaseException, retry_in: float) -> None:
        message = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        log.warning("engine error, retrying in %.1f s: %s", retry_in, message)
        self._set_status(last_error=message)
        self._emit(EngineError(at=self.clock.now(), message=message, retry_in_s=retry_in))

    def _reset_connection(self) -> None:
        """After an error the connection may be dead (PG restart) or mid-transaction: start afresh."""
        try:
            db.close()
        except Exception:  # a dead connection or a broken transaction: drop the state
            try:
                db.obj._state.reset()
            except Exception:
                pass

    def _set_status(self, **changes) -> None:
        with self._status_lock:
            self._status = replace(self._status, **changes)

    def _emit_status(self) -> None:
        s = self.status
        self._emit(EngineStatus(at=self.clock.now(), engine_id=self.engine_id, running=s.running, active=s.active,
                                next_wake_at=s.next_wake_at, lag_ms=s.lag_ms, last_error=s.last_error))

    def _emit(self, event: EngineEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a broken listener must not stop the engine
            log.exception("engine event callback failed")


def tune_connection() -> None:
    """Apply the engine's connection settings to this thread's connection (SQLite)."""
    dialect().tune_sqlite(ENGINE_SQLITE_PRAGMAS)


def run_headless(engine: Engine, *, install_signals: bool = True, announce=None) -> int:
    """``rota engine``: run until Ctrl-C, SIGTERM or SIGHUP, then stop cleanly.

    The signal handlers only set a flag; the engine thread finishes (commits or rolls
    back) the transaction in progress and releases its lease. ``announce(engine)`` is
    called once the handlers are in place and the thread runs.
    """
    stop = threading.Event()
    if install_signals:
        def on_signal(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGHUP, on_signal)  # the terminal it was started from closed
    engine.start()
    if announce is not None:
        announce(engine)
    try:
        while not stop.is_set() and engine._thread is not None and engine._thread.is_alive():
            stop.wait(1.0)
    finally:
        ended = engine.stop(timeout=60)
    return 0 if ended else 1
