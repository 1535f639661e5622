"""The ``rota`` command. Each sub-command lives in its own module in this package and
registers itself through ``register(subparsers)``; textual is imported only by the
command that opens the app.

Exit status: 0 ok, 2 bad input or a database that cannot be used (one line on stderr;
``tui.cli.errors.explain`` puts input-made Python and database exceptions in words),
130 interrupted (ctrl+c; whatever was being written is rolled back), 1 an unexpected
failure (one line on stderr, the traceback in the log file); never a traceback on screen.
Every message is passed through ``models.text.printable``, so stored text cannot send
escape sequences to the terminal.

Layout: ``entry`` (``main``, ``build_parser``), ``common`` (the parser class, logging,
``--db`` and opening the database, number arguments), ``errors``, ``output``, and one
module per command that registers itself. This ``__init__`` only re-exports the entry
point (``rota = "tui.cli:main"``); no module of the package imports it back.
"""
from tui.cli.entry import build_parser, main

__all__ = ["build_parser", "main"]
