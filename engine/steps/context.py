"""The unit of work of a step pass: ``Item`` (one claimed enrollment and its outcome
this round) and ``Context`` (a workflow parsed once per batch, with its records).

Each enrollment leaves a round with an outcome (``Item.events``, new position, state,
next due time) that the executor commits together with the database effects, in one
transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from engine.steps.positions import Position, advance
from engine.steps.shapes import WEEKDAYS, describe_step, mask_step, parse_time
from engine.steps.templates import compile_template, fill, url_value
from models.criteria import evaluator
from models.enums import EnrollmentState, EventType
from models.errors import RotaError
from models.objects import get_props, record_model
from models.schema import StaticList, Workflow
from models.settings import Settings
from models.store.bulk import select_ids
from models.store.step_rows import list_named
from models.timeutil import iso_z, resolve_wall, zone


class Due(Protocol):
    """What ``Context.paused_until`` reads of an enrollment: when its step was due."""

    due: datetime


@dataclass
class Item:
    """One claimed enrollment, and what happened to it in the current round."""

    id: int
    run_id: int
    workflow_id: int
    record_id: int
    manual: bool
    enrolled_at: datetime | None
    due: datetime
    scheduled_for: datetime | None
    pos: Position | None
    tries: int = 0
    # outcome of this round
    state: EnrollmentState = EnrollmentState.ACTIVE
    next_at: datetime | None = None
    events: list[tuple[EventType, Position | None, dict]] = field(default_factory=list)
    settled: bool = False  # an outcome was set this round
    steps_run: int = 0
    extra: dict = field(default_factory=dict)  # external-phase results for the DB phase

    def event(self, kind: EventType, pos: Position | None, detail: dict) -> None:
        self.events.append((kind, pos, detail))


class Context:
    """A workflow as the executor needs it for one call: parsed once per batch."""

    def __init__(self, wf: Workflow, settings: Settings, now: datetime):
        self.wf = wf
        self.id = wf.id
        self.name = wf.name
        self.status = wf.status
        self.actions: list[dict] = wf.actions or []
        self.type_name: str = wf.object_type.name
        self.object_type_id: int = wf.object_type_id
        self.model = record_model(self.type_name)
        self.props = get_props(self.type_name)
        self.tz_name: str = (wf.schedule or {}).get("timezone") or settings.timezone or "UTC"
        self.tz = zone(self.tz_name)
        self.settings = settings
        self.now = now
        self.pause_dates = {date.fromisoformat(d) for d in (wf.settings or {}).get("pause_dates") or []}
        self._unenroll: Callable[[dict], bool] | None = None
        self._templates: dict[str, list] = {}
        self.records: dict[int, dict] = {}

    def static_list(self, name: str, create: bool) -> StaticList | None:
        """The static list an add/remove step names (created on first add, by one engine
        even when two race); a list of another object type is refused."""
        lst = list_named(name, create_for=self.object_type_id if create else None, now=self.now)
        if lst is not None and lst.object_type_id != self.object_type_id:
            raise RotaError(f'list "{name}" holds another object type')
        return lst

    def render(self, text: str, record: dict) -> str:
        parts = self._templates.get(text)
        if parts is None:
            parts = self._templates[text] = compile_template(text, self.type_name)
        return fill(parts, record, self.tz)

    def render_url(self, text: str, record: dict) -> str:
        parts = self._templates.get(text)
        if parts is None:
            parts = self._templates[text] = compile_template(text, self.type_name)
        return fill(parts, record, self.tz, url_value)

    # --------------------------------------------------------------- record access

    def load_records(self, ids: list[int], full: bool = True) -> None:
        """Fresh values for ``ids``; a missing id means the record was deleted.

        ``full=False`` reads ids only (existence), for rounds whose steps do not look
        at values — a constant "set property" — which is the bulk of a big batch.
        """
        if full:
            self.records = {row["id"]: row for row in select_ids(self.model, ids)}
        else:
            self.records = {rid: {"id": rid} for rid in select_ids(self.model, ids, columns=("id",))}

    def unenroll_test(self) -> Callable[[dict], bool] | None:
        groups = self.wf.unenrollment or []
        if not groups:
            return None
        if self._unenroll is None:
            self._unenroll = evaluator(groups, self.type_name, now=self.now, tz=self.tz_name, empty=False)
        return self._unenroll

    # ------------------------------------------------------------------- outcomes

    def succeed(self, item: Item, pos: Position, detail: dict, *, next_pos: Position | None = None,
                entered: bool = False) -> None:
        """The step at ``pos`` ran: move on (to ``next_pos`` when a branch chose it)."""
        item.event(EventType.STEP_SUCCEEDED, pos, detail)
        item.steps_run += 1
        self._move(item, next_pos if entered else advance(self.actions, pos))

    def _move(self, item: Item, new_pos: Position | None) -> None:
        item.pos, item.tries, item.settled = new_pos, 0, True
        if new_pos is None:
            item.state, item.next_at = EnrollmentState.DONE, None
        else:
            item.state, item.next_at = EnrollmentState.ACTIVE, self.now

    def fail(self, item: Item, pos: Position | None, message: str, detail: dict | None = None) -> None:
        """The step failed for good: recorded, and the enrollment stops ('failed')."""
        item.event(EventType.STEP_FAILED, pos, {**(detail or {}), "error": message})
        item.steps_run += 1
        item.state, item.next_at, item.settled = EnrollmentState.FAILED, None, True

    def retry(self, item: Item, pos: Position, at: datetime, detail: dict) -> None:
        item.event(EventType.STEP_RETRY, pos, {**detail, "retry_at": iso_z(at)})
        item.steps_run += 1
        item.tries += 1
        item.state, item.next_at, item.settled = EnrollmentState.WAITING, at, True

    def wait(self, item: Item, kind: EventType, pos: Position | None, new_pos: Position | None, until: datetime,
             detail: dict) -> None:
        """A delay (moves past the step) or a pause day (stays): wait until ``until``."""
        item.event(kind, pos, {**detail, "until": iso_z(until)})
        item.pos, item.settled = new_pos, True
        item.state, item.next_at = EnrollmentState.WAITING, until

    def unenroll(self, item: Item, reason: str) -> None:
        item.event(EventType.UNENROLLED, item.pos, {"reason": reason})
        item.state, item.next_at, item.settled = EnrollmentState.UNENROLLED, None, True

    def finish(self, item: Item) -> None:
        item.pos, item.state, item.next_at, item.settled = None, EnrollmentState.DONE, None, True

    # -------------------------------------------------------------- time handling

    def paused_until(self, item: Due) -> datetime | None:
        """On a pause day: the same wall time as the step was due, on the next
        non-paused day, in the workflow's zone. None when today is not paused."""
        if not self.pause_dates:
            return None
        today = self.now.astimezone(self.tz).date()
        if today not in self.pause_dates:
            return None
        day = today + timedelta(days=1)
        while day in self.pause_dates:
            day += timedelta(days=1)
        wall = item.due.astimezone(self.tz).time().replace(tzinfo=None)
        return resolve_wall(datetime.combine(day, wall), self.tz)

    def delay_until(self, step: dict) -> datetime:
        """When a delay step ends, counted from now in the workflow's zone.

        Days are calendar days at the same wall time (a DST change does not shift the
        hour); minutes and hours are elapsed time. ``until`` is the next moment, strictly
        after now, that the local clock shows that weekday (if given) and time.
        """
        now = self.now
        if "minutes" in step:
            return now + timedelta(minutes=step["minutes"])
        if "hours" in step:
            return now + timedelta(hours=step["hours"])
        if "days" in step:
            local = now.astimezone(self.tz)
            wall = local.replace(tzinfo=None) + timedelta(days=step["days"])
            return resolve_wall(wall, self.tz)
        until = step["until"]
        t = parse_time(until["time"])
        local_day = now.astimezone(self.tz).date()
        want = WEEKDAYS.index(until["weekday"]) if "weekday" in until else None
        for offset in range(0, 9):
            day = local_day + timedelta(days=offset)
            if want is not None and day.weekday() != want:
                continue
            at = resolve_wall(datetime.combine(day, t), self.tz)
            if at > now:
                return at
        raise AssertionError("no weekday within 9 days")  # pragma: no cover


def step_detail(step: dict) -> dict:
    """What history keeps about a step: its one-line description, secrets masked."""
    return {"action": step.get("type"), "description": describe_step(mask_step(step))}


def needs_record(step: dict | None) -> bool:
    """Whether running ``step`` reads the record's values (templates, copies,
    criteria, payloads); a constant "set property" or a list change does not."""
    if step is None:
        return False
    kind = step.get("type")
    if kind == "set_property":
        return isinstance(step.get("value"), str) and "{" in step["value"]
    return kind not in ("delay", "add_to_list", "remove_from_list")
