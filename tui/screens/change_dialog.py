"""A live edit is deliberate (issue 11 §6): saving an edit to an active workflow first
shows what changes — the audit diff in words, the next run and the number of records
meeting the criteria, before and after — and applies only on the operator's yes.
Escape cancels: nothing is written and the editor keeps the edit.
"""
from __future__ import annotations

from tui.screens.activate_dialog import PreviewDialog, _esc


class ChangeDialog(PreviewDialog):
    """Confirm saving ``body`` over the active workflow stored as ``original_name``."""

    TITLE_TEXT = "Apply changes to a live workflow"
    CONFIRM_LABEL = "Apply"
    LOADING = "Working out what changes…"

    def __init__(self, original_name: str, body: dict, *, clock=None, refused=None) -> None:
        super().__init__(clock=clock, refused=refused)
        self.original_name = original_name
        self.body = body

    def compute(self):
        from engine.preview_change import preview_change

        return preview_change(self.original_name, self.body, now=self.now())

    def describe(self, value) -> str:
        from engine.identity import format_instant

        c = value
        tz = self.operator_timezone()
        if c.unchanged:
            return f"[b]{_esc(c.name)}[/b]: nothing changes."
        lines = [f"[b]{_esc(c.name)}[/b] is active: these changes apply at once.", ""]
        lines += [f"• {_esc(line)}" for line in c.changes]
        lines.append("")
        before = format_instant(c.next_before, tz, c.timezone)
        after = format_instant(c.next_after, tz, c.timezone)
        if before == after:
            lines.append(f"Next run: {_esc(before)} (unchanged)")
        else:
            lines += ["Next run:", f"  before  {_esc(before)}", f"  after   [b]{_esc(after)}[/b]"]
        b, a = c.counts_before.words(), c.counts_after.words()
        if b == a:
            lines.append(f"Meeting the criteria now: {_esc(b)} (unchanged)")
        else:
            lines += ["Meeting the criteria now:", f"  before  {_esc(b)}", f"  after   [b]{_esc(a)}[/b]"]
        return "\n".join(lines)
