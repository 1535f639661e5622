"""What every ``rota`` sub-command shares: the one-line-error parser, logging to the
private log file, the ``--db`` option and opening the database it names, and the
whole-number argument type. Sub-command modules import this module (and their other
siblings) directly; none imports ``tui.cli``, the entry point's facade.
"""
from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from urllib.parse import urlparse

import platformdirs

from engine.logfile import PrivateRotatingFile
from models.errors import RotaError
from models.text import INT64_MAX, shorten


class UsageError(RotaError):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line and exits 2."""

    def error(self, message: str):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def log_path() -> Path:
    return Path(platformdirs.user_log_dir("rota")) / "rota.log"


def setup_logging() -> Path:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = PrivateRotatingFile(path)  # 0600, rotated by size
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s"))
    root = logging.getLogger()
    if not any(isinstance(h, type(handler)) for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def actions(subparsers, name: str, **kwargs):
    """``rota NAME ACTION …``: the command ``name`` (``kwargs`` as for ``add_parser``)
    and the set of its actions, one of which must be given."""
    parser = subparsers.add_parser(name, **kwargs)
    sub = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", parser_class=type(parser))
    sub.required = True
    return sub


def db_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    parser.add_argument(
        "--db", metavar="PATH_OR_URL",
        default=None if top else argparse.SUPPRESS,
        help="SQLite file or postgresql:// URL (default: $ROTA_DB, else the file in your data directory)",
    )


_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")


def whole_number(low: int = 1, high: int = INT64_MAX):
    """An argparse ``type`` for a whole number from ``low`` to ``high`` (64-bit at most).

    Refuses "-1" for a limit, 10**30 for a record id and 5,000-digit strings before any
    of them reaches SQL, with the range in the message.
    """
    def parse(text: str) -> int:
        raw = text.strip().replace("_", "")
        if raw.lstrip("+-").isdigit() and len(raw.lstrip("+-")) > 19:
            raise argparse.ArgumentTypeError(f"{shorten(raw, 40)} is too large: at most {high:,}")
        if not _INTEGER.fullmatch(raw):
            raise argparse.ArgumentTypeError(f'"{shorten(text, 40)}" is not a whole number')
        value = int(raw)
        if not low <= value <= high:
            top = "" if high == INT64_MAX else f" to {high:,}"
            more = " or more" if high == INT64_MAX else ""
            raise argparse.ArgumentTypeError(f"must be {low:,}{top}{more}, not {shorten(raw, 40)}")
        return value

    parse.__name__ = "whole number"
    return parse


def sqlite_file(target: str) -> Path | None:
    """The file behind a database location, or None for PostgreSQL or memory."""
    scheme = urlparse(target).scheme.lower()
    if scheme in ("postgresql", "postgres"):
        return None
    if scheme == "sqlite":
        target = target.split("://", 1)[1]
    if not target or target == ":memory:":
        return None
    return Path(target).expanduser()


def open_db(args: argparse.Namespace, *, create: bool = False):
    """Open the database named by ``--db`` / ``ROTA_DB`` / the default, schema current.

    Commands that only read (and those that need existing workflows) never create
    anything: a missing file is "no database at PATH". Commands that add data
    (``create=True``) create the file, but only in an existing directory, except the
    default location in the user's data directory, which is Rota's own.
    """
    from models.bootstrap import open_database
    from models.db import default_db_path, resolve_url

    target = resolve_url(getattr(args, "db", None))
    path = sqlite_file(target)
    if path is not None and not path.exists():
        if not create:
            raise RotaError(f"no database at {path}: check --db (or $ROTA_DB); `rota demo` or "
                            f"`rota import` create one")
        if not path.parent.is_dir() and path != default_db_path():
            raise RotaError(f"no directory {path.parent}: create it first or give another --db path")
    return open_database(target)
