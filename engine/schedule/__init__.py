"""Schedules: the trigger of a scheduled workflow (SPEC §2, §9).

- :mod:`.model` — the :class:`Schedule` value: parse and validate the JSON shapes, next
  run times (how wall times become instants is explained there);
- :mod:`.cron` — 5-field cron expressions compiled to sets;
- :mod:`.describe` — the schedule in words and the warnings about surprises;
- :mod:`.export` — an iCalendar RRULE and a cron line for checking it elsewhere;
- :mod:`.base` — names, the business-day calendar and time helpers they share.

The names the app (tui/) and the tests use are re-exported here:
``from engine.schedule import X``. Inside engine/ modules import from the submodule that
defines a name, and the submodules never import this package, so the re-exports form no
ring (tests/test_import_hygiene.py checks both).
"""
from engine.schedule.base import (
    DEFAULT_CALENDAR,
    FLEX_DAYS,
    KINDS,
    MONTH_LABELS,
    ORDINALS,
    WEEKDAY_LABELS,
    WEEKDAY_NAMES,
    BusinessCalendar,
)
from engine.schedule.cron import CronRule, compile_cron
from engine.schedule.model import Schedule, parse_schedule

__all__ = [
    "DEFAULT_CALENDAR", "FLEX_DAYS", "KINDS", "MONTH_LABELS", "ORDINALS", "WEEKDAY_LABELS", "WEEKDAY_NAMES",
    "BusinessCalendar", "CronRule", "Schedule", "compile_cron", "parse_schedule",
]
