"""Executing action steps: where an enrollment is in its step list, and what each step
does to the records it applies to.

The executor (engine/executor.py) claims due enrollments and, round after round, hands
this module *groups*: the enrollments of one workflow that stand at the same step. A
step then runs once per group with set-based SQL where it can (a constant "set
property" is one ``UPDATE … WHERE id IN (…)`` for the whole group) and per record
where it must (templates, branches, webhooks). Each enrollment leaves with an outcome
(``Item.events``, new position, state, next due time) that the executor commits
together with the database effects, in one transaction.

Positions. A position is a tuple ``(i0, arm1, i1, arm2, i2, …)``: index ``i0`` in the
workflow's actions, and for each branch entered the arm ("then"/"else") and the index
inside it. ``Enrollment.step`` holds ``i0``; ``Enrollment.path`` holds JSON
``{"pos": [...], "try": n}`` when the position is nested or a retry is pending (else
NULL). History names steps 1-based, as the editor does: ``"3.then.1"``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

import peewee as pw

from engine.steps import WEEKDAYS, describe_step, mask_headers, mask_step, mask_url, parse_time
from engine.steps.templates import compile_template, display_value, fill, render, url_value  # noqa: F401
from models.db import db, is_postgres
from models.errors import RotaError
from models.objects import Prop, coerce_value, find_prop, get_props, record_model, to_json_value
from models.schema import ListMember, Notification, StaticList, Task, Workflow
from models.settings import Settings
from models.timeutil import iso_z, resolve_wall, zone

Position = tuple  # (int, str, int, str, int, …)

EXTERNAL_STEPS = frozenset({"webhook"})  # plus "notify" when it sends e-mail


# ------------------------------------------------------------------------ positions


def _steps_at(actions: list[dict], prefix: tuple) -> list[dict] | None:
    """The step list that holds the last index of a position whose prefix is given."""
    steps = actions
    for j in range(0, len(prefix), 2):
        i, arm = prefix[j], prefix[j + 1]
        if not (isinstance(i, int) and 0 <= i < len(steps)) or steps[i].get("type") != "branch":
            return None
        steps = steps[i].get(arm)
        if not isinstance(steps, list):
            return None
    return steps


def step_at(actions: list[dict], pos: Position | None) -> dict | None:
    if not pos:
        return None
    steps = _steps_at(actions, pos[:-1])
    i = pos[-1]
    if steps is None or not isinstance(i, int) or not 0 <= i < len(steps):
        return None
    return steps[i]


def advance(actions: list[dict], pos: Position) -> Position | None:
    """The position after the step at ``pos`` completed; None when the workflow is done.

    Finishing the last step of a branch arm completes the branch step itself.
    """
    pos = tuple(pos)
    while True:
        steps = _steps_at(actions, pos[:-1]) or []
        if pos[-1] + 1 < len(steps):
            return pos[:-1] + (pos[-1] + 1,)
        if len(pos) == 1:
            return None
        pos = pos[:-2]


def enter(actions: list[dict], pos: Position, arm: str) -> Position | None:
    """Where an enrollment goes after the branch at ``pos`` chose ``arm``."""
    step = step_at(actions, pos) or {}
    if step.get(arm):
        return tuple(pos) + (arm, 0)
    return advance(actions, pos)


def resolve(actions: list[dict], pos: Position) -> Position | None:
    """``pos`` if it still names a step; else the nearest sensible one.

    Edits to an active workflow apply at once, so a stored position may point into a
    branch that no longer exists: the enrollment then carries on at its top-level step
    (or is done when that is past the end).
    """
    if step_at(actions, pos) is not None:
        return tuple(pos)
    top = pos[0] if pos and isinstance(pos[0], int) else 0
    return (top,) if 0 <= top < len(actions) else None


def path_label(pos: Position | None) -> str:
    """1-based, as people count steps: (2, "then", 0) → "3.then.1"."""
    if not pos:
        return ""
    return ".".join(str(p + 1) if isinstance(p, int) else p for p in pos)


def encode_path(pos: Position | None, tries: int = 0) -> str | None:
    data: dict[str, Any] = {}
    if pos and len(pos) > 1:
        data["pos"] = list(pos)
    if tries:
        data["try"] = tries
    return json.dumps(data, separators=(",", ":")) if data else None


def decode_path(step: int, path: str | None) -> tuple[Position, int]:
    if not path:
        return (step,), 0
    try:
        data = json.loads(path)
        pos = tuple(data.get("pos") or (step,))
        return pos, int(data.get("try") or 0)
    except (ValueError, TypeError, AttributeError):
        return (step,), 0


# ------------------------------------------------------------------ bulk statements


def bulk_insert(model, rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """INSERT many rows with one prepared statement (``executemany`` on SQLite,
    ``execute_values`` on PostgreSQL). A batch writes thousands of history, task and
    notification rows; building each as a peewee expression tree costs more than the
    database does. Values go through each field's ``db_value``, as peewee would."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.fields[n] for n in names]
    insert_tuples(model, names, [tuple(f.db_value(r[n]) for f, n in zip(fields, names)) for r in rows],
                  ignore_conflicts=ignore_conflicts)


def insert_tuples(model, names: list[str], values: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Like ``bulk_insert`` for values that are already what the columns store."""
    if not values:
        return
    fields = [model._meta.fields[n] for n in names]
    table = model._meta.table_name
    cols = ", ".join(f'"{f.column_name}"' for f in fields)
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    cursor = db.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values

        execute_values(cursor, f'INSERT INTO "{table}" ({cols}) VALUES %s{tail}', values, page_size=1000)
    else:
        marks = ", ".join("?" for _ in fields)
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks}){tail}', values)


def update_ids(model, values: dict[str, Any], ids: list[int], *, where: dict[str, Any] | None = None) -> int:
    """``UPDATE … SET values WHERE id IN (ids) [AND col = v …]`` as plain SQL, in
    chunks; returns the rows changed. The id lists are what a batch is made of, and a
    peewee expression per id costs more than the statement itself."""
    if not ids:
        return 0
    mark = "%s" if is_postgres() else "?"
    meta = model._meta
    set_fields = [(meta.fields[k], v) for k, v in values.items()]
    sets = ", ".join(f'"{f.column_name}" = {mark}' for f, _ in set_fields)
    params = [f.db_value(v) for f, v in set_fields]
    cond_fields = [(meta.fields[k], v) for k, v in (where or {}).items()]
    conds = "".join(f' AND "{f.column_name}" = {mark}' for f, _ in cond_fields)
    cond_params = [f.db_value(v) for f, v in cond_fields]
    changed = 0
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        sql = (f'UPDATE "{meta.table_name}" SET {sets} WHERE "id" IN ({", ".join(mark for _ in chunk)}){conds}')
        cursor = db.cursor()
        cursor.execute(sql, [*params, *chunk, *cond_params])
        changed += cursor.rowcount
    return changed


def select_ids(model, ids: list[int], columns: tuple[str, ...] | None = None) -> list:
    """Whole rows for ``ids`` as dicts of Python values (each field's ``python_value``);
    with ``columns=("id",)``, just the ids that exist."""
    mark = "%s" if is_postgres() else "?"
    meta = model._meta
    fields = [meta.fields[c] for c in columns] if columns else list(meta.sorted_fields)
    cols = ", ".join(f'"{f.column_name}"' for f in fields)
    names = [f.name for f in fields]
    convert = [f.python_value for f in fields]
    out = []
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        cursor = db.cursor()
        cursor.execute(f'SELECT {cols} FROM "{meta.table_name}" WHERE "id" IN ({", ".join(mark for _ in chunk)})',
                       chunk)
        if columns == ("id",):
            out.extend(row[0] for row in cursor.fetchall())
            continue
        for row in cursor.fetchall():
            out.append({n: (c(v) if v is not None else None) for n, c, v in zip(names, convert, row)})
    return out


def bulk_set(model, column: str, pairs: list[tuple[Any, int]], extra: dict[str, Any]) -> None:
    """UPDATE one column to a per-row value (``(value, id)`` pairs), plus ``extra``
    constant columns, as one prepared statement run many times."""
    if not pairs:
        return
    field = model._meta.fields[column]
    extra_fields = [(model._meta.fields[k], v) for k, v in extra.items()]
    mark = "%s" if is_postgres() else "?"
    sets = ", ".join([f'"{field.column_name}" = {mark}'] + [f'"{f.column_name}" = {mark}' for f, _ in extra_fields])
    sql = f'UPDATE "{model._meta.table_name}" SET {sets} WHERE "id" = {mark}'
    consts = [f.db_value(v) for f, v in extra_fields]
    db.cursor().executemany(sql, [(field.db_value(v), *consts, rid) for v, rid in pairs])


def record_json(record: dict, props: dict[str, Prop]) -> dict:
    """A record as JSON: every property by internal name, dates ISO, instants ISO UTC Z."""
    out: dict[str, Any] = {"id": record.get("id")}
    for name, prop in props.items():
        out[name] = to_json_value(prop, record.get(name))
    return out


# -------------------------------------------------------------------- the unit of work


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
    state: str = "active"
    next_at: datetime | None = None
    events: list[tuple[str, Position | None, dict]] = field(default_factory=list)
    settled: bool = False  # an outcome was set this round
    steps_run: int = 0
    extra: dict = field(default_factory=dict)  # external-phase results for the DB phase

    def event(self, kind: str, pos: Position | None, detail: dict) -> None:
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
        self._unenroll = None
        self._templates: dict[str, list] = {}
        self.records: dict[int, dict] = {}

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
            from models.criteria import evaluator

            self._unenroll = evaluator(groups, self.type_name, now=self.now, tz=self.tz_name, empty=False)
        return self._unenroll

    # ------------------------------------------------------------------- outcomes

    def succeed(self, item: Item, pos: Position, detail: dict, *, next_pos: Position | None = None,
                entered: bool = False) -> None:
        """The step at ``pos`` ran: move on (to ``next_pos`` when a branch chose it)."""
        item.event("step_succeeded", pos, detail)
        item.steps_run += 1
        self._move(item, next_pos if entered else advance(self.actions, pos))

    def _move(self, item: Item, new_pos: Position | None) -> None:
        item.pos, item.tries, item.settled = new_pos, 0, True
        if new_pos is None:
            item.state, item.next_at = "done", None
        else:
            item.state, item.next_at = "active", self.now

    def fail(self, item: Item, pos: Position | None, message: str, detail: dict | None = None) -> None:
        """The step failed for good: recorded, and the enrollment stops ('failed')."""
        item.event("step_failed", pos, {**(detail or {}), "error": message})
        item.steps_run += 1
        item.state, item.next_at, item.settled = "failed", None, True

    def retry(self, item: Item, pos: Position, at: datetime, detail: dict) -> None:
        item.event("step_retry", pos, {**detail, "retry_at": iso_z(at)})
        item.steps_run += 1
        item.tries += 1
        item.state, item.next_at, item.settled = "waiting", at, True

    def wait(self, item: Item, kind: str, pos: Position | None, new_pos: Position | None, until: datetime,
             detail: dict) -> None:
        """A delay (moves past the step) or a pause day (stays): wait until ``until``."""
        item.event(kind, pos, {**detail, "until": iso_z(until)})
        item.pos, item.settled = new_pos, True
        item.state, item.next_at = "waiting", until

    def unenroll(self, item: Item, reason: str) -> None:
        item.event("unenrolled", item.pos, {"reason": reason})
        item.state, item.next_at, item.settled = "unenrolled", None, True

    def finish(self, item: Item) -> None:
        item.pos, item.state, item.next_at, item.settled = None, "done", None, True

    # -------------------------------------------------------------- time handling

    def paused_until(self, item: Item) -> datetime | None:
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


# --------------------------------------------------------------------- step runners


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


def is_external(step: dict) -> bool:
    return step.get("type") in EXTERNAL_STEPS or (step.get("type") == "notify" and bool(step.get("email")))


def run_db_step(ctx: Context, pos: Position, step: dict, items: list[Item]) -> None:
    """Run a database-only step for a group of enrollments (inside the transaction)."""
    kind = step["type"]
    base = step_detail(step)
    runner = _RUNNERS[kind]
    runner(ctx, pos, step, items, base)


def _prop_or_fail(ctx: Context, items: list[Item], pos: Position, base: dict, key: str) -> Prop | None:
    prop = find_prop(ctx.type_name, key)
    if prop is None:
        for it in items:
            ctx.fail(it, pos, f'property "{key}" no longer exists on {ctx.type_name}', base)
    return prop


def _set_values(ctx: Context, prop: Prop, by_value: dict[Any, list[int]]) -> None:
    """One ``UPDATE … WHERE id IN`` per distinct value when values repeat (a constant
    is one statement for the whole group); a prepared per-row update when they do not."""
    m = ctx.model
    if len(by_value) > 8:
        bulk_set(m, prop.name, [(v, rid) for v, ids in by_value.items() for rid in ids], {"updated_at": ctx.now})
        return
    for value, ids in by_value.items():
        update_ids(m, {prop.name: value, "updated_at": ctx.now}, ids)


def _run_set_property(ctx: Context, pos, step, items, base) -> None:
    prop = _prop_or_fail(ctx, items, pos, base, step["property"])
    if prop is None:
        return
    raw = step.get("value")
    templated = prop.type == "string" and isinstance(raw, str) and "{" in raw
    by_value: dict[Any, list[int]] = {}
    ok: list[tuple[Item, Any]] = []
    constant: Any = None
    if not templated:  # one conversion for the whole group
        try:
            constant = coerce_value(prop, raw, ctx.tz_name)
        except ValueError as exc:
            for it in items:
                ctx.fail(it, pos, f"value for {prop.name}: {exc}", base)
            return
    for it in items:
        if templated:
            try:
                value = coerce_value(prop, ctx.render(raw, ctx.records[it.record_id]), ctx.tz_name)
            except ValueError as exc:
                ctx.fail(it, pos, f"value for {prop.name}: {exc}", base)
                continue
        else:
            value = constant
        by_value.setdefault(value, []).append(it.record_id)
        ok.append((it, value))
    _set_values(ctx, prop, by_value)
    for it, value in ok:
        ctx.succeed(it, pos, {**base, "value": to_json_value(prop, value)})


def _run_copy_property(ctx: Context, pos, step, items, base) -> None:
    src = _prop_or_fail(ctx, items, pos, base, step["from"])
    dst = _prop_or_fail(ctx, items, pos, base, step["to"]) if src else None
    if src is None or dst is None:
        return
    if dst.type != "string" and dst.type != src.type:
        for it in items:
            ctx.fail(it, pos, f"cannot copy {src.name} ({src.type}) into {dst.name} ({dst.type})", base)
        return
    by_value: dict[Any, list[int]] = {}
    ok = []
    for it in items:
        value = ctx.records[it.record_id].get(src.name)
        if dst.type == "enumeration" and value is not None and value not in dst.option_names:
            ctx.fail(it, pos, f'{dst.name} has no option "{value}"', base)
            continue
        if dst.type != src.type:
            value = display_value(src, value, ctx.tz) or None
        by_value.setdefault(value, []).append(it.record_id)
        ok.append((it, value))
    _set_values(ctx, dst, by_value)
    for it, value in ok:
        ctx.succeed(it, pos, {**base, "value": to_json_value(dst, value)})


def _run_create_task(ctx: Context, pos, step, items, base) -> None:
    due = ctx.now.astimezone(ctx.tz).date() + timedelta(days=int(step.get("due_in_days") or 0))
    rows, done = [], []
    for it in items:
        record = ctx.records[it.record_id]
        title = ctx.render(step["title"], record)
        owner = ctx.render(step["owner"], record) if step.get("owner") else record.get("owner")
        rows.append({"workflow": ctx.id, "object_type": ctx.object_type_id, "record_id": it.record_id,
                     "title": title, "due_date": due, "owner": owner or None, "done": False,
                     "created_at": ctx.now})
        done.append((it, title, owner))
    bulk_insert(Task, rows)
    for it, title, owner in done:
        ctx.succeed(it, pos, {**base, "title": title, "owner": owner, "due_date": due.isoformat()})


def _run_notify(ctx: Context, pos, step, items, base) -> None:
    rows, done = [], []
    for it in items:
        message = ctx.render(step["message"], ctx.records[it.record_id])
        for operator in step["to"]:
            rows.append({"operator": operator, "message": message, "workflow": ctx.id,
                         "record_id": it.record_id, "read": False, "created_at": ctx.now})
        done.append((it, message))
    bulk_insert(Notification, rows)
    for it, message in done:
        detail = {**base, "message": message, "to": step["to"]}
        mail = it.extra.pop("mail", None)
        if mail is not None:
            detail["email"] = mail
            if mail.get("error"):  # e-mail failed for good; the inbox got it anyway
                ctx.fail(it, pos, f"e-mail not sent: {mail['error']}", detail)
                continue
        ctx.succeed(it, pos, detail)


def _static_list(ctx: Context, name: str, create: bool) -> StaticList | None:
    lst = StaticList.get_or_none(StaticList.name == name)
    if lst is None and create:
        try:
            with db.atomic():  # another engine may create it at the same moment
                lst = StaticList.create(name=name, object_type=ctx.object_type_id, created_at=ctx.now)
        except pw.IntegrityError:
            lst = StaticList.get(StaticList.name == name)
    if lst is not None and lst.object_type_id != ctx.object_type_id:
        raise RotaError(f'list "{name}" holds another object type')
    return lst


def _run_list(ctx: Context, pos, step, items, base) -> None:
    adding = step["type"] == "add_to_list"
    try:
        lst = _static_list(ctx, step["list"], create=adding)
    except RotaError as exc:
        for it in items:
            ctx.fail(it, pos, str(exc), base)
        return
    ids = sorted({it.record_id for it in items})
    if lst is not None and adding:
        bulk_insert(ListMember, [{"list": lst.id, "record_id": r, "added_at": ctx.now} for r in ids],
                    ignore_conflicts=True)
    elif lst is not None:
        for i in range(0, len(ids), 500):
            ListMember.delete().where((ListMember.list == lst.id) & ListMember.record_id.in_(ids[i:i + 500])).execute()
    for it in items:
        ctx.succeed(it, pos, {**base, "list": step["list"]})


def _run_branch(ctx: Context, pos, step, items, base) -> None:
    from models.criteria import evaluator

    test = evaluator(step["criteria"], ctx.type_name, now=ctx.now, tz=ctx.tz_name, empty=False)
    for it in items:
        arm = "then" if test(ctx.records[it.record_id]) else "else"
        ctx.succeed(it, pos, {**base, "branch": arm}, next_pos=enter(ctx.actions, pos, arm), entered=True)


def _run_delay(ctx: Context, pos, step, items, base) -> None:
    until = ctx.delay_until(step)
    new_pos = advance(ctx.actions, pos)
    for it in items:
        it.steps_run += 1
        ctx.wait(it, "delayed", pos, new_pos if new_pos is not None else (len(ctx.actions),), until, base)


def _run_webhook_outcome(ctx: Context, pos, step, items, base) -> None:
    """The DB half of a webhook: record what the POST (made before the transaction) did."""
    from engine.webhook import backoff

    for it in items:
        result = it.extra.pop("webhook", None)
        if result is None:  # pragma: no cover - the external phase always sets it
            ctx.fail(it, pos, "webhook was not attempted", base)
            continue
        attempt = it.tries + 1
        detail = {**base, "url": result.extra.get("url") or mask_url(step["url"]),
                  "headers": mask_headers(step.get("headers") or {}),
                  "attempt": attempt, "status": result.status, "ms": result.elapsed_ms,
                  "idempotency_key": result.extra.get("key")}
        if result.ok:
            ctx.succeed(it, pos, detail)
        elif result.retryable and attempt <= int(step.get("retries", 0)):
            ctx.retry(it, pos, ctx.now + backoff(attempt), {**detail, "error": result.error})
        else:
            ctx.fail(it, pos, f"{result.error} after {attempt} attempt{'s' if attempt != 1 else ''}", detail)


_RUNNERS: dict[str, Callable] = {
    "set_property": _run_set_property,
    "copy_property": _run_copy_property,
    "create_task": _run_create_task,
    "notify": _run_notify,
    "add_to_list": _run_list,
    "remove_from_list": _run_list,
    "branch": _run_branch,
    "delay": _run_delay,
    "webhook": _run_webhook_outcome,
}


# ------------------------------------------------------------------ the external half


def run_external(ctx: Context, pos: Position, step: dict, items: list[Item], pool) -> None:
    """Network work for a group (outside any transaction), results left in ``item.extra``.

    Webhooks go out concurrently on ``pool``; an e-mail that fails with tries left is
    re-scheduled right here (nothing for the DB phase to write but the retry).
    """
    if step["type"] == "webhook":
        from engine.webhook import idempotency_key, prepare, send

        def request(it: Item):  # rendered here: templates look properties up in the database
            key = idempotency_key(it.id, path_label(pos))
            record = ctx.records[it.record_id]
            payload = {
                "workflow": {"id": ctx.id, "name": ctx.name},
                "record": record_json(record, ctx.props),
                "enrollment": {"id": it.id, "run": it.run_id, "workflow": ctx.name, "record_id": it.record_id,
                               "manual": it.manual, "enrolled_at": iso_z(it.enrolled_at),
                               "scheduled_for": iso_z(it.scheduled_for)},
                "step": path_label(pos),
                "attempt": it.tries + 1,
            }
            return prepare(step, lambda text: ctx.render_url(text, record), lambda text: ctx.render(text, record),
                           payload, key)

        requests = [request(it) for it in items]
        allow = ctx.settings.webhook_allow_hosts

        def call(req):
            return send(req, allow)

        for it, result in zip(items, pool.map(call, requests)):
            it.extra["webhook"] = result
        return
    if step["type"] == "notify" and step.get("email"):
        from engine.notify import SMTP_RETRIES, send_mail
        from engine.webhook import backoff

        # Rendered here, not in the pool: a first render looks properties up in the
        # database, and worker threads must not open connections of their own.
        bodies = [ctx.render(step["message"], ctx.records[it.record_id]) for it in items]

        def mail(body: str) -> str:
            return send_mail(ctx.settings, step["email"], f"Rota: {ctx.name}", body)

        for it, error in zip(items, pool.map(mail, bodies)):
            attempt = it.tries + 1
            if error and attempt <= SMTP_RETRIES and ctx.settings.smtp_host:
                ctx.retry(it, pos, ctx.now + backoff(attempt),
                          {**step_detail(step), "attempt": attempt, "error": f"e-mail: {error}"})
            else:
                it.extra["mail"] = {"to": step["email"], "attempt": attempt, "error": error}


def db_error_types() -> tuple[type[BaseException], ...]:
    """Errors that mean "the database is unwell" (retry the round later), as opposed
    to a step that cannot run for this record (record it as failed)."""
    return (pw.OperationalError, pw.InterfaceError)
