"""Where an enrollment is in its step list.

A position is a tuple ``(i0, arm1, i1, arm2, i2, …)``: index ``i0`` in the workflow's
actions, and for each branch entered the arm ("then"/"else") and the index inside it.
``Enrollment.step`` holds ``i0``; ``Enrollment.path`` holds JSON
``{"pos": [...], "try": n}`` when the position is nested or a retry is pending (else
NULL). History names steps 1-based, as the editor does: ``"3.then.1"``.
"""
from __future__ import annotations

import json
from typing import Any, cast

# (int, str, int, str, int, …): the top-level index comes first, so ``pos[0]`` is an int.
Position = tuple[int, *tuple[int | str, ...]]
# A position seen as a plain sequence, to slice it (a prefix is not itself a Position).
_Flat = tuple[int | str, ...]


def _steps_at(actions: list[dict], prefix: _Flat) -> list[dict] | None:
    """The step list that holds the last index of a position whose prefix is given."""
    steps = actions
    for j in range(0, len(prefix), 2):
        i, arm = prefix[j], prefix[j + 1]
        if not (isinstance(i, int) and 0 <= i < len(steps)) or steps[i].get("type") != "branch":
            return None
        inner = steps[i].get(arm)
        if not isinstance(inner, list):
            return None
        steps = inner
    return steps


def step_at(actions: list[dict], pos: Position | None) -> dict | None:
    if not pos:
        return None
    flat: _Flat = pos
    steps = _steps_at(actions, flat[:-1])
    i = flat[-1]
    if steps is None or not isinstance(i, int) or not 0 <= i < len(steps):
        return None
    return steps[i]


def step_of(actions: list[dict], pos: Position) -> dict:
    """The step at a position known to name one (one ``resolve`` returned, or where a
    group of this pass stopped)."""
    step = step_at(actions, pos)
    if step is None:
        raise LookupError(f"no step at {path_label(pos) or 'an empty position'}")
    return step


def advance(actions: list[dict], pos: Position) -> Position | None:
    """The position after the step at ``pos`` completed; None when the workflow is done.

    Finishing the last step of a branch arm completes the branch step itself.
    """
    flat: _Flat = tuple(pos)
    while True:
        steps = _steps_at(actions, flat[:-1]) or []
        last = cast(int, flat[-1])  # a position ends on an index
        if last + 1 < len(steps):
            return cast(Position, flat[:-1] + (last + 1,))
        if len(flat) == 1:
            return None
        flat = flat[:-2]


def enter(actions: list[dict], pos: Position, arm: str) -> Position | None:
    """Where an enrollment goes after the branch at ``pos`` chose ``arm``."""
    step = step_at(actions, pos) or {}
    if step.get(arm):
        return (*pos, arm, 0)
    return advance(actions, pos)


def resolve(actions: list[dict], pos: Position) -> Position | None:
    """``pos`` if it still names a step; else the nearest sensible one.

    Edits to an active workflow apply at once, so a stored position may point into a
    branch that no longer exists: the enrollment then carries on at its top-level step
    (or is done when that is past the end).
    """
    if step_at(actions, pos) is not None:
        return cast(Position, tuple(pos))
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
