"""The records screen's model: one page of records, which of its columns fit the
terminal and how wide, and the detail line for the highlighted record.

Plain functions and frozen data, no widgets. ``read_page`` runs in a worker; the
layout is computed from the page itself (the widest value of each column on it), so
an e-mail column is as wide as its e-mails, up to ``MAX_WIDTH``.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len

from models.enums import WorkflowStatus
from tui.text import safe_markup, safe_text
from tui.widgets.fit import clip

PAGE = 100
MIN_WIDTH = 10  # a column narrower than this shows too little to be worth it
MAX_WIDTH = 40


@dataclass(frozen=True)
class RecordPage:
    type_name: str
    columns: list[tuple[str, str]]  # (property name, label)
    rows: list[tuple[int, tuple[str, ...]]]
    start_after: int  # the keyset bound this page was read with (0 = first page)
    more: bool
    total: int  # records matching the search (all records without one)


def type_choices() -> list[tuple[str, str]]:
    from models.objects import list_types

    return [(t.label, t.name) for t in list_types()]


def read_page(type_name: str, after: int, search_prop: str | None, search: str, tz_name: str,
              with_total: bool = True) -> RecordPage:
    """Up to PAGE records with id > ``after``, in id order, in the chosen columns,
    optionally filtered; with the number of records the search matches."""
    from engine.steps.templates import display_value
    from models.store import records as store
    from models.timeutil import zone

    page = store.record_page(type_name, after=after, limit=PAGE, search=search, search_prop=search_prop,
                             tz_name=tz_name)
    tz = zone(tz_name)
    rows = [(r["id"], tuple(safe_text(display_value(p, r.get(p.name), tz)) for p in page.columns))
            for r in page.rows]
    total = store.count_records(type_name, search, search_prop, tz_name) if with_total else -1
    return RecordPage(page.type_name, [(p.name, p.label) for p in page.columns], rows, after, page.more, total)


def workflows_for(type_name: str) -> list[tuple[str, str]]:
    """(name, status) of the workflows on this object type, active ones first."""
    from models.objects import get_type
    from models.store.workflows import workflows_of_type

    rows = workflows_of_type(get_type(type_name))
    return sorted(((w.name, w.status) for w in rows), key=lambda t: (t[1] != WorkflowStatus.ACTIVE, t[0].lower()))


# ------------------------------------------------------------------------ layout

def natural_widths(page: RecordPage) -> list[int]:
    """Each chosen column's width to show every value on the page whole (its label at
    least), at most MAX_WIDTH."""
    out = []
    for i, (_, label) in enumerate(page.columns):
        widest = max((cell_len(cells[i]) for _, cells in page.rows), default=0)
        out.append(min(MAX_WIDTH, max(cell_len(label), widest, 2)))
    return out


def id_width(page: RecordPage) -> int:
    return max(2, *(len(str(rid)) for rid, _ in page.rows)) if page.rows else 2


def layout(page: RecordPage, width: int) -> list[tuple[str, str, int]]:
    """The columns shown at ``width`` terminal columns: (key, label, width), the id first.

    The chosen columns come in the operator's order (the order of value), each as wide
    as its widest value on the page, while they fit whole. The first that does not fit
    is narrowed to the room left when that still takes MIN_WIDTH and its whole label
    (its values end in "…"; the detail line shows them whole), and the rest are left
    out ("N more columns").
    Room left over goes to the columns whose values were capped at MAX_WIDTH. Each
    column costs its width + 2 of padding; the scrollbar takes 1.
    """
    ids = id_width(page)
    room = width - 1 - (ids + 2)
    natural = natural_widths(page)
    shown: list[tuple[str, str, int]] = []
    for (key, label), want in zip(page.columns, natural):
        if want + 2 <= room:
            shown.append((key, label, want))
            room -= want + 2
            continue
        least = min(max(MIN_WIDTH, cell_len(label)), want)  # its label stays whole
        if room - 2 >= least or not shown:
            narrow = max(room - 2, least)
            shown.append((key, label, narrow))
            room -= narrow + 2
        break
    if room > 0 and shown:  # a wide terminal: capped columns (long text) get the rest
        longest = _longest_values(page)
        widened = []
        for key, label, w in shown:
            extra = max(0, min(room, longest.get(key, w) - w))
            widened.append((key, label, w + extra))
            room -= extra
        shown = widened
    return [("id", "Id", ids), *shown]


def _longest_values(page: RecordPage) -> dict[str, int]:
    return {key: max((cell_len(cells[i]) for _, cells in page.rows), default=0)
            for i, (key, _) in enumerate(page.columns)}


def row_cells(page: RecordPage, columns: list[tuple[str, str, int]], rid: int, cells: tuple[str, ...]) -> tuple:
    """One record's cells for the columns shown, each fitted to its width."""
    index = {key: i for i, (key, _) in enumerate(page.columns)}
    out = [str(rid)]
    for key, _, width in columns[1:]:
        out.append(safe_markup(clip(cells[index[key]], width)))
    return tuple(out)


def detail_markup(page: RecordPage, columns: list[tuple[str, str, int]], rid: int,
                  cells: tuple[str, ...], room: int = 10_000) -> str:
    """The highlighted record in full where the table does not show it whole: the
    values of narrowed columns, then of left-out ones, with their labels, in about
    ``room`` cells (the rest is counted: "3 more: e shows all")."""
    widths = {key: width for key, _, width in columns}
    narrowed, left_out = [], []
    for (key, label), value in zip(page.columns, cells):
        if value and key not in widths:
            left_out.append((label, value))
        elif value and cell_len(value) > widths[key]:
            narrowed.append((label, value))
    head = f"{page.type_name} {rid}"
    parts: list[str] = []
    used = cell_len(head)
    pending = narrowed + left_out
    for i, (label, value) in enumerate(pending):
        more = len(pending) - i - 1
        tail = len(f" · {more} more: e shows all") if more else 0
        size = 3 + cell_len(label) + 1 + cell_len(value)
        if parts and used + size + tail > room:
            parts.append(f"{len(pending) - i} more: e shows all")
            break
        parts.append(f"[b]{safe_markup(label)}[/b] {safe_markup(value)}")
        used += size
    return " · ".join([safe_markup(head), *parts])
