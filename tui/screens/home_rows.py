"""The home table's model: what one workflow's row says, and which columns fit.

Plain functions and frozen data, no widgets: ``load_rows`` reads (in a worker), the
rest turns a ``WorkflowRow`` into cells for the columns ``layout`` chose for the
terminal's width. The screen (``tui.screens.workflows``) only shows them.

Nothing here is proportional to the data: one query for the workflows, one for the
newest run of each (``reads.home_rows``), one for whether the database is empty.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from engine.schedule.model import parse_schedule
from models.enums import RunStatus, WorkflowStatus
from models.errors import RotaError
from models.store import reads
from models.timeutil import utcnow, zone
from tui.text import safe_markup, safe_text
from tui.widgets.fit import clip, compact_count

ROW_CAP = 1000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The name comes first: it gets at least NAME_MIN characters, then the other columns
# are added in order of value (KEEP) while they fit whole, and the name takes what is
# left. At 80 columns: name, status, next run, last run (its outcome: failures show)
# and the enrollments still in progress; the schedule from about 96 columns, Enrolled
# and Type from about 120; at 60 the name, status and next run, and a failing
# workflow's name carries "⚠" (the Last run column does when it shows). Each column
# costs its width + 2 of padding; the scrollbar takes 1. The detail line below the
# table shows the highlighted workflow's whole name, its last run and its schedule.
NAME_MIN = 24
SCHEDULE_WIDTH = 11  # the pattern and time; the zone's abbreviation follows when it fits
LAST_WIDTH = 13  # "⚠ 3 failed 2h"
COLUMNS = (
    ("name", "Name", NAME_MIN),
    ("status", "Status", 6),
    ("type", "Type", 7),
    ("schedule", "Sched (own zone)", 16),
    ("next", "Next run", 12),
    ("last", "Last run", LAST_WIDTH),
    ("in_progress", "In prog.", 8),
    ("enrolled", "Enrolled", 8),
)
KEEP = ("status", "next", "last", "in_progress", "schedule", "enrolled", "type")


def layout(width: int, next_label: str) -> list[tuple[str, str, int]]:
    """The columns shown at ``width`` terminal columns, in table order, with widths."""
    labels = {key: label for key, label, _ in COLUMNS}
    widths = {key: w for key, _, w in COLUMNS}
    labels["next"], widths["next"] = next_label, max(widths["next"], len(next_label))
    room = width - 1 - (NAME_MIN + 2)
    shown = {"name"}
    for key in KEEP:
        if widths[key] + 2 > room:
            break
        shown.add(key)
        room -= widths[key] + 2
    widths["name"] = NAME_MIN + max(0, room)
    return [(key, labels[key], widths[key]) for key, _, _ in COLUMNS if key in shown]


@dataclass(frozen=True)
class WorkflowRow:
    """What the table shows for one workflow (plain values, computed off the UI thread)."""

    id: int
    name: str
    status: str
    object_type: str
    schedule_short: str
    schedule_words: str
    next_run: datetime | None
    last_run: datetime | None
    last_status: str | None
    enrolled: int | None
    zone_abbr: str = ""  # the schedule's own zone, abbreviated ("CET")
    last_detail: str | None = None  # why the last run failed, in words
    steps_failed: int = 0  # the last run's failed steps
    in_progress: int | None = None  # the last run's enrollments not finished (None: no run)

    def matches(self, needle: str) -> bool:
        needle = needle.strip().lower()
        return not needle or any(needle in v.lower() for v in (self.name, self.object_type, self.status))

    @property
    def failing(self) -> bool:
        """The last run failed, or some of its steps did: never shown as plain success."""
        return self.last_status == RunStatus.FAILED or self.steps_failed > 0


@dataclass(frozen=True)
class Snapshot:
    rows: list[WorkflowRow]
    empty_database: bool


def _hm(time: str) -> str:
    """"08:00" → "8:00": one character matters in an 11-character column."""
    return time[1:] if len(time) == 5 and time.startswith("0") else time


def short_schedule(schedule: dict) -> str:
    """At most 11 characters for the table; the full sentence is in the detail line.

    When the day pattern and the time do not both fit, the time goes (the next-run
    column shows it) rather than being cut to a time that looks wrong ("10:0").
    """
    text = _short_schedule(schedule)
    if len(text) <= SCHEDULE_WIDTH or schedule.get("kind") == "cron":
        return text if len(text) <= SCHEDULE_WIDTH else text[:SCHEDULE_WIDTH - 1] + "…"
    pattern = text.rsplit(" ", 1)[0]
    return pattern if len(pattern) <= SCHEDULE_WIDTH else pattern[:SCHEDULE_WIDTH - 1] + "…"


def _short_schedule(schedule: dict) -> str:
    kind = schedule.get("kind")
    time = _hm(str(schedule.get("time", "")))
    if kind == "daily":
        return f"Daily {time}"
    if kind == "weekly":
        days = schedule.get("weekdays") or []
        idx = sorted(WEEKDAYS.index(d) for d in days if d in WEEKDAYS)
        if idx == [0, 1, 2, 3, 4]:
            label = "Mon-Fri"
        elif len(idx) == 1:
            label = WEEKDAYS[idx[0]].capitalize()
        else:
            label = "".join(WEEKDAYS[i][:2].capitalize() for i in idx)
        return f"{label} {time}"
    if kind == "monthly_days":
        return ",".join(str(d) for d in schedule.get("days") or []) + f" {time}"
    if kind == "monthly_flexible":
        flex = schedule.get("flex") or {}
        ordinal = {"first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "last": "Last"}.get(
            flex.get("ordinal"), "?")
        day = {"day": "day", "weekday": "wkd"}.get(flex.get("day"), str(flex.get("day", "")).capitalize())
        return f"{ordinal} {day} {time}"
    if kind == "yearly":
        months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
        month = schedule.get("month", 1)
        return f"{schedule.get('day', 0)} {months[month - 1] if 1 <= month <= 12 else '?'} {time}"
    if kind == "cron":
        return schedule.get("cron", "cron")
    return str(kind)


def age(then: datetime, now: datetime) -> str:
    """How long ago, in at most 4 characters: "now", "42m", "5h", "12d", "3y"."""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 365 * 86400:
        return f"{int(seconds // 86400)}d"
    return f"{int(seconds // (365 * 86400))}y"


LAST_STATUS = {RunStatus.FAILED: "failed", RunStatus.MISSED: "missed", RunStatus.COALESCED: "merged",
               RunStatus.RUNNING: "running"}


def zone_abbreviation(name: str, at: datetime) -> str:
    """A zone's abbreviation at an instant ("CET", "UTC", "-03"); the name if unknown."""
    try:
        return at.astimezone(zone(name)).strftime("%Z") or name
    except RotaError:
        return name


def load_rows(default_timezone: str, now: datetime | None = None) -> Snapshot:
    """Read the home screen's data (store read models) and describe each schedule."""
    now = now or utcnow()
    rows = []
    for wf in reads.home_rows(ROW_CAP):
        try:
            words = parse_schedule(wf.schedule, default_timezone).describe()
        except RotaError as exc:  # a stored schedule we cannot read: say so in the row
            words = f"unreadable schedule: {exc}"
        run = wf.last_run
        rows.append(WorkflowRow(
            id=wf.id, name=wf.name, status=wf.status, object_type=wf.object_type,
            schedule_short=short_schedule(wf.schedule), schedule_words=words,
            next_run=wf.next_run_at if wf.status == WorkflowStatus.ACTIVE else None,
            last_run=run.at if run else None, last_status=run.status if run else None,
            enrolled=run.enrolled if run else None,
            zone_abbr=zone_abbreviation(wf.schedule.get("timezone") or default_timezone, now),
            last_detail=run.detail if run else None,
            steps_failed=run.steps_failed if run else 0,
            in_progress=run.in_progress if run else None,
        ))
    return Snapshot(rows=rows, empty_database=not rows and not reads.any_records())


# ------------------------------------------------------------------------ cells

def last_run_cell(row: WorkflowRow, now: datetime, width: int = LAST_WIDTH) -> str:
    """The last run's outcome and age in ``width`` cells: "✓ 2h ago", "⚠ 3 failed 2h",
    "⚠ failed 5m", "missed 2d", "running". Failed steps always show; the age gives
    way first when both do not fit."""
    if row.last_run is None:
        return "—"
    ago = age(row.last_run, now)
    if row.last_status == RunStatus.FAILED:
        outcome = "⚠ failed"
    elif row.steps_failed:
        outcome = f"⚠ {compact_count(row.steps_failed, 5)} failed"
    elif row.last_status in LAST_STATUS:
        outcome = LAST_STATUS[row.last_status]
    else:
        return f"✓ {ago} ago" if ago != "now" else "✓ just now"
    text = f"{outcome} {ago}"
    return text if len(text) <= width else outcome


def row_cells(row: WorkflowRow, columns: list[tuple[str, str, int]], now: datetime,
              local_time: Callable[[datetime], str]) -> tuple[str, ...]:
    """The cells of ``columns`` (as ``layout`` gives them) for one workflow, each
    fitted to its column: a long name ends in "…" after a whole word."""
    widths = {key: width for key, _, width in columns}
    cells: dict[str, str] = {}
    if "name" in widths:
        # the marker goes on the name when no Last run column shows the failure
        name = f"⚠ {row.name}" if row.failing and "last" not in widths else row.name
        cells["name"] = clip(safe_text(name), widths["name"])  # escaped first, so the clip is what shows
    cells["status"] = row.status
    cells["type"] = clip(row.object_type, widths.get("type", 7))
    schedule = row.schedule_short
    if row.zone_abbr and len(schedule) + 1 + len(row.zone_abbr) <= widths.get("schedule", 16):
        schedule = f"{schedule} {row.zone_abbr}"
    cells["schedule"] = schedule
    cells["next"] = local_time(row.next_run) if row.next_run else "—"
    cells["last"] = last_run_cell(row, now, widths.get("last", LAST_WIDTH))
    cells["in_progress"] = "—" if row.in_progress is None else compact_count(row.in_progress, 8)
    cells["enrolled"] = "—" if row.enrolled is None else compact_count(row.enrolled, 8)
    return tuple(cells[key] for key, _, _ in columns)


def escape(text: str | None) -> str:
    return safe_markup(text)


def detail_markup(row: WorkflowRow, local_time: Callable[[datetime], str], zone_abbr: str) -> str:
    """The detail line (markup) for the highlighted workflow: its whole name, its last
    run in words (failures first, then what is still in progress), the next run and
    the schedule in words."""
    parts = [f"[b]{escape(row.name)}[/b] ({row.status}, {escape(row.object_type)})"]
    if row.last_run is not None:
        when = local_time(row.last_run)
        if row.last_status == RunStatus.FAILED:
            why = f": {escape(row.last_detail)}" if row.last_detail else ""
            parts.append(f"[b]⚠ last run failed[/b] {when}{why}")
        else:
            outcome = reads.status_text(row.last_status or "", row.steps_failed)
            text = f"last run {when} {outcome}, {row.enrolled or 0:,} enrolled"
            if row.in_progress:
                text += f", {row.in_progress:,} in progress"
            parts.append(f"[b]⚠ {text}[/b]" if row.steps_failed else text)
    if row.next_run is not None:
        parts.append(f"next run {local_time(row.next_run)} {zone_abbr} (your zone)")
    parts.append(escape(row.schedule_words))
    return " · ".join(parts)
