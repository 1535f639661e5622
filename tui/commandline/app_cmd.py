"""``rota`` with no sub-command: open the full-screen app.

The database is opened here, before the screen takes over, so a bad ``--db`` fails with
one line on stderr (exit 2) instead of inside a half-drawn app. textual is imported
only in ``run_app`` so that every other command starts without it.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from models.db import resolve_url
from models.settings import load_settings
from tui.commandline.output import say


def target_db(args: argparse.Namespace, settings) -> str:
    """``--db`` beats ``ROTA_DB`` beats the settings' database beats the default file."""
    return resolve_url(getattr(args, "db", None) or os.environ.get("ROTA_DB") or settings.db or None)


def offer_to_create(url: str, ask=input) -> bool:
    """A SQLite file named by ``--db`` that does not exist: ask before creating it (on a
    terminal), refuse otherwise. The default file in Rota's own data directory is
    created without asking, as on a first run. True when the app may go on."""
    from models.db import default_db_path
    from tui.commandline.common import sqlite_file

    path = sqlite_file(url)
    if path is None or path.exists() or path == default_db_path():
        return True
    if not path.parent.is_dir():
        print(f"rota: no directory {path.parent}: create it first or give another --db path", file=sys.stderr)
        return False
    if not sys.stdin.isatty():
        print(f"rota: no database at {path}: run `rota` on a terminal to create it, or `rota demo`", file=sys.stderr)
        return False
    try:
        answer = ask(f"No database at {path}. Create it? [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def quit_on_hangup(app) -> None:
    """A closed SSH session (SIGHUP) or a SIGTERM quits the app the way ``q`` does: the
    engine thread stops at a safe point and releases its lease at once, so the next
    ``rota`` runs the engine without waiting for the lease to run out. The handler only
    schedules the exit on the app's event loop."""
    def on_signal(signum, frame):
        try:
            asyncio.get_running_loop().call_soon_threadsafe(app.exit)
        except RuntimeError:  # the loop is not running yet (or any more): nothing to stop
            pass

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, on_signal)


def run_app(args: argparse.Namespace) -> int:
    from models.bootstrap import open_database

    settings = load_settings()
    url = target_db(args, settings)
    if not offer_to_create(url):
        return 2
    open_database(url)  # RotaError → one line, exit 2 (tui.cli.main)
    from tui.app import RotaApp

    app = RotaApp(url, run_engine=settings.run_engine and not getattr(args, "no_engine", False),
                  settings=settings)
    if not settings.run_engine:
        app.engine_note = "off (this instance does not run it: see settings)"
    quit_on_hangup(app)
    app.run()
    if app.internal_error:
        from tui.commandline.common import log_path

        say(f"rota: internal error: {app.internal_error} (details in {log_path()})", err=True)
        return 1
    return 0
