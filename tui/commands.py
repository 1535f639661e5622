"""A command palette provider that knows the current screen.

It lists exactly what the screen's key bindings do (their descriptions), so the palette
and the footer never disagree and every action is reachable by name as well as by key.
Disabled actions (``check_action`` returned None) are left out: choosing them would do
nothing.
"""
from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenCommands(Provider):
    """Commands = the enabled, described key bindings of the screen the palette opened on."""

    def _commands(self) -> list[tuple[str, str, object]]:
        seen: set[str] = set()
        out = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action == "command_palette":
                continue
            name = binding.description
            if name in seen:
                continue
            seen.add(name)
            keys = binding.key_display or self.app.get_key_display(binding)
            help_text = f"key: {keys}" + (f" — {binding.tooltip}" if binding.tooltip else "")
            out.append((name, help_text, partial(self.app.run_action, binding.action, active.node)))
        return out

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
