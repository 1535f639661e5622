"""``main``: the ``rota`` command line (exit statuses in ``tui/cli/__init__.py``).

``build_parser`` finds the sub-commands: every module of this package with a
``register(subparsers)`` function (found on disk, so this module imports none of them
by name and none of them imports it).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from pathlib import Path

from models.errors import RotaError
from models.text import printable, shorten
from tui.commandline.common import Parser, db_option, setup_logging
from tui.commandline.errors import explain

log = logging.getLogger("rota")
PACKAGE = __package__ or "tui.commandline"


def build_parser() -> Parser:
    parser = Parser(prog="rota", description="Scheduled workflows in your terminal.")
    db_option(parser, top=True)
    parser.add_argument("--no-engine", action="store_true", help="open the app without the engine thread (a viewer)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("_"):  # nothing private registers
            continue
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
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
            from tui.commandline.app_cmd import run_app

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
