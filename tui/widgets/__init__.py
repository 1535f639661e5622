"""Reusable widgets (each with its own ``DEFAULT_CSS``, per STYLE.md)."""
from __future__ import annotations

from math import ceil

from textual.app import ComposeResult
from textual.widgets import Footer


class WrappingFooter(Footer):
    """A footer that wraps onto a second row instead of cutting keys off.

    Textual's footer is one row; at 80 columns a screen with ten or more keys loses
    the last ones (SPEC §8: everything visible at 80×24). This lays the keys out in a
    grid of ``COLUMNS`` per row, one or two rows high as needed.
    """

    COLUMNS = 6
    DEFAULT_CSS = """
    WrappingFooter {
        layout: grid;
        grid-gutter: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield from super().compose()
        keys = self.styles.grid_size_columns or 1  # Footer sets one column per key
        self.styles.grid_size_columns = min(keys, self.COLUMNS)
        self.styles.height = max(1, ceil(keys / self.COLUMNS))
