"""The settings section of the workflow editor (SPEC §5).

Pause days, the campaign, and the suppression and unenrollment criteria, edited with
the same ``CriteriaEditor`` as enrollment. The "run actions only at certain times"
option of event-based workflows is shown, disabled, with the reason: operators coming
from hosted CRMs look for it, and an absent option reads as a bug while a disabled one
explains itself.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Checkbox, Input, Label, Static

from tui.text import safe_text
from tui.widgets.criteria_editor import CriteriaEditor

TIMES_REASON = ("Not available for scheduled workflows: they run at the scheduled time. "
                "Use pause days to skip dates.")


class SettingsForm(VerticalScroll):
    """Fields for ``settings`` plus the suppression and unenrollment criteria."""

    DEFAULT_CSS = """
    SettingsForm .st-row { height: auto; margin-bottom: 1; }
    SettingsForm .st-label { width: 12; }
    SettingsForm Input { width: 1fr; }
    SettingsForm .st-heading { text-style: bold; margin-top: 1; }
    SettingsForm .st-reason { color: $text-muted; padding-left: 4; }
    SettingsForm .st-error { color: $error; height: auto; }
    """

    def __init__(self, body: dict, object_type: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._body = body
        self.object_type = object_type

    def compose(self) -> ComposeResult:
        settings = self._body.get("settings") or {}
        with Horizontal(classes="st-row"):
            yield Label("Pause days", classes="st-label")
            yield Input(", ".join(settings.get("pause_dates") or []), placeholder="YYYY-MM-DD, YYYY-MM-DD",
                        compact=True, id="st-pause")
        yield Static("", classes="st-error", id="err-pause")
        with Horizontal(classes="st-row"):
            yield Label("Campaign", classes="st-label")
            # Stored text, shown with control characters escaped (settings_value keeps it).
            yield Input(safe_text(settings.get("campaign") or ""), placeholder="optional campaign name", compact=True,
                        id="st-campaign")
        yield Checkbox("Run actions only at certain times", False, disabled=True, compact=True, id="st-times")
        yield Static(TIMES_REASON, classes="st-reason")
        yield Label("Suppression: records meeting these are never enrolled", classes="st-heading")
        yield CriteriaEditor(self._body.get("suppression") or [], self.object_type, empty_text="No suppression", target="suppression",
                             id="st-suppression")
        yield Label("Unenrollment: an enrolled record that comes to meet these leaves", classes="st-heading")
        yield CriteriaEditor(self._body.get("unenrollment") or [], self.object_type, empty_text="No unenrollment", target="unenrollment",
                             id="st-unenrollment")

    def settings_value(self, previous: dict | None = None) -> dict:
        """The settings object: pause dates and campaign over ``previous`` (which keeps
        keys this form does not show, such as a per-workflow misfire policy)."""
        out = dict(previous or {})
        out["pause_dates"] = [d.strip() for d in self.query_one("#st-pause", Input).value.replace(";", ",").split(",")
                              if d.strip()]
        typed = self.query_one("#st-campaign", Input).value.strip()
        stored = (self._body.get("settings") or {}).get("campaign") or ""
        out["campaign"] = stored.strip() if stored and typed == safe_text(stored).strip() else typed
        return out

    @property
    def suppression(self) -> list:
        return self.query_one("#st-suppression", CriteriaEditor).groups

    @property
    def unenrollment(self) -> list:
        return self.query_one("#st-unenrollment", CriteriaEditor).groups

    def set_object_type(self, object_type: str) -> None:
        self.object_type = object_type
        for editor in self.query(CriteriaEditor):
            editor.set_object_type(object_type)

    def show_error(self, message: str | None) -> None:
        """Mark the pause-days field with a settings error from saving."""
        self.query_one("#err-pause", Static).update(message or "")
        self.query_one("#st-pause", Input).set_class(bool(message), "-invalid")
