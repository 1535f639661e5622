"""The network pool: webhooks and e-mail leave the engine loop.

A bounded set of worker threads runs *jobs* — rendered requests (a webhook, an
e-mail), each tied to an enrollment and a step position — outside any database
transaction. The engine loop submits and moves on; it never waits on a socket.

- **Bounded:** at most ``workers`` jobs run at once; the rest queue.
- **Per host:** at most ``per_host`` jobs run against one host at a time, so one slow
  endpoint cannot take every worker (other hosts' jobs are picked first while it is
  saturated). Hosts are served round-robin.
- **Non-blocking results:** ``collect()`` returns the jobs finished since the last
  call and never waits; ``on_done`` (the engine's ``wake``) is called when one
  finishes, so the loop comes back to apply it.
- **Shutdown:** ``shutdown(grace)`` stops taking jobs, drops the queue, waits at most
  ``grace`` seconds for the running ones, and returns every job that did not finish
  (queued or still running), for the caller to record as retries and release. A job
  still running after that is abandoned: its thread is a daemon and its result is
  never reported.

Jobs carry no database handles: the worker threads never touch the database.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("rota.network")

DEFAULT_WORKERS = 32
DEFAULT_PER_HOST = 8
IDLE_S = 30.0  # an idle worker thread ends after this long


@dataclass(eq=False)
class Job:
    """One network call for one enrollment at one step."""

    enrollment_id: int
    position: tuple
    host: str
    call: Callable[[], Any]  # runs in a worker thread; must not touch the database
    context: Any = None  # what the caller needs to apply the outcome (workflow, tries, …)
    submitted: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> tuple[int, tuple]:
        return (self.enrollment_id, tuple(self.position))


@dataclass(eq=False)
class Done:
    job: Job
    result: Any = None
    error: BaseException | None = None  # the call raised (a bug: callers return failures as values)
    elapsed_s: float = 0.0


class NetworkPool:
    def __init__(self, workers: int = DEFAULT_WORKERS, per_host: int = DEFAULT_PER_HOST,
                 on_done: Callable[[], None] | None = None, name: str = "rota-net"):
        if workers < 1 or per_host < 1:
            raise ValueError("workers and per_host must be 1 or more")
        self.workers = workers
        self.per_host = per_host
        self.on_done = on_done
        self._cond = threading.Condition()
        self._queues: OrderedDict[str, deque[Job]] = OrderedDict()  # host → waiting jobs, round-robin order
        self._running_by_host: dict[str, int] = {}
        self._running: set[Job] = set()
        self._keys: set[Hashable] = set()
        self._done: list[Done] = []
        self._closing = False
        self._name = name
        self._threads = 0  # started lazily, up to ``workers``; an idle one ends after IDLE_S
        self._idle = 0
        self._serial = 0

    def _grow(self) -> None:
        """Start a worker when more jobs wait than idle workers could take (under the lock)."""
        waiting = sum(len(q) for q in self._queues.values())
        if waiting > self._idle and self._threads < self.workers:
            self._threads += 1
            self._serial += 1
            threading.Thread(target=self._work, name=f"{self._name}-{self._serial}", daemon=True).start()

    # ------------------------------------------------------------------ public

    def submit(self, job: Job) -> bool:
        """Queue ``job``; never blocks. False when the pool is shutting down or the same
        enrollment and step is already queued or running (it is never sent twice)."""
        with self._cond:
            if self._closing or job.key in self._keys:
                return False
            self._keys.add(job.key)
            self._queues.setdefault(job.host, deque()).append(job)
            self._grow()
            self._cond.notify()
            return True

    def collect(self) -> list[Done]:
        """The jobs finished since the last call (never waits)."""
        with self._cond:
            done, self._done = self._done, []
            for d in done:
                self._keys.discard(d.job.key)
            return done

    def in_flight(self) -> list[Job]:
        """Jobs queued or running, not yet collected as done."""
        with self._cond:
            return [*self._running, *(j for q in self._queues.values() for j in q)]

    def has(self, key: tuple[int, tuple]) -> bool:
        with self._cond:
            return key in self._keys

    def __len__(self) -> int:
        """Jobs queued, running, or finished but not collected."""
        with self._cond:
            return len(self._keys)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running (for ``run_pending`` and tests; the
        engine loop never calls it). True when idle."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._running or any(self._queues.values()):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def shutdown(self, grace: float) -> list[Job]:
        """Stop: drop the queue, give running jobs ``grace`` seconds, and return every
        job that did not finish (results of those that did stay for ``collect``)."""
        with self._cond:
            self._closing = True
            unfinished = [j for q in self._queues.values() for j in q]
            self._queues.clear()
            self._cond.notify_all()
            deadline = time.monotonic() + max(0.0, grace)
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            unfinished.extend(self._running)
            self._running.clear()  # abandoned: a late finish is not reported
            for j in unfinished:
                self._keys.discard(j.key)
            return unfinished

    @property
    def closed(self) -> bool:
        return self._closing

    # ------------------------------------------------------------------ workers

    def _next_job_ready(self) -> bool:
        return any(q and self._running_by_host.get(h, 0) < self.per_host for h, q in self._queues.items())

    def _next_job(self) -> Job | None:
        """The first queued job whose host has room (round-robin over hosts)."""
        for host in list(self._queues):
            queue = self._queues[host]
            if not queue:
                del self._queues[host]
                continue
            if self._running_by_host.get(host, 0) >= self.per_host:
                continue
            job = queue.popleft()
            self._queues.move_to_end(host)  # the next pick starts with another host
            if not queue:
                del self._queues[host]
            return job
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                job = None
                while not self._closing:
                    job = self._next_job()
                    if job is not None:
                        break
                    self._idle += 1
                    woken = self._cond.wait(IDLE_S)
                    self._idle -= 1
                    if not woken and self._next_job_ready() is False:
                        break
                if job is None:
                    self._threads -= 1
                    return
                self._running.add(job)
                self._running_by_host[job.host] = self._running_by_host.get(job.host, 0) + 1
            started = time.monotonic()
            result, error = None, None
            try:
                result = job.call()
            except BaseException as exc:
                log.exception("network job for enrollment %s failed", job.enrollment_id)
                error = exc
            with self._cond:
                self._running_by_host[job.host] -= 1
                if not self._running_by_host[job.host]:
                    del self._running_by_host[job.host]
                if job in self._running:  # else abandoned by shutdown
                    self._running.discard(job)
                    self._done.append(Done(job, result, error, time.monotonic() - started))
                    reported = True
                else:
                    reported = False
                self._cond.notify_all()
            if reported and self.on_done is not None:
                try:
                    self.on_done()
                except Exception:  # a broken listener must not kill a worker
                    log.exception("network on_done callback failed")
