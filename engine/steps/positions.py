"""Where an enrollment is in its step list.

A position is a tuple ``(i0, arm1, i1, arm2, i2, …)``: index ``i0`` in the workflow's
actions, and for each branch entered the arm ("then"/"else") and the index inside it.
``Enrollment.step`` holds ``i0``; ``Enrollment.path`` holds JSON
``{"pos": [...], "try": n}`` when the position is nested or a retry is pending (else
NULL). History names steps 1-based, as the editor does: ``"3.then.1"``.
"""
from __future__ import annotations

import json
from typing import Any

Position = tuple[int | str, ...]  # (int, str, int, str, int, …)


def _steps_at(actions: list[dict], prefix: tuple) -> list[dict] | None:
    """The step list that holds the last index of a position whose prefix is given."""
    steps = actions
    for j in range(0, len(prefix), 2):
        i, arm = prefix[j], prefix[j + 1]
        if not (isinstance(i, int) and 0 <= i < len(steps)) or steps[i].get("type") != "branch":
            return None
        steps = steps[i].get(arm)
        if not isinstance(steps, list):
            return None
    return steps


def step_at(actions: list[dict], pos: Position | None) -> dict | None:
    if not pos:
        return None
    steps = _steps_at(actions, pos[:-1])
    i = pos[-1]
    if steps is None or not isinstance(i, int) or not 0 <= i < len(steps):
        return None
    return steps[i]


def advance(actions: list[dict], pos: Position) -> Position | None:
    """The position after the step at ``pos`` completed; None when the workflow is done.

    Finishing the last step of a branch arm completes the branch step itself.
    """
    pos = tuple(pos)
    while True:
        steps = _steps_at(actions, pos[:-1]) or []
        if pos[-1] + 1 < len(steps):
            return pos[:-1] + (pos[-1] + 1,)
        if len(pos) == 1:
            return None
        pos = pos[:-2]


def enter(actions: list[dict], pos: Position, arm: str) -> Position | None:
    """Where an enrollment goes after the branch at ``pos`` chose ``arm``."""
    step = step_at(actions, pos) or {}
    if step.get(arm):
        return tuple(pos) + (arm, 0)
    return advance(actions, pos)


def resolve(actions: list[dict], pos: Position) -> Position | None:
    """``pos`` if it still names a step; else the nearest sensible one.

    Edits to an active workflow apply at once, so a stored position may point into a
    branch that no longer exists: the enrollment then carries on at its top-level step
    (or is done when that is past the end).
    """
    if step_at(actions, pos) is not None:
        return tuple(pos)
    top = pos[0] if pos and isinstance(pos[0], int) else 0
    return (top,) if 0 <= top < len(actions) else None


def path_label(pos: Position | None) -> str:
    """1-based, as people count steps: (2, "then", 0) → "3.then.1"."""
    if not pos:
        return ""
    return ".".join(str(p + 1) if isinstance(p, int) else p for p in pos)


def encode_path(pos: Position | None, tries: int = 0) -> str | None:
    data: dict[str, Any] = {}
    if pos and len(pos) > 1:
        data["pos"] = list(pos)
    if tries:
        data["try"] = tries
    return json.dumps(data, separators=(",", ":")) if data else None


def decode_path(step: int, path: str | None) -> tuple[Position, int]:
    if not path:
        return (step,), 0
    try:
        data = json.loads(path)
        pos = tuple(data.get("pos") or (step,))
        return pos, int(data.get("try") or 0)
    except (ValueError, TypeError, AttributeError):
        return (step,), 0
