"""Stored text on the app's screen, safely: the app's one helper for it (issue 10 §6).

Workflow names, record values, history details, notifications, error messages — any
text that came from the database, a file or another person — reaches a widget through
one of these two functions:

* ``safe_text(value)`` for places that take plain text (a ``rich.text.Text``, an Input,
  a Select or Option prompt, a notification's text);
* ``safe_markup(value)`` for places that parse markup (a ``Static``/``Label``, a
  ``DataTable`` cell given as a string, a markup string built around the value).

Both escape control characters with ``models.text.printable`` (the CLI's helper), so
``ESC]0;PWNED BEL`` shows as ``\\x1b]0;PWNED\\x07`` and never retitles the terminal
or moves its cursor; ``safe_markup`` also escapes ``[`` so a name cannot restyle the
screen (or break its markup).
"""
from __future__ import annotations

from typing import Any

from rich.markup import escape

from models.text import printable


def safe_text(value: Any, *, keep_lines: bool = False) -> str:
    """``value`` as text with control characters shown as ``\\x1b``-style escapes
    (newlines too, unless ``keep_lines``). None is empty text."""
    return "" if value is None else printable(value, keep_lines=keep_lines)


def safe_markup(value: Any, *, keep_lines: bool = False) -> str:
    """``safe_text(value)``, escaped for a place that reads markup."""
    return escape(safe_text(value, keep_lines=keep_lines))
