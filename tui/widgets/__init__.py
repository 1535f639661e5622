"""Reusable widgets (each with its own ``DEFAULT_CSS``, per STYLE.md)."""
from __future__ import annotations

from math import ceil

from textual.app import ComposeResult
from textual.widgets import DataTable, Footer
from textual.widgets.data_table import CellDoesNotExist


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


def column_table(id: str, columns) -> DataTable:
    """A row-cursor, zebra-striped DataTable with fixed-width columns from
    ``(key, label, width)`` triples: the bounded tables every screen shows."""
    table = DataTable(id=id, cursor_type="row", zebra_stripes=True)
    for key, label, width in columns:
        table.add_column(label, width=width, key=key)
    return table


def sync_table(table, rows: list[tuple[str, tuple]], column_keys: list[str]) -> None:
    """Show ``rows`` ((row key, cells), in order) in a bounded DataTable.

    When the row keys are the ones shown already, cells are updated in place with
    ``update_cell`` (the cursor and scroll stay put while live data refreshes); only a
    changed set or order of rows rebuilds the table, keeping the cursor on the same
    row key when it is still there.
    """
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
