"""Where the engine gets the time from, and how it waits for it.

The engine never calls ``datetime.now()`` or ``time.sleep()`` itself: it asks its clock.
``SystemClock`` is the real thing; ``FakeClock`` is moved by tests (``advance`` /
``set``), so a month of schedules runs in milliseconds and a clock that jumps backwards
or forwards is one method call. ``ScaledClock`` runs N times faster than real time from
a shared origin, so several engine *processes* agree on a fast-moving time (the
multi-engine and crash tests).

Every wait is "until this instant, or until ``event`` is set" — the engine's wake-up
event — never a fixed-interval poll.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Protocol

from models.timeutil import UTC

# A real wait is cut into slices of at most this long so that a wall-clock jump
# (NTP step, suspend/resume) is noticed: the deadline is re-checked against the clock.
_MAX_SLICE_S = 60.0


class Clock(Protocol):
    def now(self) -> datetime: ...

    def wait(self, event: threading.Event, deadline: datetime | None) -> bool:
        """Block until ``deadline`` (clock time) or until ``event`` is set; True if set."""
        ...


class SystemClock:
    """The machine's clock, aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, event: threading.Event, deadline: datetime | None) -> bool:
        while not event.is_set():
            if deadline is None:
                timeout = _MAX_SLICE_S
            else:
                timeout = (deadline - self.now()).total_seconds()
                if timeout <= 0:
                    return False
                timeout = min(timeout, _MAX_SLICE_S)
            if event.wait(timeout):
                return True
        return True


class ScaledClock(SystemClock):
    """Real time sped up ``speed`` times from ``origin_real`` (a ``time.time()``).

    Several processes given the same origin agree on "now" to within their clocks'
    precision; used by tests that run several engine processes through hours of
    schedule in seconds.
    """

    def __init__(self, origin: datetime, speed: float, origin_real: float | None = None):
        self.origin = origin
        self.speed = float(speed)
        self.origin_real = time.time() if origin_real is None else origin_real

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.time() - self.origin_real) * self.speed)

    def wait(self, event: threading.Event, deadline: datetime | None) -> bool:
        while not event.is_set():
            if deadline is None:
                timeout = _MAX_SLICE_S
            else:
                timeout = (deadline - self.now()).total_seconds() / self.speed
                if timeout <= 0:
                    return False
                timeout = min(timeout, _MAX_SLICE_S)
            if event.wait(timeout):
                return True
        return True


class FakeClock:
    """A clock that only moves when told to. Waits end when the clock reaches the deadline.

    ``advance`` and ``set`` wake every waiter so that an engine thread sleeping on this
    clock re-checks what is due; in single-threaded tests (``Engine.run_pending``) the
    clock is simply read.
    """

    def __init__(self, start: datetime | None = None):
        if start is None:
            start = datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._cond = threading.Condition()
        self._waiters: set[threading.Event] = set()

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` — forwards or backwards."""
        if instant.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        with self._cond:
            self._now = instant.astimezone(UTC)
            waiters = list(self._waiters)
            self._cond.notify_all()
        for event in waiters:
            event.set()
        return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        return self.set(self.now() + delta)

    def wait(self, event: threading.Event, deadline: datetime | None) -> bool:
        """Return at once if the deadline has passed; else block until moved or woken.

        Moving the clock sets ``event`` (the caller re-evaluates, which is what a wake-up
        means), so there is no real-time timeout here: a fake clock never sleeps.
        """
        with self._cond:
            if event.is_set():
                return True
            if deadline is not None and self._now >= deadline:
                return False
            self._waiters.add(event)
        try:
            event.wait()
            return True
        finally:
            with self._cond:
                self._waiters.discard(event)
