"""Schedules: the trigger of a scheduled workflow (SPEC §2, §9).

- :mod:`.model` — the :class:`Schedule` value: parse and validate the JSON shapes, next
  run times (how wall times become instants is explained there);
- :mod:`.cron` — 5-field cron expressions compiled to sets;
- :mod:`.describe` — the schedule in words and the warnings about surprises;
- :mod:`.export` — an iCalendar RRULE and a cron line for checking it elsewhere;
- :mod:`.base` — names, the business-day calendar and time helpers they share.

This package re-exports nothing: everyone (engine/, tui/, tests) imports a name from
the submodule that defines it, so no import ring passes through this file.
"""
