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

Several engines, one database
* SQLite: one engine at a time holds the ``store`` lease (``engine_lease`` row: holder,
  until, heartbeat), renews it while alive, and the others stand by and take it over
  when it expires. Only the holder runs workflows and steps.
* PostgreSQL: every engine takes part; each due workflow row is claimed with
  ``SELECT … FOR UPDATE SKIP LOCKED`` inside its run transaction, so engines on
  different machines share the due runs. Each engine keeps an ``engine:<id>`` lease
  row as its heartbeat (who is alive, for the status screen).
* Either way the unique keys (one run per (workflow, instant), one enrollment per (run,
  record)) make duplicates impossible, not merely unlikely.
* The lease is renewed between runs. One SQLite run longer than the lease term holds the
  write lock throughout, so no one can take the lease during it; a stand-by may take it
  right after the commit, which the in-transaction re-read and the unique keys make
  harmless (the old holder finds nothing due and steps down at its next renewal).

Errors: a database error (locked, read-only, disk full, lost connection) rolls the run
transaction back whole; the loop reports it, backs off exponentially (0.5 s … 30 s,
in clock time) and retries. Nothing is half-written because every run is one
transaction.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable

import peewee as pw

from engine import changes, executor, runner
from engine.steps import run_network
from engine.clock import Clock, SystemClock
from engine.events import EngineError, EngineEvent, EngineStatus, Misfire, RunFinished, RunStarted, StepsRan
from models.db import db, is_postgres
from models.bootstrap import open_database
from models.schema import EngineLease
from models.settings import Settings, load_settings
from models.timeutil import from_micros, iso_z

log = logging.getLogger("rota.engine")

STORE_LEASE = "store"
DEFAULT_LEASE_SECONDS = 15.0
DEFAULT_LEAD = timedelta(milliseconds=25)
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
        self._lease_until: datetime | None = None
        self._renew_at: datetime | None = None
        self._pass_lock = threading.Lock()  # run_pending from another thread never overlaps the loop's pass
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

    def start(self) -> "Engine":
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
                    self._report_error(exc, backoff)
                    self._reset_connection()
                    deadline = self.clock.now() + timedelta(seconds=backoff)
                except Exception as exc:  # never let the thread die silently
                    log.exception("engine pass failed")
                    backoff = min(max(backoff * 2, BACKOFF_MIN_S), BACKOFF_MAX_S)
                    self._report_error(exc, backoff)
                    deadline = self.clock.now() + timedelta(seconds=backoff)
                if self._stopping.is_set():
                    break
                self._set_status(next_wake_at=deadline)
                self._emit_status()
                self.clock.wait(self._wake, deadline)
        finally:
            self._stop_network()
            try:
                self._release_lease()
            except (pw.DatabaseError, pw.InterfaceError):
                pass
            self._set_status(running=False, active=False)
            self._emit_status()
            try:
                db.close()
            except (pw.DatabaseError, pw.InterfaceError):
                pass

    def _stop_network(self) -> None:
        """Give network calls in flight ``stop_grace`` seconds, record what came back,
        and record the rest as retries with their claims released."""
        try:
            db.connect(reuse_if_open=True)
            recorded, interrupted = executor.stop_network(self.engine_id, self.clock.now(), self.stop_grace)
            if recorded or interrupted:
                log.info("stopping: %d network calls recorded, %d interrupted and released as retries",
                         recorded, interrupted)
        except (pw.DatabaseError, pw.InterfaceError) as exc:
            log.warning("stopping: could not record network calls in flight (their leases run out): %s", exc)

    def _one_pass(self) -> datetime | None:
        """Renew the lease if it is time, process what is due, return when to wake next.

        A wake-up with nothing due costs two indexed reads (earliest next run time,
        earliest due step); the lease is written only every ``lease_seconds / 3``.
        """
        now = self.clock.now()
        if self._renew_at is None or now >= self._renew_at or not self.status.active:
            self._set_status(active=self._hold_lease(now))
            executor.renew_network_claims(self.engine_id, now)  # the heartbeat of calls in flight
        if not self.status.active or self._stopping.is_set():
            return self._renew_at
        with self._pass_lock:
            next_run = runner.next_due_at()
            if next_run is not None and next_run <= now + self.lead:
                self._process_due(None)
                next_run = runner.next_due_at()
            next_step = executor.next_step_due()
            if (next_step is not None and next_step <= self.clock.now()) or run_network.has_results(self.engine_id):
                self._run_steps(self.clock.now())
                next_step = executor.next_step_due()
        wake_for_run = next_run - self.lead if next_run is not None else None
        present = [d for d in (self._renew_at, wake_for_run, next_step) if d is not None]
        return min(present) if present else None

    def _process_due(self, now: datetime | None) -> int:
        handled = 0
        while not self._stopping.is_set():
            at = now or self.clock.now()
            outcome = runner.process_next_due(
                at, self.engine_id, settings=self.settings,
                clock_now=(lambda: at) if now else self.clock.now,
                lead=timedelta(0) if now else self.lead, sleep_until=self._sleep_until,
                on_start=self._report_start)
            if outcome is None:
                break
            handled += self._report_outcome(outcome, at)
            if now is None and self._renew_at is not None and self.clock.now() >= self._renew_at:
                # A batch of long runs must not let the lease lapse: renew between runs.
                self._set_status(active=self._hold_lease(self.clock.now()))
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

    # ------------------------------------------------------------------ leases

    def _hold_lease(self, now: datetime) -> bool:
        """SQLite: hold or take over the store lease. PostgreSQL: refresh our heartbeat.

        Sets ``_renew_at`` (a third of the lease) so the loop wakes to renew in time.
        """
        renew = timedelta(seconds=self.lease_seconds / 3)
        until = now + timedelta(seconds=self.lease_seconds)
        self._renew_at = now + renew
        if is_postgres():
            self._upsert_lease(f"engine:{self.engine_id}", now, until)
            return True
        with runner.write_transaction():
            EngineLease.insert(name=STORE_LEASE, holder=None, until=None, heartbeat=None).on_conflict_ignore().execute()
            taken = (EngineLease.update(holder=self.engine_id, until=until, heartbeat=now,
                                        info=f"pid {os.getpid()} on {socket.gethostname()}")
                     .where((EngineLease.name == STORE_LEASE)
                            & ((EngineLease.holder == self.engine_id) | EngineLease.holder.is_null()
                               | EngineLease.until.is_null() | (EngineLease.until < now)))
                     .execute())
        if taken:
            self._lease_until = until
            return True
        self._lease_until = None
        # Stand by: wake when the holder's lease would expire, to take it over.
        holder_until = EngineLease.select(EngineLease.until).where(EngineLease.name == STORE_LEASE).scalar()
        if holder_until is not None:
            expiry = from_micros(holder_until) if isinstance(holder_until, int) else holder_until
            self._renew_at = min(self._renew_at, expiry + timedelta(milliseconds=1))
        return False

    def _upsert_lease(self, name: str, now: datetime, until: datetime) -> None:
        p = db.obj.param
        t = EngineLease._meta.table_name
        db.execute_sql(
            f'INSERT INTO "{t}" ("name", "holder", "until", "heartbeat", "info") VALUES ({p}, {p}, {p}, {p}, {p}) '
            f'ON CONFLICT ("name") DO UPDATE SET "holder" = excluded."holder", "until" = excluded."until", '
            f'"heartbeat" = excluded."heartbeat", "info" = excluded."info"',
            (name, self.engine_id, runner.to_micros(until), runner.to_micros(now),
             f"pid {os.getpid()} on {socket.gethostname()}"),
        )

    def _release_lease(self) -> None:
        if db.obj is None:
            return
        if is_postgres():
            EngineLease.delete().where(EngineLease.name == f"engine:{self.engine_id}").execute()
        elif self._lease_until is not None:
            EngineLease.update(holder=None, until=None).where(
                (EngineLease.name == STORE_LEASE) & (EngineLease.holder == self.engine_id)).execute()
        self._lease_until = None

    # ------------------------------------------------------------------ reporting

    def _report_start(self, outcome: runner.Outcome, started: datetime) -> None:
        self._emit(RunStarted(at=started, workflow_id=outcome.workflow_id, workflow_name=outcome.workflow_name,
                              scheduled_for=outcome.scheduled_for, lag_ms=outcome.lag_ms or 0.0))

    def _report_outcome(self, outcome: runner.Outcome, now: datetime) -> int:
        handled = len(outcome.missed) + len(outcome.coalesced)
        for status, instants in (("missed", outcome.missed), ("coalesced", outcome.coalesced)):
            if instants:
                self._emit(Misfire(at=now, workflow_id=outcome.workflow_id, workflow_name=outcome.workflow_name,
                                   status=status, scheduled_for=tuple(instants)))
        run = outcome.run
        if run is not None or outcome.failed:
            handled += 1
            lag = outcome.lag_ms or 0.0
            self._emit(RunFinished(
                at=self.clock.now(), workflow_id=outcome.workflow_id, workflow_name=outcome.workflow_name,
                run_id=run.id if run else None, scheduled_for=run.scheduled_for if run else None,
                status="failed" if outcome.failed else run.status, matched=run.matched if run else 0,
                enrolled=run.enrolled if run else 0, suppressed=run.suppressed if run else 0,
                duration_ms=outcome.duration_ms, lag_ms=lag, detail=outcome.failed))
            with self._status_lock:
                self._status = replace(self._status, lag_ms=lag if outcome.lag_ms is not None else self._status.lag_ms,
                                       runs=self._status.runs + 1)
            if outcome.lag_ms is not None:
                log.info("ran %s for %s: %d enrolled, %d suppressed, %.1f ms late", outcome.workflow_name,
                         iso_z(run.scheduled_for) if run else "?", run.enrolled if run else 0,
                         run.suppressed if run else 0, lag)
        return handled

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
    if not is_postgres():
        for name, value in ENGINE_SQLITE_PRAGMAS.items():
            db.execute_sql(f"PRAGMA {name} = {int(value)}")


def run_headless(engine: Engine, *, install_signals: bool = True, announce=None) -> int:
    """``rota engine``: run until Ctrl-C or SIGTERM, then stop cleanly.

    The signal handlers only set a flag; the engine thread finishes (commits or rolls
    back) the transaction in progress and releases its lease. ``announce(engine)`` is
    called once the handlers are in place and the thread runs.
    """
    stop = threading.Event()
    if install_signals:
        def on_signal(signum, frame):  # noqa: ARG001 - signal API
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    engine.start()
    if announce is not None:
        announce(engine)
    try:
        while not stop.is_set() and engine._thread is not None and engine._thread.is_alive():
            stop.wait(1.0)
    finally:
        ended = engine.stop(timeout=60)
    return 0 if ended else 1
