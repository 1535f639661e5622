"""The one exception type a person sees: a one-line message that says what to fix.

A ``RotaError`` may carry the ``field`` it is about: a path into the input, such as
``schedule``, ``criteria``, ``actions[2].url`` or ``settings.pause_dates[1]``. The
workflow editor uses ``section`` (the path's first name) to open the right tab and
focus the input, instead of reading the message's first words.
"""
from __future__ import annotations

import re

_FIRST_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RotaError(Exception):
    """Bad input or an impossible request. ``str(err)`` is a single line for the user."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(" ".join(str(message).split("\n")))
        self.field = field

    @property
    def message(self) -> str:
        return str(self)

    @property
    def section(self) -> str | None:
        """The top-level name of ``field`` (``actions[2].url`` → ``actions``), or None."""
        if not self.field:
            return None
        match = _FIRST_NAME.match(self.field)
        return match.group(0) if match else None

    def under(self, field: str) -> RotaError:
        """This error as part of ``field``: "field: message", with the path extended
        (``RotaError("bad hour", field="time").under("schedule")`` is about
        ``schedule.time``)."""
        path = field if not self.field else (
            f"{field}{self.field}" if self.field.startswith("[") else f"{field}.{self.field}")
        return RotaError(f"{field}: {self}", field=path)

    def about(self, field: str) -> RotaError:
        """This error, its message unchanged, marked as being about ``field`` (unless it
        names a field already)."""
        if self.field is None:
            self.field = field
        return self
