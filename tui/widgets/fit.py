"""Text that fits a table cell: shortened at a word boundary with "…", never cut mid-word
when a shorter whole-word prefix says enough (issue 14 §1)."""
from __future__ import annotations

from rich.cells import cell_len

ELLIPSIS = "…"


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells. A longer text ends in "…" after its last
    whole word, unless that would throw away more than half the room (one long word:
    then it is cut, still marked with "…")."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    room = width - 1  # the ellipsis takes one cell
    cut = text
    while cut and cell_len(cut) > room:
        cut = cut[:-1]
    if not (text[len(cut)].isspace() or cut[-1:].isspace()):  # mid-word: back to the previous space
        space = cut.rstrip().rfind(" ")
        if space >= room // 2:
            cut = cut[:space]
    return cut.rstrip(" ,;:·-") + ELLIPSIS


def compact_count(n: int, width: int = 6) -> str:
    """A count in at most about ``width`` cells: "1,234", "123k", "12M"."""
    text = f"{n:,}"
    if len(text) <= width:
        return text
    if n < 1_000_000:
        return f"{n // 1000:,}k"
    return f"{n // 1_000_000:,}M"


def fit_parts(parts: list[str], room: int, sep: str = " · ") -> str:
    """The leading ``parts`` (console markup) joined by ``sep`` that fit in ``room``
    cells, so a detail line of two rows ends after a whole part, not in the middle of
    one. The first part is always kept."""
    from rich.text import Text

    out: list[str] = []
    used = 0
    for part in parts:
        size = Text.from_markup(part).cell_len + (len(sep) if out else 0)
        if out and used + size > room:
            break
        out.append(part)
        used += size
    return sep.join(out)
