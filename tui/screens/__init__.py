"""Rota's screens, one per module, and the small base every screen shares.

Database work runs in thread workers started by the screens. ``Worker.StateChanged``
does not bubble, so each screen forwards failures to the app's one error handler
(``RotaApp.worker_failed``) and handles its own successes in ``worker_succeeded``.
"""
from __future__ import annotations

from textual.worker import Worker, WorkerState


class WorkerReports:
    """Mixin for screens: route worker outcomes (errors to the app, results to us)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.worker_failed(event.worker)  # type: ignore[attr-defined]
        elif event.state == WorkerState.SUCCESS:
            self.worker_succeeded(event.worker)

    def worker_succeeded(self, worker: Worker) -> None:
        """Override to use a worker's result (``worker.group``, ``worker.result``)."""
