"""The ``rota`` command. Each sub-command lives in its own module in this package and
registers itself through ``register(subparsers)``; textual is imported only by the
command that opens the app.

Exit status: 0 ok, 2 bad input (one line on stderr), 1 an unexpected failure (one line
on stderr, the traceback in the log file), never a traceback on screen.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from pathlib import Path

import platformdirs

from models.errors import RotaError

log = logging.getLogger("rota")


class UsageError(RotaError):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line and exits 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(f"{message} (see '{self.prog} --help')")


def log_path() -> Path:
    return Path(platformdirs.user_log_dir("rota")) / "rota.log"


def setup_logging() -> Path:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s"))
    root = logging.getLogger()
    if not any(isinstance(h, type(handler)) for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def db_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    parser.add_argument(
        "--db", metavar="PATH_OR_URL",
        default=None if top else argparse.SUPPRESS,
        help="SQLite file or postgresql:// URL (default: $ROTA_DB, else the file in your data directory)",
    )


def build_parser() -> Parser:
    parser = Parser(prog="rota", description="Scheduled workflows in your terminal.")
    db_option(parser, top=True)
    parser.add_argument("--no-engine", action="store_true", help="open the app without the engine thread (a viewer)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def open_db(args: argparse.Namespace):
    """Open the database named by ``--db`` / ``ROTA_DB`` / the default, schema current."""
    from models.bootstrap import open_database

    return open_database(getattr(args, "db", None))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logfile = setup_logging()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:  # plain `rota`: the full-screen app
            from tui.cli.app_cmd import run_app

            code = run_app(args)
        else:
            code = func(args)
        return int(code or 0)
    except RotaError as exc:
        print(f"rota: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rota: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: never a traceback on screen
        log.exception("unexpected failure")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"rota: internal error: {type(exc).__name__}: {first} (details in {logfile})", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
