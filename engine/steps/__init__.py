"""Action steps: their shapes and validation (``shapes``), ``{property}`` templates
(``templates``), positions in nested branches (``positions``), the unit of work of a
step pass (``context``), the database steps (``run_db``) and the network steps
(``run_network``). The executor (engine/executor.py) is the only caller of ``run_*``.

The shapes' public names are re-exported here for the app's editor (tui/):
``from engine.steps import …``. Inside engine/ modules import from ``engine.steps.shapes``
itself, and the submodules never import this package, so the re-exports form no ring
(tests/test_import_hygiene.py checks both).
"""
from engine.steps.shapes import (  # noqa: F401
    DELAY_UNITS,
    MASK,
    STEP_TYPES,
    WEEKDAYS,
    describe_step,
    is_secret_header,
    mask_actions,
    mask_headers,
    mask_step,
    mask_url,
    parse_time,
    template_fields,
    unmask_actions,
    validate_actions,
)
