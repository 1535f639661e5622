"""The workflow editor's refused saves: which section and field a service-layer message
is about, and showing it there in the screen's labels.

``engine.workflows.save_workflow`` names the field to fix at the start of its message
("schedule: …", "criteria group 1, filter 2 …", "actions step 3 (webhook): …"); the
editor maps that prefix back to the section and field, switches there, marks it and
puts the focus on it. A mixin for ``WorkflowEditorScreen``.
"""
from __future__ import annotations

from textual.widgets import Input, Static, TabbedContent

from models.errors import RotaError
from models.objects import get_props
from tui.labels import humanize
from tui.text import safe_markup
from tui.widgets.schedule_form import ScheduleForm
from tui.widgets.settings_form import SettingsForm


def section_for_error(message: str, field_section: str | None = None) -> str | None:
    """The section (tab id) a save_workflow refusal is about: from the error's ``field``
    (``RotaError.section``) when it names one, else from the message's leading words."""
    head = (field_section or message.split(":", 1)[0]).lower()
    if head.startswith("schedule"):
        return "tab-schedule"
    if head.startswith("criteria"):
        return "tab-criteria"
    if head.startswith("actions"):
        return "tab-actions"
    if head.startswith(("suppression", "unenrollment", "settings")):
        return "tab-settings"
    return None


class EditorErrors:
    """Show a refused save on its field (the screen provides ``object_type`` and
    ``_focus_section``)."""

    _after_save: str | None

    def _clear_errors(self) -> None:
        self.query_one("#we-name-error", Static).update("")
        self.query_one("#we-name-error").display = False
        self.query_one("#we-name", Input).remove_class("-invalid")
        for err_id in ("err-criteria", "err-actions", "err-settings"):
            self.query_one(f"#{err_id}", Static).update("")
        self.query_one("#we-settings", SettingsForm).show_error(None)

    def show_save_error(self, error: RotaError | str) -> None:
        """Put a service-layer refusal on its field and section, focus it, and toast it.
        Saving (ctrl+s), activating (ctrl+t) and a live edit's preview all come here."""
        self._after_save = None
        message = str(error)
        section = section_for_error(message, getattr(error, "section", None))
        raw_detail = message.split(":", 1)[1].strip() if ":" in message else message
        words = self.words(message)  # what is shown: labels, not the file's names
        detail = self.words(raw_detail)
        if (message.startswith(("name:", "object_type:")) or "exists already" in message
                or getattr(error, "section", None) in ("name", "object_type")):
            self.query_one("#we-name-error", Static).update(words)
            self.query_one("#we-name-error").display = True
            self.query_one("#we-name", Input).add_class("-invalid")
        elif section == "tab-schedule":
            self.query_one("#we-schedule", ScheduleForm).show_error(detail)
        elif section == "tab-criteria":
            self.query_one("#err-criteria", Static).update(words)
        elif section == "tab-actions":
            self.query_one("#err-actions", Static).update(words)
        elif section == "tab-settings":
            self.query_one("#err-settings", Static).update(words)
            if message.startswith("settings"):
                self.query_one("#we-settings", SettingsForm).show_error(detail)
        if section:
            self.query_one("#we-tabs", TabbedContent).active = section
        self.call_after_refresh(self._focus_error, section, message)
        self.notify(self.words(message, markup=False), title="Not saved", severity="error", timeout=8)

    def words(self, message: str, *, markup: bool = True) -> str:
        """A service-layer message in the screen's labels (``tui.labels``), markup-safe
        (plain text with ``markup=False``, for a toast)."""
        try:
            props = get_props(self.object_type)
        except RotaError:
            props = None
        return safe_markup(humanize(message, props)) if markup else humanize(message, props)

    def _focus_error(self, section: str | None, message: str) -> None:
        """Focus the marked field, so fixing it is the next keystroke."""
        if section is None:
            self.query_one("#we-name").focus()
        elif section == "tab-schedule":
            self.query_one("#we-schedule", ScheduleForm).focus_error()
        elif section == "tab-settings" and message.startswith("settings"):
            self.query_one("#st-pause").focus()
        elif section == "tab-settings":
            which = "#st-suppression" if message.startswith("suppression") else "#st-unenrollment"
            self.query_one(which).focus()
        else:
            self._focus_section()
