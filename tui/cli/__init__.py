"""The ``rota`` command. Each sub-command lives in its own module in this package and
registers itself through ``register(subparsers)``; textual is imported only by the
command that opens the app.

Exit status: 0 ok, 2 bad input or a database that cannot be used (one line on stderr;
``tui.cli.errors.explain`` puts input-made Python and database exceptions in words),
130 interrupted (ctrl+c; whatever was being written is rolled back), 1 an unexpected
failure (one line on stderr, the traceback in the log file); never a traceback on screen.
Every message is passed through ``models.text.printable``, so stored text cannot send
escape sequences to the terminal.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import platformdirs

from engine.logfile import PrivateRotatingFile
from models.errors import RotaError
from models.text import INT64_MAX, printable, shorten
from tui.cli.errors import explain

log = logging.getLogger("rota")


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


def build_parser() -> Parser:
    parser = Parser(prog="rota", description="Scheduled workflows in your terminal.")
    db_option(parser, top=True)
    parser.add_argument("--no-engine", action="store_true", help="open the app without the engine thread (a viewer)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # __main__ (python -m tui.cli) registers nothing
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    describe_commands(parser)
    return parser


def describe_commands(parser: argparse.ArgumentParser) -> None:
    """Give every (sub)command without a description its one-line help as description,
    so ``rota engine --help`` says what the command does, not only its options."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            if not sub.description and helps.get(name):
                text = helps[name]
                sub.description = text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
            describe_commands(sub)


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


def _database_label(argv: list[str]) -> str:
    """The database a failed command was using, for error messages (password masked)."""
    from models.db import describe

    db_arg = None
    for i, word in enumerate(argv):
        if word == "--db" and i + 1 < len(argv):
            db_arg = argv[i + 1]
        elif word.startswith("--db="):
            db_arg = word[5:]
    try:
        return describe(db_arg)
    except Exception:
        return "the database"


MAX_MESSAGE = 2000  # one line, even when the input it echoes was a 100,000-character value


def _say(message: str) -> None:
    print(f"rota: {printable(shorten(message, MAX_MESSAGE))}", file=sys.stderr)


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
        _say(str(exc))
        return 2
    except KeyboardInterrupt:
        _say("interrupted; nothing half-written was kept")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: never a traceback on screen
        meaning = explain(exc, _database_label(argv))
        if meaning is not None:
            log.warning("bad input or database: %s: %s", type(exc).__name__, shorten(str(exc), 500))
            _say(meaning)
            return 2
        log.exception("unexpected failure")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _say(f"internal error: {type(exc).__name__}: {shorten(first, 200)} (details in {logfile})")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
