"""A criteria editor: groups (ORed) of filters (ANDed), edited from the keyboard.

One widget serves the enrollment criteria, the suppression and unenrollment criteria
in Settings and the condition of an if/then branch, so all four read and behave the
same. It is an OptionList of rows — a heading per group, a line per filter in plain
words — with keys to add a filter (to the highlighted group), add an OR group, edit and
delete. Filters are written by ``FilterDialog``, which validates them, so the list only
ever holds filters in normal form. The widget does not open the dialog itself (widgets
never import screens): it posts ``FilterWanted`` and the screen that holds it pushes
the dialog, calling ``done`` with the result.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from models.criteria import describe_criteria
from models.errors import RotaError
from tui.text import safe_text


def describe_filter(f: dict, object_type: str) -> str:
    """One filter in words; the raw shape if it no longer validates (e.g. a removed property)."""
    try:
        return describe_criteria([[f]], object_type)
    except RotaError as exc:
        return f"{f.get('property')} {f.get('operator')} {f.get('value', '')}  ⚠ {exc}"


class CriteriaEditor(OptionList):
    """Holds ``groups`` (list of lists of filter dicts); posts ``Changed`` after each edit."""

    DEFAULT_CSS = """
    CriteriaEditor { height: auto; max-height: 12; min-height: 3; }
    """

    BINDINGS = [
        Binding("a", "add_filter", "Add"),
        Binding("o", "add_group", "Or group"),
        Binding("e", "edit", "Edit"),
        Binding("enter", "edit", "Edit", show=False),
        Binding("d,delete", "delete", "Delete"),
    ]

    class Changed(Message):
        """The groups changed (after a dialog closed or a row was deleted)."""

        def __init__(self, editor: CriteriaEditor) -> None:
            super().__init__()
            self.editor = editor

        @property
        def control(self) -> CriteriaEditor:
            return self.editor

    class FilterWanted(Message):
        """Asks the screen for ``FilterDialog`` (``filter`` None: a new one), titled for
        ``target``; the screen pushes it with ``done`` as its result callback."""

        def __init__(self, editor: CriteriaEditor, filter: dict | None, target: str,
                     done: Callable[[dict | None], None]) -> None:
            super().__init__()
            self.editor = editor
            self.object_type = editor.object_type
            self.filter = filter
            self.target = target
            self.done = done

        @property
        def control(self) -> CriteriaEditor:
            return self.editor

    def __init__(self, groups: list | None, object_type: str, *, empty_text: str = "No criteria",
                 target: str = "", id: str | None = None, classes: str | None = None) -> None:
        """``target`` names these criteria in dialog titles ("suppression")."""
        super().__init__(id=id, classes=classes)
        self.target = target
        self._groups: list[list[dict]] = copy.deepcopy(groups or [])
        self.object_type = object_type
        self.empty_text = empty_text
        self._rows: list[tuple[int, int | None]] = []  # (group index, filter index or None for the heading)

    @property
    def groups(self) -> list[list[dict]]:
        """A copy of the groups, with empty groups left out (they mean nothing)."""
        return [copy.deepcopy(g) for g in self._groups if g]

    @groups.setter
    def groups(self, value: list) -> None:
        self._groups = copy.deepcopy(value or [])
        self._render_rows()

    def set_object_type(self, object_type: str) -> None:
        self.object_type = object_type
        self._render_rows()

    def on_mount(self) -> None:
        self._render_rows()

    def _render_rows(self, keep: tuple[int, int | None] | None = None) -> None:
        """Rebuild the rows; keep the highlight on ``keep`` (a group/filter position) if given."""
        self.clear_options()
        self._rows = []
        options: list[Option] = []
        if not self._groups:
            options.append(Option(Text(f"{self.empty_text} — press a to add a filter", style="dim italic")))
            self._rows.append((-1, None))
        for gi, group in enumerate(self._groups):
            heading = Text(("or " if gi else "") + f"Group {gi + 1}: all of", style="bold")
            if not group:
                heading.append(" (empty: press a)", style="dim")
            options.append(Option(heading))
            self._rows.append((gi, None))
            for fi, f in enumerate(group):
                options.append(Option(Text("  • ") + Text(safe_text(describe_filter(f, self.object_type)))))
                self._rows.append((gi, fi))
        self.add_options(options)
        if keep is not None and keep in self._rows:
            self.highlighted = self._rows.index(keep)
        elif self._rows:
            self.highlighted = min(self.highlighted or 0, len(self._rows) - 1)

    def _current(self) -> tuple[int, int | None]:
        if self.highlighted is None or not self._rows:
            return (-1, None)
        return self._rows[self.highlighted]

    def _changed(self, keep: tuple[int, int | None] | None) -> None:
        self._render_rows(keep)
        self.post_message(self.Changed(self))

    # ------------------------------------------------------------------ actions

    def action_add_filter(self) -> None:
        """Add a filter to the highlighted group (the first group if there is none yet)."""
        gi, _ = self._current()
        if not 0 <= gi < len(self._groups):
            if not self._groups:
                self._groups.append([])
            gi = 0

        def done(result: dict | None) -> None:
            if result is None:
                self._groups = [g for g in self._groups if g]
                self._render_rows()
                return
            self._groups[gi].append(result)
            self._changed((gi, len(self._groups[gi]) - 1))

        self.post_message(self.FilterWanted(self, None, self.target_words(gi), done))

    def action_add_group(self) -> None:
        """Start a new OR group and ask for its first filter at once (a group is never empty)."""
        self._groups.append([])
        self._render_rows((len(self._groups) - 1, None))
        self.action_add_filter()

    def action_edit(self) -> None:
        gi, fi = self._current()
        if gi < 0:
            self.action_add_filter()
            return
        if fi is None:
            self.action_add_filter()
            return

        def done(result: dict | None) -> None:
            if result is not None:
                self._groups[gi][fi] = result
                self._changed((gi, fi))

        self.post_message(self.FilterWanted(self, self._groups[gi][fi], self.target_words(gi), done))

    def target_words(self, group: int) -> str:
        """Where a filter goes, for its dialog's title: "to suppression, group 2"."""
        where = f"to {self.target}" if self.target else ""
        if len(self._groups) > 1:
            where = f"{where}, group {group + 1}" if where else f"to group {group + 1}"
        return where

    def action_delete(self) -> None:
        """Delete the highlighted filter, or the whole group when its heading is highlighted."""
        gi, fi = self._current()
        if gi < 0:
            return
        if fi is None:
            del self._groups[gi]
            self._changed((max(gi - 1, 0), None))
        else:
            del self._groups[gi][fi]
            if not self._groups[gi]:
                del self._groups[gi]
                self._changed((max(gi - 1, 0), None))
            else:
                self._changed((gi, max(fi - 1, 0)) if fi else (gi, None))

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("edit", "delete") and self._current()[0] < 0:
            return None
        return True
