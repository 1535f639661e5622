"""Simulation: every run of a workflow in a date range, with what it would enroll (issue 12).

For each occurrence it lists the instant (UTC) and the local time, how many records
would enroll and how many would be suppressed — today's data taken as it is — and notes:
a pause day ("actions wait until …"), a DST gap that moves the run ("fires at 03:00
instead of 02:30"), a day the calendar lacks ("no run on April 31").

Counting is the engine's own: the criteria and suppression are compiled by
``models.criteria.compile_criteria`` with ``now`` set to the occurrence, so "created
more than 30 days ago" is judged as of that run. It costs:

- criteria without a day-relative operator give the same count at every occurrence:
  one count for all of them;
- otherwise one count per distinct local date (a day's runs share "today"). The records
  are read once, grouped in the database by what the day-relative filters can tell
  apart (each relative-date property's local day) and by the truth of the other
  filters; each date is then judged over those groups (see :func:`_grouped_counts`).
  If that would make too many groups, a batch of dates is counted per scan instead,
  each date as ``SUM(CASE WHEN <criteria as of that date> …)``.

The scans are the store's (models/store/simulate.py); this module chooses between them
and judges the groups date by date.

Simulation only reads: no run, enrollment, history or audit row, no schema change.
Records that already have an enrollment in progress are counted as the criteria say;
the ``overlap`` setting's effect on future runs cannot be known today.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.due import calendar_of, workflow_schedule, workflow_timezone
from engine.schedule.base import DEFAULT_CALENDAR, BusinessCalendar
from engine.schedule.describe import occurrence_notes, skipped_days
from engine.schedule.model import Schedule
from models import criteria as crit
from models.errors import RotaError
from models.objects import get_props
from models.settings import Settings, load_settings
from models.store import simulate as store
from models.store.workflows import get_workflow
from models.timeutil import iso_z, resolve_wall

# The SPEC §9 operators whose meaning depends on "today".
RELATIVE_OPERATORS = frozenset({"in_last_days", "in_next_days", "more_than_days_ago"})
MAX_OCCURRENCES = 200_000
MAX_DAYS = 3660          # ten years
DATES_PER_SCAN = 24      # dates counted in one scan (two SUM columns each)
MAX_GROUPS = 200_000     # past this many groups, count by scans instead

Progress = Callable[[int, int], None]  # (dates counted, dates to count)


@dataclass
class Occurrence:
    scheduled_for: datetime            # aware UTC
    local_time: datetime               # the same instant in the workflow's zone
    would_enroll: int = 0
    suppressed: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Exactly the fields of ``rota simulate --json``."""
        return {"scheduled_for": iso_z(self.scheduled_for),
                "local_time": self.local_time.isoformat(timespec="minutes"),
                "would_enroll": self.would_enroll, "suppressed": self.suppressed, "notes": list(self.notes)}


def uses_relative_dates(*groups_lists: Any) -> bool:
    """Whether any filter in these criteria groups depends on the day it is evaluated."""
    for groups in groups_lists:
        for group in groups or []:
            for flt in group or []:
                if isinstance(flt, dict) and flt.get("operator") in RELATIVE_OPERATORS:
                    return True
    return False


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise RotaError(f'{what} "{text}" is not a date: use YYYY-MM-DD, e.g. 2026-12-01') from None


def occurrences(schedule: Schedule, start: date, end: date, *, pause_dates: Collection[date] = (),
                calendar: BusinessCalendar = DEFAULT_CALENDAR) -> list[Occurrence]:
    """Every run whose local date is in [start, end], with notes, counts still zero. Pure."""
    if end < start:
        raise RotaError(f"--to {end} is before --from {start}: the range must run forwards")
    if (end - start).days >= MAX_DAYS:
        raise RotaError(f"the range {start} to {end} is longer than ten years: choose a shorter one")
    tz = schedule.zoneinfo
    begin = resolve_wall(datetime.combine(start, time(0)), tz) - timedelta(microseconds=1)
    out: list[Occurrence] = []
    for wall, at in schedule.walls_after(begin, calendar=calendar):
        if wall.date() > end:
            break
        if len(out) >= MAX_OCCURRENCES:
            raise RotaError(f"the range has more than {MAX_OCCURRENCES:,} runs: choose a shorter range")
        out.append(Occurrence(at, at.astimezone(tz),
                              notes=occurrence_notes(schedule, wall, at, pause_dates=pause_dates)))
    for anchor, note in skipped_days(schedule, start, end):
        target = next((o for o in out if o.local_time.date() > anchor), out[-1] if out else None)
        if target is not None:
            target.notes.append(note)
    return out


def count_occurrences(found: list[Occurrence], type_name: str, criteria: Any, suppression: Any, tz: str,
                      *, progress: Progress | None = None) -> None:
    """Fill in ``would_enroll`` and ``suppressed`` as the engine would count them.

    Criteria with a day-relative filter are counted from one grouped scan (see
    :func:`_grouped_counts`) when the groups stay few, else one scan per batch of dates.
    """
    if not found:
        return
    criteria, suppression = criteria or [], suppression or []
    relative = uses_relative_dates(criteria, suppression)
    # One representative instant per distinct "today" (or one for all): the first run that day.
    reps: dict[date | None, datetime] = {}
    for occ in found:
        reps.setdefault(occ.local_time.date() if relative else None, occ.scheduled_for)
    counts = None
    if relative:
        counts = _grouped_counts(reps, type_name, criteria, suppression, tz, progress)
    if counts is None:
        counts = _scanned_counts(reps, type_name, criteria, suppression, tz, progress)
    for occ in found:
        occ.would_enroll, occ.suppressed = counts[occ.local_time.date() if relative else None]


def _scanned_counts(reps: dict, type_name: str, criteria: Any, suppression: Any, tz: str,
                    progress: Progress | None) -> dict[date | None, tuple[int, int]]:
    """Each date's criteria compiled to SQL as of that date; a batch of dates per scan."""
    keys = list(reps)
    counts: dict[date | None, tuple[int, int]] = {}
    if progress:
        progress(0, len(keys))
    for first in range(0, len(keys), DATES_PER_SCAN):
        chunk = keys[first:first + DATES_PER_SCAN]
        conditions = [(crit.compile_criteria(criteria, type_name, now=reps[k], tz=tz, empty=True),
                       crit.compile_criteria(suppression, type_name, now=reps[k], tz=tz, empty=False)
                       if suppression else None) for k in chunk]
        counts.update(zip(chunk, store.counts_at(type_name, conditions)))
        if progress:
            progress(min(first + DATES_PER_SCAN, len(keys)), len(keys))
    return counts


def _grouped_counts(reps: dict, type_name: str, criteria: Any, suppression: Any, tz: str,
                    progress: Progress | None) -> dict[date | None, tuple[int, int]] | None:
    """All dates' counts from one GROUP BY scan; None if the groups would be too many.

    Records are grouped by (a) the truth of each filter that does not depend on the day,
    compiled to SQL by the engine's compiler, and (b) for each day-relative property,
    its local day (a date property's own value; a datetime's noon of its local day in
    ``tz``, clamped outside the dates the filters can reach). Day-relative filters only
    compare whole local days, so every record in a group gives the same answer on every
    date. Each date is then judged over the groups by the criteria module's evaluator,
    which agrees with the SQL compiler to the letter (models/db.py).
    """
    props = get_props(type_name)
    parts = {"criteria": crit.validate_criteria(criteria, type_name),
             "suppression": crit.validate_criteria(suppression, type_name, where="suppression")}
    first_now = next(iter(reps.values()))
    static: list[dict] = []
    relative_props: dict[str, str] = {}
    reach = 0
    for groups in parts.values():
        for group in groups:
            for flt in group:
                if flt["operator"] in RELATIVE_OPERATORS and "association" in flt:
                    return None  # an associated record's day: the per-date scan counts it
                if flt["operator"] in RELATIVE_OPERATORS:
                    relative_props[flt["property"]] = props[flt["property"]].type
                    reach = max(reach, int(flt.get("value") or 0))
                elif flt not in static:
                    static.append(flt)
    dates = sorted(reps)
    low_day, high_day = dates[0] - timedelta(days=reach + 3), dates[-1] + timedelta(days=reach + 3)
    if progress:
        progress(0, len(dates))
    conditions = [crit.compile_criteria([[flt]], type_name, now=first_now, tz=tz, empty=False) for flt in static]
    rows = store.group_rows(type_name, conditions, relative_props, tz, low_day, high_day, MAX_GROUPS + 1)
    if len(rows) > MAX_GROUPS:
        return None
    names = list(relative_props)
    n_static = len(static)
    counts: dict[date | None, tuple[int, int]] = {}
    for done, key in enumerate(dates, 1):
        now = reps[key]
        tests = {}
        for groups in parts.values():
            for group in groups:
                for flt in group:
                    if flt["operator"] in RELATIVE_OPERATORS:
                        k = repr(flt)
                        if k not in tests:
                            tests[k] = crit.evaluator([[flt]], type_name, now=now, tz=tz, empty=False)
        enrolled = suppressed = 0
        for row in rows:
            record = dict(zip(names, row[n_static:-1]))

            def holds(flt: dict, row=row, record=record, tests=tests) -> bool:
                if flt["operator"] in RELATIVE_OPERATORS:
                    return tests[repr(flt)](record)
                return bool(row[static.index(flt)])

            meets = any(all(holds(f) for f in g) for g in parts["criteria"]) if parts["criteria"] else True
            if not meets:
                continue
            if any(all(holds(f) for f in g) for g in parts["suppression"]):
                suppressed += row[-1]
            else:
                enrolled += row[-1]
        counts[key] = (int(enrolled), int(suppressed))
        if progress and (done % 8 == 0 or done == len(dates)):
            progress(done, len(dates))
    return counts


def simulate_spec(spec: dict, start: date, end: date, *, settings: Settings | None = None,
                  calendar: BusinessCalendar | None = None, progress: Progress | None = None) -> list[Occurrence]:
    """Simulate a workflow given as SPEC §9 JSON (saved or still being edited)."""
    settings = settings or load_settings()
    schedule = Schedule.from_json(spec.get("schedule") or {}, settings.timezone)
    pause_dates = {parse_day(d, "pause date") for d in (spec.get("settings") or {}).get("pause_dates") or []}
    found = occurrences(schedule, start, end, pause_dates=pause_dates,
                        calendar=calendar or BusinessCalendar.from_settings(settings))
    count_occurrences(found, spec["object_type"], spec.get("criteria") or [], spec.get("suppression") or [],
                      schedule.timezone, progress=progress)
    return found


def simulate(name: str, start: date, end: date, *, settings: Settings | None = None,
             progress: Progress | None = None) -> list[Occurrence]:
    """Simulate the saved workflow ``name`` over the local dates [start, end]."""
    settings = settings or load_settings()
    wf = get_workflow(name)
    schedule = workflow_schedule(wf, settings)
    pause_dates = {parse_day(d, "pause date") for d in (wf.settings or {}).get("pause_dates") or []}
    found = occurrences(schedule, start, end, pause_dates=pause_dates, calendar=calendar_of(settings))
    count_occurrences(found, wf.object_type.name, wf.criteria or [], wf.suppression or [],
                      workflow_timezone(wf, settings), progress=progress)
    return found
