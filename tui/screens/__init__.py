"""Rota's screens, one per module.

Database work runs through ``tui.workers`` (``db_read`` / ``db_write``); screens mix in
``WorkerReports``, the one ``Worker.StateChanged`` handler, and use their results in
``worker_succeeded``.
"""
from __future__ import annotations

from tui.workers import WorkerReports

__all__ = ["WorkerReports"]
