"""``rota`` with no sub-command: open the full-screen app.

The database is opened here, before the screen takes over, so a bad ``--db`` fails with
one line on stderr (exit 2) instead of inside a half-drawn app. textual is imported
only in ``run_app`` so that every other command starts without it.
"""
from __future__ import annotations

import argparse
import os

from models.db import resolve_url
from models.settings import load_settings
from tui.cli.output import say


def target_db(args: argparse.Namespace, settings) -> str:
    """``--db`` beats ``ROTA_DB`` beats the settings' database beats the default file."""
    return resolve_url(getattr(args, "db", None) or os.environ.get("ROTA_DB") or settings.db or None)


def run_app(args: argparse.Namespace) -> int:
    from models.bootstrap import open_database

    settings = load_settings()
    url = target_db(args, settings)
    open_database(url)  # RotaError → one line, exit 2 (tui.cli.main)
    from tui.app import RotaApp

    app = RotaApp(url, run_engine=settings.run_engine and not getattr(args, "no_engine", False),
                  settings=settings)
    if not settings.run_engine:
        app.engine_note = "off (this instance does not run it: see settings)"
    app.run()
    if app.internal_error:
        from tui.cli import log_path

        say(f"rota: internal error: {app.internal_error} (details in {log_path()})", err=True)
        return 1
    return 0
