"""A grid of on/off cells driven by the keyboard: weekdays, days of the month.

Thirty-one separate checkboxes would be thirty-one tab stops and five screens of
scrolling at 80×24; one focusable grid keeps the whole month in five lines and one tab
stop, with arrows to move and space or enter to toggle, which is also easy to drive
from pilot tests.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class ToggleGrid(Widget, can_focus=True):
    """Cells laid out ``columns`` to a row (fewer when the width it has does not take
    them all: a narrow terminal wraps the week onto two rows rather than cutting
    Saturday and Sunday off); each cell is a (value, label) pair."""

    DEFAULT_CSS = """
    ToggleGrid {
        height: auto;
        width: auto;
        padding: 0 1;
        background: $boost;
    }
    ToggleGrid:focus {
        background-tint: $foreground 5%;
    }
    ToggleGrid.-invalid {
        background-tint: $error 25%;
    }
    """

    BINDINGS = [
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("space,enter,x", "toggle", "Toggle"),
    ]

    cursor: reactive[int] = reactive(0)

    class Changed(Message):
        """The set of chosen values changed."""

        def __init__(self, grid: ToggleGrid) -> None:
            super().__init__()
            self.grid = grid

        @property
        def control(self) -> ToggleGrid:
            return self.grid

    def __init__(self, cells: Iterable[tuple[Hashable, str]], *, columns: int, selected: Iterable = (),
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._cells = list(cells)
        self._columns = columns
        self._width = max(len(label) for _, label in self._cells) + 2
        self._selected = {v for v, _ in self._cells if v in set(selected)}

    @property
    def selected(self) -> list:
        """The chosen values, in cell order (so the JSON reads mon, tue … or 1, 2 …)."""
        return [v for v, _ in self._cells if v in self._selected]

    @selected.setter
    def selected(self, values: Iterable) -> None:
        wanted = set(values)
        self._selected = {v for v, _ in self._cells if v in wanted}
        self.refresh()

    @property
    def columns(self) -> int:
        """Cells per row now: as many of ``columns`` as the content width takes."""
        width = self.content_region.width if self.is_mounted else 0
        return self._fit(width) if width else self._columns

    def _fit(self, width: int) -> int:
        return max(1, min(self._columns, width // self._width))

    def render(self) -> Text:
        text = Text(no_wrap=True)
        columns = self.columns
        for i, (value, label) in enumerate(self._cells):
            if i and i % columns == 0:
                text.append("\n")
            on = value in self._selected
            mark = "■" if on else "·"
            style = "bold reverse" if (self.has_focus and i == self.cursor) else ("bold" if on else "dim")
            text.append(f"{mark}{label:>{self._width - 2}}", style=style)
            text.append(" ")
        return text

    def get_content_width(self, container, viewport) -> int:
        room = container.width - self.styles.gutter.width
        columns = self._fit(room) if room > 0 else self._columns
        return min(len(self._cells), columns) * self._width

    def get_content_height(self, container, viewport, width: int) -> int:
        return -(-len(self._cells) // self._fit(width))

    def action_move(self, dx: int, dy: int) -> None:
        target = self.cursor + dx + dy * self.columns
        if 0 <= target < len(self._cells):
            self.cursor = target

    def action_toggle(self) -> None:
        value = self._cells[self.cursor][0]
        self._selected ^= {value}
        self.refresh()
        self.post_message(self.Changed(self))

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
