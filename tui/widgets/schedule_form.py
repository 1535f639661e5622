"""The schedule section of the workflow editor: the form and, beside it, a live preview.

The form only gathers the SPEC §9 schedule JSON; ``engine.schedule.parse_schedule`` is
the single judge of what is valid, so the editor, workflow files and the engine can
never disagree. Its messages already say what to fix, so they are shown on the field
they are about (found from the wording) rather than rephrased here.

The preview (the schedule in words, the next five runs in the workflow's zone and the
operator's, the warnings) is recomputed on every change, on the UI thread: parsing and
generating five occurrences is pure and takes well under a millisecond.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable
from zoneinfo import available_timezones

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from engine.schedule import (
    FLEX_DAYS, MONTH_LABELS, ORDINALS, WEEKDAY_LABELS, WEEKDAY_NAMES, BusinessCalendar, parse_schedule,
)
from models.errors import RotaError
from models.timeutil import utcnow, zone
from tui.widgets.toggle_grid import ToggleGrid

FREQUENCIES = (("Daily", "daily"), ("Weekly", "weekly"), ("Monthly", "monthly"), ("Yearly", "yearly"),
               ("Advanced (cron)", "cron"))
MONTHLY_MODES = (("Specific days", "monthly_days"), ("Flexible day", "monthly_flexible"))
FLEX_DAY_LABELS = {**dict(zip(WEEKDAY_NAMES, WEEKDAY_LABELS)), "day": "Day", "weekday": "Business day"}

# Which row a parse_schedule message is about, tried in order against its wording.
_FIELD_BY_WORDS = (
    ("time zone", "tz"), ("timezone", "tz"), ("cron", "cron"), ("weekday", "weekdays"),
    ("flexible", "flex"), ("month", "date"), ("day", "days"), ("time", "time"),
)


def _zone_names() -> list[str]:
    """Every IANA name, sorted, for the type-to-search suggester (UTC first: the usual pick)."""
    return ["UTC"] + sorted(n for n in available_timezones() if n != "UTC" and not n.startswith(("posix/", "right/")))


class ScheduleForm(Widget):
    """Frequency, the kind's fields, time, time zone; the preview beside them."""

    DEFAULT_CSS = """
    ScheduleForm { height: 1fr; }
    """

    class Changed(Message):
        """The schedule JSON changed; ``valid`` says whether parse_schedule accepted it."""

        def __init__(self, form: "ScheduleForm", schedule: dict, valid: bool) -> None:
            super().__init__()
            self.form = form
            self.schedule = schedule
            self.valid = valid

        @property
        def control(self) -> "ScheduleForm":
            return self.form

    def __init__(self, schedule: dict | None, *, default_timezone: str, operator_timezone: str,
                 clock: Callable[[], datetime] = utcnow, calendar: BusinessCalendar | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._initial = dict(schedule or {})
        self._default_tz = default_timezone
        self._operator_tz = operator_timezone
        self._clock = clock
        self._calendar = calendar or BusinessCalendar()
        self.error: str | None = None
        """The current problem with the schedule (None when valid)."""
        self._shown: dict[str, str] = {}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # Fields of the other kinds start from a sensible choice (Monday, the 1st), so
        # switching the frequency shows a working schedule rather than an error.
        s = self._initial
        kind = s.get("kind", "weekly")
        freq = "monthly" if kind.startswith("monthly") else kind
        flex = s.get("flex") or {}
        with Horizontal(id="sf-columns"):
            with VerticalScroll(id="sf-fields", can_focus=False):
                with Horizontal(classes="sf-row"):
                    yield Label("Frequency", classes="sf-label")
                    yield Select(FREQUENCIES, value=freq if freq in dict(map(reversed, FREQUENCIES)) else "weekly",
                                 allow_blank=False, compact=True, id="sf-freq")
                with Horizontal(classes="sf-row", id="row-monthly"):
                    yield Label("Monthly on", classes="sf-label")
                    yield Select(MONTHLY_MODES, value=kind if kind.startswith("monthly") else "monthly_days",
                                 allow_blank=False, compact=True, id="sf-monthly")
                with Vertical(classes="sf-block", id="row-weekdays"):
                    yield Label("Weekdays (space toggles)", classes="sf-label")
                    yield ToggleGrid([(n, n.capitalize()) for n in WEEKDAY_NAMES], columns=7,
                                     selected=s.get("weekdays") or ["mon"], id="sf-weekdays")
                    yield Static("", classes="sf-error", id="err-weekdays")
                with Vertical(classes="sf-block", id="row-days"):
                    yield Label("Days of the month (space toggles)", classes="sf-label")
                    yield ToggleGrid([(d, str(d)) for d in range(1, 32)], columns=7,
                                     selected=s.get("days") or [1], id="sf-days")
                    yield Static("", classes="sf-error", id="err-days")
                with Vertical(classes="sf-block", id="row-flex"):
                    with Horizontal(classes="sf-row"):
                        yield Label("On the", classes="sf-label")
                        yield Select([(o.capitalize(), o) for o in ORDINALS], value=flex.get("ordinal", "first"),
                                     allow_blank=False, compact=True, id="sf-ordinal")
                    with Horizontal(classes="sf-row"):
                        yield Label("", classes="sf-label")
                        yield Select([(FLEX_DAY_LABELS[d], d) for d in FLEX_DAYS], value=flex.get("day", "mon"),
                                     allow_blank=False, compact=True, id="sf-flexday")
                    yield Static("", classes="sf-error", id="err-flex")
                with Vertical(classes="sf-block", id="row-date"):
                    with Horizontal(classes="sf-row"):
                        yield Label("Month", classes="sf-label")
                        yield Select([(MONTH_LABELS[m], m) for m in range(1, 13)], value=s.get("month", 1),
                                     allow_blank=False, compact=True, id="sf-month")
                    with Horizontal(classes="sf-row"):
                        yield Label("Day", classes="sf-label")
                        yield Input(str(s.get("day", 1)), placeholder="1–31", compact=True, id="sf-day")
                    yield Static("", classes="sf-error", id="err-date")
                with Vertical(classes="sf-block", id="row-time"):
                    with Horizontal(classes="sf-row"):
                        yield Label("Time", classes="sf-label")
                        yield Input(s.get("time", "08:00"), placeholder="HH:MM", compact=True, id="sf-time")
                    yield Static("", classes="sf-error", id="err-time")
                with Vertical(classes="sf-block", id="row-cron"):
                    with Horizontal(classes="sf-row"):
                        yield Label("Cron", classes="sf-label")
                        yield Input(s.get("cron", "0 8 * * 1-5"), placeholder="min hour day month weekday",
                                    compact=True, id="sf-cron")
                    yield Static("", classes="sf-error", id="err-cron")
                with Vertical(classes="sf-block", id="row-tz"):
                    with Horizontal(classes="sf-row"):
                        yield Label("Time zone", classes="sf-label")
                        yield Input(s.get("timezone") or self._default_tz, placeholder="type to search, e.g. Europe/",
                                    suggester=SuggestFromList(_zone_names(), case_sensitive=False),
                                    compact=True, id="sf-tz")
                    yield Static("", classes="sf-error", id="err-tz")
                yield Static("", classes="sf-error", id="err-other")
            with VerticalScroll(id="sf-preview"):
                yield Static("", id="sf-words")
                yield Static("", id="sf-runs")
                yield Static("", id="sf-warnings")

    def on_mount(self) -> None:
        self._show_rows()
        self.refresh_preview(post=False)

    # ------------------------------------------------------------------ reading

    @property
    def kind(self) -> str:
        freq = self.query_one("#sf-freq", Select).value
        if freq == "monthly":
            return self.query_one("#sf-monthly", Select).value
        return str(freq)

    def schedule_json(self) -> dict:
        """The SPEC §9 schedule the fields describe now (valid or not: saving reports why)."""
        kind = self.kind
        out: dict = {"kind": kind}
        if kind == "weekly":
            out["weekdays"] = self.query_one("#sf-weekdays", ToggleGrid).selected
        elif kind == "monthly_days":
            out["days"] = self.query_one("#sf-days", ToggleGrid).selected
        elif kind == "monthly_flexible":
            out["flex"] = {"ordinal": self.query_one("#sf-ordinal", Select).value,
                           "day": self.query_one("#sf-flexday", Select).value}
        elif kind == "yearly":
            out["month"] = self.query_one("#sf-month", Select).value
            day = self.query_one("#sf-day", Input).value.strip()
            out["day"] = int(day) if day.isdigit() else day
        if kind == "cron":
            out["cron"] = self.query_one("#sf-cron", Input).value
        else:
            out["time"] = self.query_one("#sf-time", Input).value.strip()
        out["timezone"] = self.query_one("#sf-tz", Input).value.strip()
        return out

    @property
    def timezone(self) -> str:
        """The workflow's zone if it is a real one, else the default (for counting)."""
        name = self.query_one("#sf-tz", Input).value.strip()
        try:
            zone(name)
            return name
        except RotaError:
            return self._default_tz

    # ------------------------------------------------------------------ reacting

    def _show_rows(self) -> None:
        kind = self.kind
        freq = self.query_one("#sf-freq", Select).value
        visible = {
            "row-monthly": freq == "monthly",
            "row-weekdays": kind == "weekly",
            "row-days": kind == "monthly_days",
            "row-flex": kind == "monthly_flexible",
            "row-date": kind == "yearly",
            "row-time": kind != "cron",
            "row-cron": kind == "cron",
        }
        for row_id, show in visible.items():
            self.query_one(f"#{row_id}").display = show

    @on(Select.Changed)
    @on(Input.Changed)
    @on(ToggleGrid.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        if not self.is_mounted:
            return
        if isinstance(event, Select.Changed) and event.select.id in ("sf-freq", "sf-monthly"):
            self._show_rows()
        self.refresh_preview()

    def show_error(self, message: str | None) -> None:
        """Mark the field a message is about (the rest are cleared)."""
        fields = {"weekdays": "#sf-weekdays", "days": "#sf-days", "flex": "#sf-ordinal", "date": "#sf-day",
                  "time": "#sf-time", "cron": "#sf-cron", "tz": "#sf-tz", "other": None}
        target = self._field_for(message) if message else None
        for name, widget_id in fields.items():
            text = message if name == target else ""
            self._set(f"#err-{name}", text)
            self.query_one(f"#err-{name}").display = bool(text)
            if widget_id:
                self.query_one(widget_id).set_class(bool(text), "-invalid")

    def _set(self, selector: str, content: str | Text) -> None:
        """Update a Static only when its content changes: every update re-lays out the
        screen, and the preview is recomputed on every keystroke."""
        key = content.markup if isinstance(content, Text) else content
        if self._shown.get(selector) != key:
            self._shown[selector] = key
            self.query_one(selector, Static).update(content)

    def focus_error(self) -> None:
        """Focus the field marked invalid (the frequency if none is)."""
        marked = [w for w in self.query(".-invalid") if w.focusable]
        (marked[0] if marked else self.query_one("#sf-freq")).focus()

    def _field_for(self, message: str) -> str:
        """The row a parse_schedule message names; 'other' if its row is not on screen."""
        kind = self.kind
        on_screen = {"tz", "cron"} if kind == "cron" else {"tz", "time"}
        on_screen |= {"weekly": {"weekdays"}, "monthly_days": {"days"}, "monthly_flexible": {"flex"},
                      "yearly": {"date"}}.get(kind, set())
        lowered = message.lower()
        for words, name in _FIELD_BY_WORDS:
            if words in lowered and name in on_screen:
                return name
        if kind == "yearly" and "day" in lowered:
            return "date"
        return "other"

    def refresh_preview(self, post: bool = True) -> None:
        """Re-parse the fields, mark what is wrong, show words, next runs and warnings."""
        data = self.schedule_json()
        try:
            schedule = parse_schedule(data, default_timezone=self._default_tz)
        except RotaError as exc:
            self.error = str(exc)
            self.show_error(self.error)
            self._set("#sf-words", Text("Fix the schedule to see its next runs.", style="italic"))
            self._set("#sf-runs", "")
            self._set("#sf-warnings", "")
        else:
            self.error = None
            self.show_error(None)
            now = self._clock()
            self._set("#sf-words", Text(schedule.describe(), style="bold"))
            self._set("#sf-runs", self._runs_text(schedule.next_n(now, 5, calendar=self._calendar),
                                                  schedule.timezone))
            found = schedule.warnings(now, calendar=self._calendar)
            self._set("#sf-warnings", Text("\n".join(f"⚠ {w}" for w in found), style="yellow") if found else "")
        if post:
            self.post_message(self.Changed(self, data, self.error is None))

    def _runs_text(self, instants: list[datetime], tz_name: str) -> Text:
        """Next runs as 'Fri 04 Dec 08:00', with the operator's wall time after it when the zones differ."""
        text = Text()
        wf_tz, op_tz = zone(tz_name), zone(self._operator_tz)
        same = tz_name == self._operator_tz
        heading = f"Next runs ({tz_name})" if same else f"Next runs ({tz_name} → yours, {self._operator_tz})"
        text.append(heading + "\n", style="underline")
        if not instants:
            text.append("no run in the next 400 years")
        for at in instants:
            local = at.astimezone(wf_tz)
            line = local.strftime("%a %d %b %Y %H:%M")
            if not same:
                mine = at.astimezone(op_tz)
                line += " → " + (mine.strftime("%H:%M") if mine.date() == local.date()
                                  else mine.strftime("%a %d %H:%M"))
            text.append(line + "\n")
        return text

    def set_calendar(self, calendar: BusinessCalendar) -> None:
        self._calendar = calendar
        self.refresh_preview(post=False)
