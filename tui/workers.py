"""Database work from the UI, done one way.

Two decorators for screen (or widget) methods whose body talks to the database; the
body runs off the UI thread, inside ``db.connection_context()``, and its outcome comes
back as ``Worker.StateChanged`` to the node that started it:

``@db_read("group")``
    A thread worker, exclusive within its group on its node: a newer read supersedes
    an older one (the old result is dropped, never shown late). A screen that goes
    away takes its reads with it.

``@db_write("group")``
    A mutation. Mutations are never exclusive and never cancelled: each goes into the
    app's one serial write queue (a single thread, first in first out, so "clone, then
    delete the clone" runs in the order the operator pressed the keys), waited for by
    an app-level worker, and its outcome is always reported: to the screen that asked
    (``worker_succeeded`` / ``worker_error`` with an ``Outcome``), or, if that screen
    has gone, by the app (a toast for a message or a failure).

Outcomes: ``WorkerReports`` (a mixin for screens) is the one ``Worker.StateChanged``
handler: successes go to the screen's ``worker_succeeded(worker)``, failures to its
``worker_error(worker)`` when it wants to show one itself (an editor marking a field),
else to ``show_failure``: a toast in words, the details in the log, never a traceback.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any, TypeVar

from textual.worker import Worker, WorkerState

from models.db import db
from models.errors import RotaError
from tui.labels import humanize

log = logging.getLogger("rota.tui")

F = TypeVar("F", bound=Callable[..., Any])

_QUEUE_ATTR = "_rota_write_queue"


def friendly(error: BaseException) -> str:
    """The words an operator sees for a failure: ours verbatim, others named briefly."""
    if isinstance(error, RotaError):
        return str(error)
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def show_failure(app, error: BaseException | None, what: str = "") -> None:
    """A failed database job, for the operator: a toast; the traceback goes to the log."""
    if isinstance(error, RotaError):
        log.info("%s: %s", what or "worker", error)
    else:
        log.error("%s failed", what or "worker", exc_info=error)
    app.notify(humanize(friendly(error)) if error else "failed", title="Could not finish", severity="error",
               timeout=8, markup=False)


def in_connection(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` with this thread's own database connection, opened and closed here."""
    with db.connection_context():
        return fn()


# --------------------------------------------------------------------- the write queue

def write_queue(app) -> ThreadPoolExecutor:
    """The app's serial write queue: one thread, jobs in the order they were queued."""
    queue = app.__dict__.get(_QUEUE_ATTR)
    if queue is None:
        queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rota-write")
        setattr(app, _QUEUE_ATTR, queue)
    return queue


def close_write_queue(app) -> None:
    """Let queued writes finish on their thread and stop taking new ones (app exit)."""
    queue = app.__dict__.pop(_QUEUE_ATTR, None)
    if queue is not None:
        queue.shutdown(wait=False)


@dataclass(frozen=True)
class Outcome:
    """How a write ended, handed to the screen that asked: the same names as a
    ``Worker`` (``name``, ``group``, ``description``, ``result``, ``error``), so a
    screen's ``worker_succeeded`` / ``worker_error`` take either."""

    name: str
    group: str
    description: str
    result: Any = None
    error: BaseException | None = None


def deliver(app, origin, outcome: Outcome) -> None:
    """Give a write's outcome to the screen that asked, if it is still there; else the
    app reports it (a message string as a toast, a failure as the failure toast)."""
    if getattr(origin, "is_attached", False) and isinstance(origin, WorkerReports):
        if outcome.error is None:
            origin.worker_succeeded(outcome)  # type: ignore[arg-type]
        elif not origin.worker_error(outcome):  # type: ignore[arg-type]
            show_failure(app, outcome.error, outcome.description)
    elif outcome.error is not None:
        show_failure(app, outcome.error, outcome.description)
    elif isinstance(outcome.result, str):
        app.notify(outcome.result)


def queue_write(node, group: str, fn: Callable[[], Any], description: str = "", name: str = "") -> Worker:
    """Queue ``fn`` (run in a connection on the write thread) and return the app-level
    Worker that waits for it and hands its outcome to ``node``.

    The worker belongs to the app, not to the screen, so closing the screen never
    cancels it; the outcome is delivered on the UI loop in the same step that checks
    whether the screen is still there, so it is never lost in between.
    """
    app = node.app
    what = description or group
    # Queued now, in key order; run in a copy of this context so that the body sees
    # the active app (``self.app``) even if its screen has closed by then.
    future: Future = write_queue(app).submit(contextvars.copy_context().run, in_connection, fn)

    async def wait() -> Any:
        try:
            result = await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:  # the app is closing: the write still ends on its thread
            log.info("%s: the app closed before the write ended", what)
            raise
        except Exception as error:
            deliver(app, node, Outcome(name, group, what, error=error))
            return None
        deliver(app, node, Outcome(name, group, what, result=result))
        return result

    return app.run_worker(wait, group=group, name=name, description=what, exclusive=False, exit_on_error=False)


# ------------------------------------------------------------------------ decorators

def db_read(group: str) -> Callable[[F], F]:
    """A method whose body reads the database: run it in a thread worker, in a
    connection, superseding the previous read of the same group on this node."""

    def decorate(method: F) -> F:
        @wraps(method)
        def start(self, *args: Any, **kwargs: Any) -> Worker:
            return self.run_worker(partial(in_connection, partial(method, self, *args, **kwargs)),
                                   group=group, name=method.__name__, description=f"{group}: {method.__name__}",
                                   exclusive=True, exit_on_error=False, thread=True)

        return start  # type: ignore[return-value]

    return decorate


def db_write(group: str) -> Callable[[F], F]:
    """A method whose body changes the database: queue it on the app's serial write
    thread, in a connection; never superseded, its outcome always reported."""

    def decorate(method: F) -> F:
        @wraps(method)
        def start(self, *args: Any, **kwargs: Any) -> Worker:
            return queue_write(self, group, partial(method, self, *args, **kwargs),
                               description=f"{group}: {method.__name__}", name=method.__name__)

        return start  # type: ignore[return-value]

    return decorate


# ---------------------------------------------------------------------- outcomes

class WorkerReports:
    """Mixin for screens and widgets: the one ``Worker.StateChanged`` handler."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            if not self.worker_error(worker):
                show_failure(self.app, worker.error, worker.description or worker.group)  # type: ignore[attr-defined]
        elif event.state == WorkerState.SUCCESS:
            self.worker_succeeded(worker)

    def worker_succeeded(self, worker: Worker) -> None:
        """Override to use a worker's result (``worker.group``, ``worker.result``)."""

    def worker_error(self, worker: Worker) -> bool:
        """Override to show a failure in place (a field's message); return True when
        shown. By default the app's toast reports it."""
        return False
