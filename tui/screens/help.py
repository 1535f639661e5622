"""Help: the keys of the screen it was opened from (issue 6 §6).

The list is read from that screen's active bindings at the moment help is opened, so
it always matches the footer and the command palette — nothing is maintained by hand.
"""
from __future__ import annotations

import textwrap

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

KEY_WIDTH = 16
GENERAL = [
    ("tab / shift+tab", "Move between fields"),
    ("escape", "Back / cancel"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", key_display="esc")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen
        self.keys = self.collect(screen)

    def collect(self, screen: Screen) -> list[tuple[str, str, bool]]:
        """(key, what it does, enabled now) for the screen's own described bindings and
        the app's footer keys. A focused widget's keys (cursor movement in a table,
        editing in an input) are left out: they are what the widget always does."""
        out: list[tuple[str, str, bool]] = []
        seen: set[str] = set()
        declared = set()  # actions the screen's own classes bind (not Textual's defaults)
        for cls in type(screen).__mro__:
            if not cls.__module__.startswith("textual"):
                for b in cls.__dict__.get("BINDINGS", []):
                    declared.add(b.action if isinstance(b, Binding) else b[1])
        for key, active in screen.active_bindings.items():
            binding = active.binding
            own = (active.node is screen and binding.action in declared) or (
                active.node is self.app and binding.show)
            if not own or not binding.description or key in seen:
                continue
            seen.add(key)
            what = binding.tooltip or binding.description
            out.append((binding.key_display or self.app.get_key_display(binding), what, active.enabled))
        return out

    def compose(self) -> ComposeResult:
        name = getattr(self.for_screen, "HELP_TITLE", None) or type(self.for_screen).__name__.removesuffix("Screen")
        with Vertical(classes="dialog", id="help"):
            yield Static(f"Keys — {name}", classes="title")
            yield DataTable(id="keys", cursor_type="row", show_header=False)
            yield Static("Escape to close", classes="hint")

    def on_resize(self) -> None:
        self.fill()

    def fill(self) -> None:
        """One row per key, its words wrapped to the width the dialog has (never cut)."""
        table = self.query_one("#keys", DataTable)
        inner = table.size.width or self.query_one("#help").content_region.width
        does = max(16, inner - KEY_WIDTH - 4 - 1)  # 2 cells of padding per column, 1 for a scrollbar
        if getattr(self, "_filled_at", None) == does:
            return
        self._filled_at = does
        table.clear(columns=True)
        table.add_column("Key", width=KEY_WIDTH, key="key")
        table.add_column("Does", width=does, key="does")
        rows = [(key, what if enabled else f"{what} (not now)") for key, what, enabled in self.keys]
        for key, what in rows + GENERAL:
            lines = textwrap.wrap(what, does) or [""]
            table.add_row(key, "\n".join(lines), height=len(lines))

    def action_close(self) -> None:
        self.dismiss(None)
