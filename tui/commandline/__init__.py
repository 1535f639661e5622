"""The ``rota`` command line: ``entry`` (``main``, ``build_parser``), ``common`` (the
parser class, logging, ``--db`` and opening the database, number arguments), ``errors``,
``output``, ``progress``, and one module per command that registers itself
(``register(subparsers)``). This ``__init__`` imports nothing, so a module here that
imports a sibling (and so this package) makes no ring; ``tui.cli`` is the entry point's
facade (``rota = "tui.cli:main"``, ``python -m tui.cli``).
"""
