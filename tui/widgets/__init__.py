"""Reusable widgets (each with its own ``DEFAULT_CSS``, per STYLE.md)."""
from __future__ import annotations

from math import ceil

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer
from textual.widgets.data_table import CellDoesNotExist

from tui.text import safe_markup


class WrappingFooter(Footer):
    """A footer that wraps onto more rows instead of cutting keys off.

    Textual's footer is one row; at 80 columns a screen with ten or more keys loses
    the last ones, and a narrow grid cell cuts a label mid-word ("space Toggl"). This
    lays the keys out in a grid whose cells are as wide as the longest label, with as
    many columns as fit the terminal, and as many rows as that needs: every label is
    shown whole at any width from 60 columns up.
    """

    GUTTER = 1
    DEFAULT_CSS = """
    WrappingFooter {
        layout: grid;
        grid-gutter: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        self._label_width = max((self.label_width(k) for k in keys if hasattr(k, "key_display")), default=1)
        self._keys = len(keys)
        self.fit(self.app.size.width)
        yield from keys

    @staticmethod
    def label_width(key) -> int:
        """Cells a compact footer key takes: its key, a space, its description."""
        return cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0)

    def fit(self, width: int) -> None:
        keys = getattr(self, "_keys", 0)
        if not keys:
            return
        label = self._label_width + 1  # a cell of slack: the grid's fractions round down
        columns = max(1, min(keys, (max(width, label) + self.GUTTER) // (label + self.GUTTER)))
        self.styles.grid_size_columns = columns
        self.styles.height = ceil(keys / columns)

    def on_resize(self) -> None:
        self.fit(self.size.width)


def column_table(id: str, columns) -> DataTable:
    """A row-cursor, zebra-striped DataTable with fixed-width columns from
    ``(key, label, width)`` triples: the bounded tables every screen shows."""
    table = DataTable(id=id, cursor_type="row", zebra_stripes=True)
    for key, label, width in columns:
        table.add_column(label, width=width, key=key)
    return table


def fit_columns(columns, width: int, flex: str, keep: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """The columns of ``(key, label, width)`` that fit ``width`` terminal columns whole.

    ``flex`` (a name) gets at least its given width and then all that is left; the
    others are added in the order of ``keep`` while they fit, and the first that does
    not fit ends the list, so a narrow terminal drops columns instead of cutting words.
    Each column costs its width + 2 of padding; a scrollbar takes 1.
    """
    widths = {key: w for key, _, w in columns}
    room = width - 1 - (widths[flex] + 2)
    shown = {flex}
    for key in keep:
        if widths[key] + 2 > room:
            break
        shown.add(key)
        room -= widths[key] + 2
    widths[flex] += max(0, room)
    return [(key, label, widths[key]) for key, label, _ in columns if key in shown]


def set_columns(table, columns) -> None:
    """Replace a DataTable's columns (and so its rows) with ``(key, label, width)``s."""
    table.clear(columns=True)
    for key, label, width in columns:
        table.add_column(label, width=width, key=key)


def sync_table(table, rows: list[tuple[str, tuple]], column_keys: list[str]) -> None:
    """Show ``rows`` ((row key, cells), in order) in a bounded DataTable.

    When the row keys are the ones shown already, cells are updated in place with
    ``update_cell`` (the cursor and scroll stay put while live data refreshes); only a
    changed set or order of rows rebuilds the table, keeping the cursor on the same
    row key when it is still there.

    Text cells are stored text (names, values, messages): they go through
    ``tui.text.safe_markup``, so control characters show escaped and brackets literal.
    """
    rows = [(key, tuple(safe_markup(c) if isinstance(c, str) else c for c in cells)) for key, cells in rows]
    current = [rk.value for rk in table.rows]
    if current == [key for key, _ in rows]:
        for key, cells in rows:
            old = table.get_row(key)
            for column, value, before in zip(column_keys, cells, old):
                if value != before:
                    table.update_cell(key, column, value)
        return
    selected = None
    if table.row_count:
        try:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # cursor outside the rows: nothing to keep
            selected = None
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if selected is not None and selected in table.rows:
        table.move_cursor(row=table.get_row_index(selected))


def cursor_key(table) -> str | None:
    """The row key under a DataTable's cursor, or None (empty table, or the cursor
    outside the rows for a moment while the table is rebuilt)."""
    if not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except CellDoesNotExist:
        return None
