"""The ``rota`` command. Each sub-command lives in its own module in this package and
registers itself through ``register(subparsers)``; textual is imported only by the
command that opens the app.

Exit status: 0 ok, 2 bad input or a database that cannot be used (one line on stderr;
``tui.commandline.errors.explain`` puts input-made Python and database exceptions in words),
130 interrupted (ctrl+c; whatever was being written is rolled back), 1 an unexpected
failure (one line on stderr, the traceback in the log file); never a traceback on screen.
Every message is passed through ``models.text.printable``, so stored text cannot send
escape sequences to the terminal.

The commands live in ``tui.commandline`` (whose ``__init__`` imports nothing); this
package is only the entry point's facade: ``rota = "tui.cli:main"`` and ``python -m
tui.cli``. Nothing imports it back, so no import graph (pydeps counts the package of
every submodule imported) has a ring through it.
"""
from tui.commandline.entry import build_parser, main

__all__ = ["build_parser", "main"]
