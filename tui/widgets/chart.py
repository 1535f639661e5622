"""A small text bar chart: one bar per day, eighth-block characters, fits 80 columns.

Textual's ``Sparkline`` is one row high with no scale or dates; an operator reading
"enrollments over time" wants the peak value and the days on an axis. This renders a
few rows of ``▁▂▃▄▅▆▇█`` bars (one column per day, one space between), the maximum on
the left axis and the first / last day below. Pure rendering: the caller passes the
values (read from the ``enrollment_daily`` rollup), so the widget never queries.
"""
from __future__ import annotations

from datetime import date

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"


def compact(n: int) -> str:
    """At most 5 characters: 950, 12.3k, 4.5M."""
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k" if n < 100_000 else f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def bar_rows(values: list[int], height: int) -> list[str]:
    """The bars as ``height`` strings, top row first; each value is one character wide.

    A non-zero value always shows at least the lowest block, so a day with one
    enrollment is not mistaken for an empty day next to a day with a million.
    """
    peak = max(values, default=0)
    rows = []
    for level in range(height, 0, -1):  # top row first
        line = []
        for v in values:
            eighths = 0 if peak == 0 else round(v * height * 8 / peak)
            if v > 0:
                eighths = max(eighths, 1)
            filled = eighths - (level - 1) * 8
            line.append(BLOCKS[max(0, min(8, filled))])
        rows.append("".join(line))
    return rows


class BarChart(Widget):
    """Daily bars with a scale: ``data`` is a list of (day, value), oldest first."""

    DEFAULT_CSS = """
    BarChart {
        height: 7;
        width: 100%;
    }
    """

    data: reactive[tuple[tuple[date, int], ...]] = reactive(tuple, layout=False)

    def __init__(self, *, bar_height: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bar_height = bar_height

    def set_data(self, data: list[tuple[date, int]]) -> None:
        self.data = tuple(data)

    def render(self) -> Text:
        values = [v for _, v in self.data]
        axis = 6
        text = Text()
        if not values:
            text.append("no enrollments yet", style="dim")
            return text
        peak = max(values)
        for i, row in enumerate(bar_rows(values, self.bar_height)):
            label = compact(peak) if i == 0 else ("0" if i == self.bar_height - 1 else "")
            text.append(f"{label:>{axis - 1}}│", style="dim")
            text.append(" ".join(row), style="green")
            text.append("\n")
        first, last = self.data[0][0], self.data[-1][0]
        width = 2 * len(values) - 1
        left, right = first.strftime("%d %b"), last.strftime("%d %b")
        pad = max(1, width - len(left) - len(right))
        text.append(" " * axis + left + " " * pad + right, style="dim")
        return text
