"""Action steps: their shapes and validation (``shapes``), ``{property}`` templates
(``templates``), positions in nested branches (``positions``), the unit of work of a
step pass (``context``), the database steps (``run_db``) and the network steps
(``run_network``). The executor (engine/executor.py) is the only caller of ``run_*``.

The shapes' public names are re-exported here so ``from engine.steps import …`` keeps
working for the editor, workflow files and the executor.
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
