"""Application settings (SPEC §5): one form over the typed ``Settings`` object.

Values are checked by ``Settings.validate`` (the same rules the CLI and the engine
use) and refused with the reason; nothing is written until they are all valid. The
theme applies at once; the database and "run the engine here" take effect at the next
start, which the form says next to them.
"""
from __future__ import annotations

import dataclasses

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Select, Static, Switch

from models.enums import MisfirePolicy
from models.errors import RotaError
from models.settings import MISFIRE_POLICIES, Settings
from tui.widgets import WrappingFooter

POLICY_LABELS = {MisfirePolicy.RUN_ONCE_LATE: "Run once, late (within the grace window)",
                 MisfirePolicy.RECORD_MISSED: "Record as missed"}


def env_overrides() -> list[str]:
    """The ROTA_… variables that override saved settings (so "saved" is not a surprise)."""
    import os

    return [f"ROTA_{f.name.upper()}" for f in dataclasses.fields(Settings) if f"ROTA_{f.name.upper()}" in os.environ]


class SettingsScreen(Screen[bool]):
    """Dismisses True when saved, False when left unchanged."""

    CSS_PATH = "settings.tcss"
    HELP_TITLE = "Settings"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "back", "Back"),
    ]

    def compose(self) -> ComposeResult:
        s: Settings = self.app.settings
        from models.db import describe

        yield Header(icon="◷")
        with VerticalScroll(id="settings-form"):
            overridden = env_overrides()
            if overridden:
                yield Static("Set in the environment, which wins over this file: " + ", ".join(overridden),
                             classes="hint", id="env-note")
            yield Label("Default time zone (IANA, e.g. Europe/Stockholm)")
            yield Input(s.timezone, id="timezone")
            yield Label("Database file or postgresql:// URL — takes effect at next start")
            yield Input(s.db, placeholder=describe(self.app.db_url), id="db")
            yield Static(f"Now open: {describe(self.app.db_url)}", classes="hint")
            with Horizontal(classes="switch-row"):
                yield Switch(s.run_engine, id="run_engine")
                yield Label("Run the engine in this app — takes effect at next start")
            yield Label("Misfire policy (a run the engine was down for)")
            yield Select([(POLICY_LABELS.get(p, p), p) for p in MISFIRE_POLICIES], value=s.misfire_policy,
                         allow_blank=False, id="misfire_policy")
            yield Label("Grace window (seconds)")
            yield Input(str(s.grace_seconds), id="grace_seconds", type="integer")
            yield Label("Holidays (YYYY-MM-DD, comma-separated)")
            yield Input(", ".join(s.holidays), id="holidays")
            yield Label("Business days (mon, tue, …)")
            yield Input(", ".join(s.business_days), id="business_days")
            yield Label("Theme")
            themes = sorted(self.app.available_themes)
            yield Select([(t, t) for t in themes], value=s.theme if s.theme in themes else themes[0],
                         allow_blank=False, id="theme")
            yield Label("Operator name (recorded in the audit log)")
            yield Input(s.operator, id="operator")
            yield Label("E-mail: SMTP server, port, From address")
            with Horizontal(classes="smtp-row"):
                yield Input(s.smtp_host, placeholder="smtp.example.com", id="smtp_host")
                yield Input(str(s.smtp_port), type="integer", id="smtp_port")
                yield Input(s.smtp_from, id="smtp_from")
            with Horizontal(classes="switch-row"):
                yield Switch(s.smtp_starttls, id="smtp_starttls")
                yield Label("Use STARTTLS (certificate verified)")
            yield Label("SMTP login (user; password, never shown — empty keeps the saved one)")
            with Horizontal(classes="smtp-row"):
                yield Input(s.smtp_user, placeholder="no login", id="smtp_user")
                yield Input("", password=True, placeholder="•••• saved" if s.smtp_password else "password",
                            id="smtp_password")
            yield Label("E-mails to records per minute (at most)")
            yield Input(str(s.email_rate_per_minute), type="integer", id="email_rate_per_minute")
            yield Label("Webhooks may go only to these hosts (comma-separated; empty: anywhere)")
            yield Input(", ".join(s.webhook_allow_hosts), placeholder="hooks.example.com, *.internal.example",
                        id="webhook_allow_hosts")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Back", id="back")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#timezone", Input).focus()

    def gather(self) -> Settings:
        """A validated Settings from the form, or a RotaError naming the field to fix."""

        def text(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value.strip()

        def items(field_id: str) -> list[str]:
            return [v.strip().lower() if field_id == "business_days" else v.strip()
                    for v in text(field_id).split(",") if v.strip()]

        grace = text("grace_seconds")
        try:
            grace_seconds = int(grace)
        except ValueError:
            raise RotaError(f'grace window: "{grace}" is not a whole number of seconds') from None
        numbers = {}
        for field_id, label in (("smtp_port", "SMTP port"), ("email_rate_per_minute", "e-mails per minute")):
            try:
                numbers[field_id] = int(text(field_id))
            except ValueError:
                raise RotaError(f'{label}: "{text(field_id)}" is not a whole number') from None
        password = self.query_one("#smtp_password", Input).value
        candidate = dataclasses.replace(
            self.app.settings,
            timezone=text("timezone") or "UTC",
            db=text("db"),
            run_engine=self.query_one("#run_engine", Switch).value,
            misfire_policy=str(self.query_one("#misfire_policy", Select).value),
            grace_seconds=grace_seconds,
            holidays=items("holidays"),
            business_days=items("business_days"),
            theme=str(self.query_one("#theme", Select).value),
            operator=text("operator"),
            smtp_host=text("smtp_host"),
            smtp_from=text("smtp_from") or "rota@localhost",
            smtp_starttls=self.query_one("#smtp_starttls", Switch).value,
            smtp_user=text("smtp_user"),
            smtp_password=password or self.app.settings.smtp_password,
            webhook_allow_hosts=items("webhook_allow_hosts"),
            **numbers,
        )
        return candidate.validate()

    def action_save(self) -> None:
        from models.settings import save_settings

        try:
            candidate = self.gather()
            path = save_settings(candidate)
        except RotaError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=8)
            return
        except OSError as exc:
            self.notify(f"cannot write the settings file: {exc.strerror}", title="Not saved", severity="error")
            return
        before = self.app.settings
        self.app.settings = candidate
        if candidate.theme != self.app.theme:
            self.app.theme = candidate.theme
        later = [label for label, changed in (
            ("database", candidate.db != before.db), ("engine", candidate.run_engine != before.run_engine),
        ) if changed]
        note = f" {' and '.join(later).capitalize()} change at next start." if later else ""
        self.notify(f"Saved to {path}.{note}", title="Settings")
        self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_back()
