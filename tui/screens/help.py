"""Help: the keys of the screen it was opened from (issue 6 §6).

The list is read from that screen's active bindings at the moment help is opened, so
it always matches the footer and the command palette — nothing is maintained by hand.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

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
            table: DataTable = DataTable(id="keys", cursor_type="row", show_header=False)
            table.add_column("Key", width=16, key="key")
            table.add_column("Does", width=38, key="does")
            for key, what, enabled in self.keys:
                table.add_row(key, what if enabled else f"{what} (not now)")
            for key, what in GENERAL:
                table.add_row(key, what)
            yield table
            yield Static("Escape to close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
