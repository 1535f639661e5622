"""Action steps: their shapes and validation (``shapes``), ``{property}`` templates
(``templates``), positions in nested branches (``positions``), the unit of work of a
step pass (``context``), the database steps (``run_db``), the set-based steps
(``run_set``) and the network steps (``run_network``). The step passes
(engine/database_pass.py, engine/network_pass.py) are the only callers of ``run_*``.

This package re-exports nothing: everyone (engine/, tui/, tests) imports a name from
the submodule that defines it, so no import ring passes through this file.
"""
