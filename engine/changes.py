"""The change bus: subscribe to committed changes, announce them, wake other processes.

A leaf every part of the engine (and the app) may import: it knows no workflow, run
or screen, only "workflow N (or something) changed".

* In this process, ``subscribe(callback)`` registers ``callback(workflow_id)``; the
  engine subscribes ``Engine.wake``, the app turns it into a Textual message.
* Across processes, ``notify_changed`` also sends ``NOTIFY rota_engine`` on PostgreSQL;
  engines elsewhere hold ``LISTEN rota_engine`` (``listen``). SQLite has no such
  channel: its engines re-read the earliest due time whenever they renew their lease.

Callers announce after the commit: a listener that re-reads must see the change.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from models.store.dialect import dialect

NOTIFY_CHANNEL = "rota_engine"

Listener = Callable[[int | None], None]

_listeners: list[Listener] = []
_listeners_lock = threading.Lock()


def subscribe(callback: Listener) -> Callable[[], None]:
    """Call ``callback(workflow_id)`` after every committed change; returns an unsubscribe."""
    with _listeners_lock:
        _listeners.append(callback)

    def unsubscribe() -> None:
        with _listeners_lock:
            if callback in _listeners:
                _listeners.remove(callback)

    return unsubscribe


def notify_changed(workflow_id: int | None = None) -> None:
    """Wake this process's listeners (its engine, its app) and, on PostgreSQL, the
    engines of other processes."""
    with _listeners_lock:
        listeners = list(_listeners)
    for callback in listeners:
        callback(workflow_id)
    dialect().notify(NOTIFY_CHANNEL)


def listen(on_notify: Callable[[], None], stopping: threading.Event,
           dsn: str | None = None) -> threading.Thread | None:
    """Wake ``on_notify()`` on every change made by another process (PostgreSQL);
    returns the listening thread, or None where there is no channel (SQLite)."""
    return dialect().listen(NOTIFY_CHANNEL, on_notify, stopping, dsn)
