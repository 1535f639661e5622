"""The schedule section of the workflow editor: the form and, beside it, a live preview.

The form only gathers the SPEC §9 schedule JSON; ``engine.schedule.parse_schedule`` is
the single judge of what is valid, so the editor, workflow files and the engine can
never disagree. Its messages already say what to fix, so they are shown on the field
they are about (found from the wording) rather than rephrased here.

The form for every kind is built once and shown or hidden, so switching the kind only
re-lays out. The schedule in words is shown on every change (parsing is cheap); the
next five runs, their notes (pause day, DST shift) and the warnings are computed in a
thread worker once typing pauses (:data:`PREVIEW_DEBOUNCE_S`). When the form sits in
the workflow editor, :meth:`ScheduleForm.refresh_projection` adds each run's projected
enrollment count (``engine.simulate``, in the database, in a worker): per run when the
criteria use relative dates, else one count for all.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import available_timezones

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static
from textual.worker import Worker

from engine.schedule.base import FLEX_DAYS, MONTH_LABELS, ORDINALS, WEEKDAY_LABELS, WEEKDAY_NAMES, BusinessCalendar
from engine.schedule.describe import upcoming_with_notes
from engine.schedule.model import Schedule, parse_schedule
from engine.simulate import Occurrence, count_occurrences, uses_relative_dates
from models.errors import RotaError
from models.timeutil import utcnow, zone
from tui.widgets.toggle_grid import ToggleGrid
from tui.workers import WorkerReports, db_read

PREVIEW_DEBOUNCE_S = 0.15
PREVIEW_RUNS = 5

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


class ScheduleForm(WorkerReports, Widget):
    """Frequency, the kind's fields, time, time zone; the preview beside them."""

    DEFAULT_CSS = """
    ScheduleForm { height: 1fr; }
    """

    class Changed(Message):
        """The schedule JSON changed; ``valid`` says whether parse_schedule accepted it."""

        def __init__(self, form: ScheduleForm, schedule: dict, valid: bool) -> None:
            super().__init__()
            self.form = form
            self.schedule = schedule
            self.valid = valid

        @property
        def control(self) -> ScheduleForm:
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
        self.schedule: Schedule | None = None
        """The parsed schedule (None while the fields are invalid)."""
        self._runs: list[tuple[datetime, list[str]]] = []
        self._counts: tuple[Schedule, dict[datetime, int], bool] | None = None
        self._preview_timer: Any = None

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
        self.call_after_refresh(self.refresh_projection)  # once the editor around us is built

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
        """Re-parse the fields, mark what is wrong, show the words; the runs and warnings
        follow from a worker once typing pauses."""
        data = self.schedule_json()
        try:
            schedule = parse_schedule(data, default_timezone=self._default_tz)
        except RotaError as exc:
            self.error, self.schedule, self._runs = str(exc), None, []
            self.show_error(self.error)
            self._set("#sf-words", Text("Fix the schedule to see its next runs.", style="italic"))
            self._set("#sf-runs", "")
            self._set("#sf-warnings", "")
        else:
            self.error = None
            self.show_error(None)
            self._set("#sf-words", Text(schedule.describe(), style="bold"))
            if schedule != self.schedule:
                first = self.schedule is None and not self._runs
                self.schedule = schedule
                if self._preview_timer is not None:
                    self._preview_timer.stop()
                if first:  # opening the form: no typing to wait for
                    self._start_preview()
                else:
                    self._preview_timer = self.set_timer(PREVIEW_DEBOUNCE_S, self._start_preview)
        if post:
            self.post_message(self.Changed(self, data, self.error is None))

    def busy_warning(self) -> str | None:
        """"This schedule runs 1,440 times a day" when it runs more than 24 times a day."""
        if self.schedule is None or not self.schedule.is_busy():
            return None
        return f"This schedule runs {self.schedule.runs_per_day():,} times a day"

    def _editor_body(self) -> dict | None:
        """The workflow body around this form, when it sits in the workflow editor."""
        collect = getattr(self.screen, "collect_body", None)
        try:
            return collect() if callable(collect) else None
        except Exception:
            return None

    def _pause_dates(self) -> set[date]:
        body = self._editor_body() or {}
        out = set()
        for text in (body.get("settings") or {}).get("pause_dates") or []:
            try:
                out.add(date.fromisoformat(str(text)))
            except ValueError:
                continue  # the settings form reports a bad date
        return out

    def _start_preview(self) -> None:
        if self.schedule is not None:
            self.compute_preview(self.schedule, self._clock(), self._pause_dates())

    @work(thread=True, exclusive=True, exit_on_error=False, group="sf-preview")
    def compute_preview(self, schedule: Schedule, now: datetime, pause_dates: set[date]) -> tuple:
        """The next runs with their notes, and the warnings (DST over the next year)."""
        runs = upcoming_with_notes(schedule, now, PREVIEW_RUNS, pause_dates=pause_dates, calendar=self._calendar)
        return schedule, runs, schedule.warnings(now, calendar=self._calendar)

    def refresh_projection(self) -> None:
        """Count what each of the next runs would enroll (the editor calls this, debounced)."""
        body = self._editor_body()
        if body is None or self.schedule is None:
            return
        self.compute_counts(self.schedule, self._clock(), body.get("object_type") or "contact",
                            body.get("criteria") or [], body.get("suppression") or [])

    @db_read("sf-counts")
    def compute_counts(self, schedule: Schedule, now: datetime, type_name: str, criteria: list,
                       suppression: list) -> tuple | None:
        tz = schedule.zoneinfo
        found = [Occurrence(at, at.astimezone(tz)) for at in schedule.next_n(now, PREVIEW_RUNS, calendar=self._calendar)]
        try:
            count_occurrences(found, type_name, criteria, suppression, schedule.timezone)
        except RotaError:
            return None  # invalid criteria: the criteria section says why
        return schedule, {o.scheduled_for: o.would_enroll for o in found}, uses_relative_dates(criteria, suppression)

    def worker_error(self, worker: Worker) -> bool:
        self._set("#sf-warnings", Text(f"preview failed: {worker.error}", style="red"))
        return True

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.result is None:
            return
        if worker.group == "sf-preview":
            schedule, runs, warnings = worker.result
            if schedule != self.schedule:
                return  # superseded by a newer edit
            self._runs = runs
            self._set("#sf-warnings", Text("\n".join(f"⚠ {w}" for w in warnings), style="yellow")
                      if warnings else "")
            self._render_runs()
        elif worker.group == "sf-counts":
            self._counts = worker.result
            self._render_runs()

    def _render_runs(self) -> None:
        if self.schedule is None:
            return
        counts: dict[datetime, int] = {}
        relative = False
        if self._counts is not None and self._counts[0] == self.schedule:
            _, counts, relative = self._counts
        width = self.query_one("#sf-preview").content_region.width or 31
        self._set("#sf-runs", self._runs_text(self._runs, self.schedule.timezone, counts, relative, width))

    def on_resize(self) -> None:
        self._render_runs()  # the preview's width decides where each run's count goes

    def _runs_text(self, runs: list[tuple[datetime, list[str]]], tz_name: str,
                   counts: dict[datetime, int] | None = None, relative: bool = False, width: int = 31) -> Text:
        """Next runs as 'Fri 04 Dec 08:00' (with the year for a run in another year),
        with the operator's wall time after it when the zones differ, the
        projected count (per run when the criteria use relative dates, else once), and
        each run's notes. A count that does not fit beside its run goes under it,
        whole, rather than being wrapped away from its number."""
        text = Text()
        wf_tz, op_tz = zone(tz_name), zone(self._operator_tz)
        same = tz_name == self._operator_tz
        heading = f"Next runs ({tz_name})" if same else f"Next runs ({tz_name} → yours, {self._operator_tz})"
        text.append(heading + "\n", style="underline")
        if counts and not relative:
            first = next(iter(counts.values()))
            text.append(f"each would enroll {first:,} (today's data)\n", style="dim")
        if not runs:
            text.append("no run in the next 400 years")
        this_year = self._clock().astimezone(wf_tz).year
        for at, notes in runs:
            local = at.astimezone(wf_tz)
            line = local.strftime("%a %d %b %H:%M" if local.year == this_year else "%a %d %b %Y %H:%M")
            if not same:
                mine = at.astimezone(op_tz)
                line += " → " + (mine.strftime("%H:%M") if mine.date() == local.date()
                                  else mine.strftime("%a %d %H:%M"))
            text.append(line)
            if counts and relative and at in counts:
                count = f"{counts[at]:,} enroll"
                if len(line) + 2 + len(count) <= width:
                    text.append(f"  {count}", style="dim")
                else:
                    text.append(f"\n  {count}", style="dim")
            text.append("\n")
            for note in notes:
                text.append(f"  {note}\n", style="yellow")
        return text
