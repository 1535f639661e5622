"""A workflow's history, newest first: enrollments merged with every other event.

Enrollments are not copied into ``history_event`` (the engine appends them set-based,
a million a second; a second copy would double the largest table). They are read from
the ``enrollment`` rows themselves — one run at a time through the (run, record_id)
index, newest run first — and merged with ``history_event`` rows read through the
(workflow, at), (workflow, record_id, at) and (workflow, type, at) indexes. Every read
has a LIMIT and pages by keyset, never OFFSET, so a page costs the same at tens of
millions of events as at ten.

Step events of set-based steps are stored grouped (``history_group``: one row per run,
step, outcome, instant and range of enrollment ids; see models/schema.py) and expanded
into per-record rows here, page by page; what differs per record is in
``history_value`` or, for rare outcomes, in ``history_event`` rows of its own.

Skip notes (``run_skip``: a record a run left out because it was still in the
workflow) are read the same way, as ``skipped_in_progress`` events at the run's instant.

Page order is ``(at, source, a, b, c)`` descending. Events (source 1) come before
enrollments and skip notes (source 0, a = run id, b = record id) at the same instant; among events,
``history_event`` rows (a = 2 × id) and grouped rows (a = 2 × seq + 1, b = group id,
c = enrollment id, where seq is the newest ``history_event`` id when the group was
written) keep the order they were written in. Each row
carries ``cursor``; pass the last one as ``before`` for the next page. All rows of a
run share one ``enrolled_at`` (the engine enrolls a run in one statement); the walk
relies on that.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, overload

from models.enums import EventType, RunKind
from models.errors import RotaError
from models.schema import Workflow
from models.store import history as store_history
from models.store.workflows import get_workflow
from models.timeutil import from_micros, iso_z, parse_instant, start_of_local_day, to_micros, zone

EVENT_TYPES = tuple(EventType)
ENROLL_TYPES = (EventType.ENROLLED, EventType.MANUAL_ENROLLED)
SKIPPED = EventType.SKIPPED_IN_PROGRESS
RUN_ROW_TYPES = (*ENROLL_TYPES, SKIPPED)  # kept per run (enrollment, run_skip), not in history_event
MAX_LIMIT = 10_000
_RUN_CHUNK = 64


@overload
def _micros(value: None) -> None: ...
@overload
def _micros(value: int | datetime) -> int: ...
def _micros(value: int | datetime | None) -> int | None:
    if value is None:
        return None
    return value if isinstance(value, int) else to_micros(value)


def parse_when(text: str, tz_name: str) -> datetime:
    """A CLI date: ``2026-03-02`` is the start of that day in the workflow's zone;
    anything with a time is an instant (local to the zone unless it has an offset)."""
    raw = str(text).strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return parse_instant(raw, tz_name)
    return start_of_local_day(day, zone(tz_name))


def _parse_cursor(before) -> tuple[int, int, int, int, int] | None:
    if before is None:
        return None
    if isinstance(before, datetime):
        return (to_micros(before), -1, 0, 0, 0)  # strictly older than this instant
    try:
        parts = [int(p) for p in str(before).split(":")]
        if len(parts) == 4:
            parts.append(0)
        at, src, a, b, c = parts
        return (at, src, a, b, c)
    except ValueError:
        raise RotaError(f'"{before}" is not a history cursor (use the "cursor" of the last row shown)') from None


def _detail(text: str | None) -> Any:
    if text is None:
        return None
    if text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def history(workflow_name: str | int, *, record_id: int | None = None, type: str | None = None,
            since: datetime | None = None, until: datetime | None = None, limit: int = 200,
            before=None) -> list[dict]:
    """Up to ``limit`` events of the workflow, newest first (see the module docstring).

    ``since`` is inclusive, ``until`` exclusive; ``before`` is a row's ``cursor`` (or an
    instant) to continue after. Each row: at, type, record_id, scheduled_for (ISO UTC
    with Z), step (1-based top-level step, or null), detail, run, enrollment, cursor.
    """
    if type is not None and type not in EVENT_TYPES:
        raise RotaError(f'event type "{type}" is unknown: use one of {", ".join(EVENT_TYPES)}')
    limit = max(1, min(int(limit), MAX_LIMIT))
    wf = workflow_name if isinstance(workflow_name, Workflow) else get_workflow(workflow_name)
    cursor = _parse_cursor(before)
    lo, hi = _micros(since), _micros(until)
    rows: list[tuple[tuple, dict]] = []
    if type is None or type not in ENROLL_TYPES:  # (skips noted before schema 7 are events too)
        rows += _events(wf.id, record_id, type, lo, hi, cursor, limit)
        rows += _grouped(wf.id, record_id, type, lo, hi, cursor, limit)
        if len(rows) > limit:
            rows.sort(key=lambda r: r[0], reverse=True)
            del rows[limit:]
    if type is None or type in RUN_ROW_TYPES:
        floor = rows[-1][0] if len(rows) >= limit else None
        rows += _run_rows(wf.id, record_id, type, lo, hi, cursor, limit, floor)
    rows.sort(key=lambda r: r[0], reverse=True)
    out = []
    for key, row in rows[:limit]:
        row["cursor"] = ":".join(str(k) for k in key)
        out.append(row)
    return out


def _events(wf_id: int, record_id, type_, lo, hi, cursor, limit) -> list[tuple[tuple, dict]]:
    out = []
    for eid, at, kind, rid, sched, step, detail, run_id, enr_id in \
            store_history.events_page(wf_id, record_id, type_, lo, hi, cursor, limit).tuples():
        at_m = _micros(at)
        out.append(((at_m, 1, 2 * eid, 0, 0), {
            "at": iso_z(from_micros(at_m)), "type": kind, "record_id": rid,
            "scheduled_for": iso_z(from_micros(_micros(sched))), "step": step, "detail": _detail(detail),
            "run": run_id, "enrollment": enr_id,
        }))
    return out


def _after(cursor, key: tuple) -> bool:
    """Whether ``key`` comes after (is older than) ``cursor`` in page order."""
    if cursor is None:
        return True
    if cursor[1] < 0:
        return key[0] < cursor[0]
    return key < cursor


def _grouped(wf_id: int, record_id, type_, lo, hi, cursor, limit) -> list[tuple[tuple, dict]]:
    """Per-record rows derived from ``history_group`` (source 2): each group row stands
    for the enrollments ``first``..``last`` of its run; newest group first, and inside a
    group the highest enrollment id first."""
    if record_id is not None:
        return _grouped_for_record(wf_id, int(record_id), type_, lo, hi, cursor, limit)
    out: list[tuple[tuple, dict]] = []
    sched: dict[int, Any] = {}
    for gid, at, kind, run_id, step, detail, first, last, varies, seq in \
            store_history.group_page(wf_id, type_, lo, hi, cursor, limit):
        at_m = _micros(at)
        bound = cursor[4] if cursor is not None and cursor[:4] == (at_m, 1, 2 * seq + 1, gid) else None
        members = store_history.group_members(gid, run_id, first, last, bound, limit - len(out))
        values = store_history.group_values(gid, [eid for eid, _ in members]) if varies else {}
        if run_id not in sched:
            sched[run_id] = store_history.run_scheduled_for(run_id)
        base = _detail(detail)
        for eid, rid in members:
            out.append(_group_row(at_m, gid, seq, kind, rid, sched[run_id], step, base, values.get(eid), run_id, eid))
        if len(out) >= limit:
            break
    return out


def _group_row(at_m, gid, seq, kind, rid, sched, step, base, extra, run_id, eid) -> tuple[tuple, dict]:
    detail = base
    if extra is not None:
        detail = {**base, **json.loads(extra)} if isinstance(base, dict) else json.loads(extra)
    return ((at_m, 1, 2 * seq + 1, gid, eid), {
        "at": iso_z(from_micros(at_m)), "type": kind, "record_id": rid,
        "scheduled_for": iso_z(from_micros(_micros(sched))), "step": step, "detail": detail,
        "run": run_id, "enrollment": eid,
    })


def _grouped_for_record(wf_id, record_id, type_, lo, hi, cursor, limit) -> list[tuple[tuple, dict]]:
    out = []
    for eid, run_id, sched in store_history.record_enrollments(wf_id, record_id):
        for gid, at, kind, step, detail, varies, seq in store_history.groups_of(run_id, eid):
            at_m = _micros(at)
            if (type_ is not None and kind != type_) or (lo is not None and at_m < lo) or \
                    (hi is not None and at_m >= hi) or not _after(cursor, (at_m, 1, 2 * seq + 1, gid, eid)):
                continue
            extra = store_history.group_values(gid, [eid]).get(eid) if varies else None
            out.append(_group_row(at_m, gid, seq, kind, record_id, sched, step, _detail(detail), extra, run_id,
                                  eid))
    out.sort(key=lambda r: r[0], reverse=True)
    return out[:limit]


def _enrollment_row(at_m: int, run_id: int, kind_manual: bool, rid: int, eid: int, sched) -> tuple[tuple, dict]:
    sched_m = _micros(sched)
    detail = ("manual enrollment" if kind_manual
              else f"scheduled occurrence {iso_z(from_micros(sched_m))}" if sched_m is not None else "enrolled")
    return ((at_m, 0, run_id, rid, 0), {
        "at": iso_z(from_micros(at_m)), "type": EventType.MANUAL_ENROLLED if kind_manual else EventType.ENROLLED,
        "record_id": rid, "scheduled_for": iso_z(from_micros(sched_m)), "step": None, "detail": detail,
        "run": run_id, "enrollment": eid,
    })


def _skip_row(at_m: int, run_id: int, rid: int, sched) -> tuple[tuple, dict]:
    """A skip note as the ``skipped_in_progress`` event it stands for. It shares the
    enrollments' order (a record is either enrolled or skipped in a run)."""
    return ((at_m, 0, run_id, rid, 0), {
        "at": iso_z(from_micros(at_m)), "type": SKIPPED, "record_id": rid,
        "scheduled_for": iso_z(from_micros(_micros(sched))), "step": None, "detail": None,
        "run": run_id, "enrollment": None,
    })


def _after_cursor(cursor, at_m: int, run_id: int, rid: int) -> bool:
    if cursor is None:
        return True
    at, src, a, b = cursor[:4]
    if at_m != at:
        return at_m < at
    if src != 0:
        return src > 0  # cursor on an event (or an instant, src -1) at this instant
    return (run_id, rid) < (a, b)


def _run_rows(wf_id: int, record_id, type_, lo, hi, cursor, limit, floor) -> list[tuple[tuple, dict]]:
    """The rows kept per run rather than in ``history_event``: enrollments (``enrolled``,
    ``manual_enrolled``) and skip notes (``skipped_in_progress``), merged by record."""
    enrolls = type_ in (None, *ENROLL_TYPES)
    skips = type_ in (None, SKIPPED)
    manual_only = {EventType.ENROLLED: False, EventType.MANUAL_ENROLLED: True}.get(type_) if type_ else None
    if record_id is not None:
        # Few rows per record (one per occurrence): the workflow's runs, each probed
        # through the unique (run, record_id) key, or run_skip's.
        at_most = cursor[0] if cursor is not None else None
        found: list[tuple[tuple, dict]] = []
        if enrolls:
            found += [_enrollment_row(_micros(at), run_id, bool(manual), rid, eid, sched)
                      for at, run_id, manual, rid, eid, sched in store_history.record_enrollments_page(
                          wf_id, record_id, manual_only, lo, hi, at_most, limit + 1)]
        if skips:
            found += [_skip_row(_micros(at), run_id, rid, sched) for at, run_id, rid, sched in
                      store_history.record_skips_page(wf_id, record_id, lo, hi, at_most, limit + 1)]
        found = [(k, row) for k, row in found if _after_cursor(cursor, k[0], k[2], k[3])]
        found.sort(key=lambda r: r[0], reverse=True)
        return found[:limit]

    out: list[tuple[tuple, dict]] = []
    last_run = None
    while len(out) < limit:
        runs = store_history.runs_before(wf_id, last_run, _RUN_CHUNK)
        if not runs:
            break
        for run_id, kind, sched, started, skipped in runs:
            last_run = run_id
            manual = kind == RunKind.MANUAL
            enroll_here = enrolls and (manual_only is None or manual == manual_only)
            skip_here = skips and bool(skipped) and started is not None
            if not (enroll_here or skip_here):
                continue
            first = store_history.first_enrolled_at(run_id) if enroll_here else None
            at = first if first is not None else started if skip_here else None
            if at is None:
                continue
            at_m = _micros(at)  # the run's instant: its enrollments and skips share it
            if hi is not None and at_m >= hi:
                continue
            if lo is not None and at_m < lo:
                return out  # runs are enrolled in order: everything older is out of range
            if floor is not None and (at_m, 0) < floor[:2]:
                return out  # the events alone fill the page with newer rows
            rec_bound = None
            if cursor is not None:
                c_at, c_src, c_run, c_rec = cursor[:4]
                if at_m > c_at or (at_m == c_at and (c_src < 0 or (c_src == 0 and run_id > c_run))):
                    continue
                if at_m == c_at and c_src == 0 and run_id == c_run:
                    rec_bound = c_rec
            want = limit - len(out)
            rows: list[tuple[int, int | None]] = []
            if first is not None:
                rows += store_history.run_records_page(run_id, rec_bound, want)
            if skip_here:
                rows += [(rid, None) for rid in store_history.run_skips_page(run_id, rec_bound, want)]
            rows.sort(key=lambda r: r[0], reverse=True)
            for rid, eid in rows[:want]:
                out.append(_enrollment_row(at_m, run_id, manual, rid, eid, sched) if eid is not None
                           else _skip_row(at_m, run_id, rid, sched))
            if len(out) >= limit:
                return out
    return out


def summary(row: dict) -> str:
    """One line for a terminal: the description, then what happened."""
    detail = row.get("detail")
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    parts = [detail.get("description") or detail.get("reason") or ""]
    for key in ("branch", "value", "title", "list", "status", "attempt", "until", "retry_at", "error"):
        if key in detail and detail[key] not in (None, ""):
            parts.append(f"{key}={detail[key]}")
    return "  ".join(p for p in parts if p)
