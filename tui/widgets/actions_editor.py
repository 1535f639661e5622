"""The actions section: the ordered steps as a tree, branches nested under Then / Else.

A step is addressed by its path: ``(2,)`` is the third top-level step, ``(2, "then", 0)``
the first step in that branch's then-arm. Every edit changes the plain list of step
dicts and redraws the tree, putting the cursor back on the step that moved or was
added, so the tree never holds state of its own that could drift from the list saved.
Steps are written by ``StepDialog``; the widget posts ``StepWanted`` and the screen that
holds it pushes the dialog (widgets never import screens).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from engine.steps.shapes import describe_step
from tui.text import safe_text
from tui.widgets.criteria_editor import describe_filter

Path = tuple  # (index,) or (index, "then"|"else", index, …)
ArmRef = tuple  # ("arm", branch path, "then"|"else")


def step_list(actions: list, parent: Path) -> list:
    """The list a step at ``parent + (i,)`` lives in."""
    current = actions
    for i in range(0, len(parent), 2):
        current = current[parent[i]].setdefault(parent[i + 1], [])
    return current


def branch_words(step: dict, object_type: str) -> str:
    groups = step.get("criteria") or []
    parts = [" and ".join(describe_filter(f, object_type) for f in g) for g in groups]
    return "If " + (" or ".join(f"({p})" for p in parts) if len(parts) > 1 else (parts[0] if parts else "…"))


class ActionsEditor(Tree):
    """Holds ``actions`` (SPEC §9 steps); posts ``Changed`` after each edit."""

    DEFAULT_CSS = """
    ActionsEditor { height: auto; min-height: 3; max-height: 100%; }
    """

    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("e,enter", "edit", "Edit"),
        Binding("K", "move(-1)", "Move up"),
        Binding("J", "move(1)", "Move down"),
        Binding("d,delete", "delete", "Delete"),
    ]

    class Changed(Message):
        def __init__(self, editor: ActionsEditor) -> None:
            super().__init__()
            self.editor = editor

        @property
        def control(self) -> ActionsEditor:
            return self.editor

    class StepWanted(Message):
        """Asks the screen for ``StepDialog`` (``step`` None: a new one), titled for
        ``target``; the screen pushes it with ``done`` as its result callback."""

        def __init__(self, editor: ActionsEditor, step: dict | None, target: str,
                     done: Callable[[dict | None], None]) -> None:
            super().__init__()
            self.editor = editor
            self.object_type = editor.object_type
            self.step = step
            self.target = target
            self.done = done

        @property
        def control(self) -> ActionsEditor:
            return self.editor

    def __init__(self, actions: list | None, object_type: str, *, id: str | None = None) -> None:
        super().__init__("Actions", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._actions: list[dict] = copy.deepcopy(actions or [])
        self.object_type = object_type

    @property
    def actions(self) -> list[dict]:
        return copy.deepcopy(self._actions)

    @actions.setter
    def actions(self, value: list) -> None:
        self._actions = copy.deepcopy(value or [])
        self._rebuild()

    def set_object_type(self, object_type: str) -> None:
        self.object_type = object_type
        self._rebuild()

    def on_mount(self) -> None:
        self._rebuild()

    # ------------------------------------------------------------------ drawing

    def _label(self, number: str, step: dict) -> Text:
        text = Text(f"{number} ", style="dim")
        if step.get("type") == "branch":
            text.append(safe_text(branch_words(step, self.object_type)), style="bold")
        else:
            text.append(safe_text(describe_step(step)))
        return text

    def _add_steps(self, node: TreeNode, steps: list, parent: Path, prefix: str) -> None:
        for i, step in enumerate(steps):
            number = f"{prefix}{i + 1}."
            path = parent + (i,)
            if step.get("type") == "branch":
                branch = node.add(self._label(number, step), data=path, expand=True)
                for arm in ("then", "else"):
                    arm_node = branch.add(Text(f"{arm.capitalize()}:", style="italic"), data=("arm", path, arm),
                                          expand=True)
                    arm_steps = step.get(arm) or []
                    if not arm_steps:
                        arm_node.add_leaf(Text("(no steps: highlight this arm and press a)", style="dim"),
                                          data=("arm", path, arm))
                    self._add_steps(arm_node, arm_steps, path + (arm,), f"{number}{arm[0]}")
            else:
                node.add_leaf(self._label(number, step), data=path)

    def _rebuild(self, focus: Any = None) -> None:
        """Redraw from the step list; put the cursor on ``focus`` (a path or arm ref)."""
        self.clear()
        if not self._actions:
            self.root.add_leaf(Text("No steps yet — press a to add one", style="dim italic"), data=None)
        self._add_steps(self.root, self._actions, (), "")
        self.root.expand_all()
        if focus is not None:
            self.call_after_refresh(self._move_cursor_to, focus)

    def _move_cursor_to(self, focus: Any) -> None:
        for line in range(self.last_line + 1):
            node = self.get_node_at_line(line)
            if node is not None and node.data == focus:
                self.cursor_line = line
                return

    def _changed(self, focus: Any) -> None:
        self._rebuild(focus)
        self.post_message(self.Changed(self))

    def _current(self) -> Any:
        node = self.cursor_node
        return node.data if node is not None else None

    # ------------------------------------------------------------------ actions

    def action_add(self) -> None:
        """Add after the highlighted step, or at the end of the highlighted then/else arm."""
        current = self._current()
        if isinstance(current, tuple) and current and current[0] == "arm":
            parent, index = current[1] + (current[2],), None
        elif isinstance(current, tuple) and current:
            parent, index = current[:-1], current[-1] + 1
        else:
            parent, index = (), None

        def done(step: dict | None) -> None:
            if step is None:
                return
            steps = step_list(self._actions, parent)
            at = len(steps) if index is None else index
            steps.insert(at, step)
            self._changed(parent + (at,))

        self.post_message(self.StepWanted(self, None, place_words(parent), done))

    def action_edit(self) -> None:
        current = self._current()
        if not (isinstance(current, tuple) and current and current[0] != "arm"):
            self.action_add()
            return
        steps = step_list(self._actions, current[:-1])
        original = steps[current[-1]]

        def done(step: dict | None) -> None:
            if step is None:
                return
            if original.get("type") == "branch":  # the arms are edited in the tree, keep them
                step["then"], step["else"] = original.get("then") or [], original.get("else") or []
            steps[current[-1]] = step
            self._changed(current)

        self.post_message(self.StepWanted(self, original, place_words(current[:-1]), done))

    def action_move(self, delta: int) -> None:
        """Swap the highlighted step with its neighbour in the same list."""
        current = self._current()
        if not (isinstance(current, tuple) and current and current[0] != "arm"):
            return
        steps = step_list(self._actions, current[:-1])
        i, j = current[-1], current[-1] + delta
        if not 0 <= j < len(steps):
            self.app.bell()
            return
        steps[i], steps[j] = steps[j], steps[i]
        self._changed(current[:-1] + (j,))

    def action_delete(self) -> None:
        current = self._current()
        if not (isinstance(current, tuple) and current and current[0] != "arm"):
            return
        steps = step_list(self._actions, current[:-1])
        del steps[current[-1]]
        if steps:
            self._changed(current[:-1] + (min(current[-1], len(steps) - 1),))
        else:
            self._changed(("arm", current[:-2], current[-2]) if len(current) > 1 else None)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("move", "delete"):
            current = self._current()
            return True if (isinstance(current, tuple) and current and current[0] != "arm") else None
        return True


def place_words(parent: tuple) -> str:
    """Where a step goes, for its dialog's title: "to the actions", "to branch 3 · then",
    "to branch 3 · then › branch 1 · else" (steps numbered from 1, as in the list)."""
    parts = [f"branch {parent[i] + 1} · {parent[i + 1]}" for i in range(0, len(parent) - 1, 2)]
    return "to " + " › ".join(parts) if parts else "to the actions"
