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
    delete the clone" runs in the order the operator pressed the keys), and its outcome
    is always reported. If the screen that asked has gone by the time the write ends,
    the app reports it instead (a toast for a message or a failure).

Outcomes: ``WorkerReports`` (a mixin for screens) is the one ``Worker.StateChanged``
handler: successes go to the screen's ``worker_succeeded(worker)``, failures to its
``worker_error(worker)`` when it wants to show one itself (an editor marking a field),
else to ``show_failure``: a toast in words, the details in the log, never a traceback.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial, wraps
from typing import Any, Callable, TypeVar

from textual.worker import Worker, WorkerState

from models.db import db
from models.errors import RotaError

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
    app.notify(friendly(error) if error else "failed", title="Could not finish", severity="error", timeout=8)


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


def _report_orphan(app, what: str, future: Future) -> None:
    """A write whose screen went away before it ended: the app reports it."""
    if future.cancelled():
        return
    try:
        error = future.exception()
        if error is not None:
            show_failure(app, error, what)
        elif isinstance(future.result(), str):
            app.notify(future.result())
    except Exception:  # noqa: BLE001 - the app may be closing; the log has the outcome
        log.exception("could not report the outcome of %s", what)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the app's loop has closed (exiting): nobody left to tell
        log.info("a write finished after the app closed")


def queue_write(node, group: str, fn: Callable[[], Any], description: str = "", name: str = "") -> Worker:
    """Queue ``fn`` (run in a connection on the write thread) and return the Worker on
    ``node`` that waits for it and reports its outcome.

    If the worker is cancelled (its screen closed) at any point, before it ever ran
    or while it waited, the write still runs and the app reports its outcome, once.
    """
    app = node.app
    loop = asyncio.get_running_loop()
    what = description or group
    reported = False

    def report_if_orphaned() -> None:  # on the UI loop
        nonlocal reported
        if worker.is_cancelled and not reported:
            reported = True
            _report_orphan(app, what, future)

    future: Future = write_queue(app).submit(in_connection, fn)  # queued now, in key order
    future.add_done_callback(lambda _: _call_soon(loop, report_if_orphaned))

    async def wait() -> Any:
        try:
            return await asyncio.shield(asyncio.wrap_future(future))  # leaving the screen never stops the write
        except asyncio.CancelledError:
            if future.done():
                report_if_orphaned()  # else the done callback reports it
            raise

    worker = node.run_worker(wait, group=group, name=name, description=what, exclusive=False, exit_on_error=False)
    return worker


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
