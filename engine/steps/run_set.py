"""Database steps over sets: one group of enrollments (one workflow, one position) is a
few statements joined to the batch, whatever its size; no Python loop per record.

``run_group`` returns the group's outcome(s) to the executor, which owns the groups,
the rounds and the pointers. Where a step's per-record result cannot be computed in
SQL with exactly the Python renderer's text (a number the database cannot print as
Python does, an instant in a zone SQLite cannot convert), it raises ``NeedsRecords``
and the executor runs that group through the per-record runners of ``run_db``.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.steps.context import Context, step_detail
from engine.steps.positions import Position, advance, enter, path_label
from engine.steps.templates import compile_template
from models import criteria as crit
from models.enums import EnrollmentState, EventType
from models.errors import RotaError
from models.objects import Prop, coerce_value, find_prop, to_json_value
from models.store import steps as store
from models.store import value_sql
from models.timeutil import iso_z, to_micros

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


class NeedsRecords(Exception):
    """This group's step needs the per-record path (see the module docstring)."""


@dataclass
class Outcome:
    """What happened to (part of) a group: rows of ``g`` (or moved to ``new_g``)."""

    state: EnrollmentState  # active moves on now
    pos: Position | None
    next_at: datetime | None
    steps: bool = True  # the rows ran a step this round (counted as steps)
    new_g: int | None = None  # rows moved to this tag; None: the group's own rows
    tries: int = 0


@dataclass
class Event:
    kind: EventType
    pos: Position | None
    detail: dict
    value_sql: str | None = None  # per-record JSON object, merged over ``detail``


@dataclass
class Pass:
    """What the step runners need from the executor: now, tags and history writes."""

    now: datetime
    new_tag: Callable[[], int]
    events: list = field(default_factory=list)

    def event(self, g: int, ctx: Context, ev: Event) -> None:
        body = {**ev.detail, "path": path_label(ev.pos)} if ev.pos else ev.detail
        step = int(ev.pos[0]) + 1 if ev.pos else None
        store.write_group_history(g, ctx.id, to_micros(self.now), ev.kind, step, _dumps(body),
                                  ev.value_sql, ctx.model._meta.table_name)


def _table(ctx: Context) -> str:
    return ctx.model._meta.table_name


def _col(prop: Prop) -> str:
    return f'r."{prop.name}"'


def _succeeded(p: Pass, g: int, ctx: Context, pos: Position, detail: dict, value_sql: str | None = None,
               next_pos: Position | None = None, entered: bool = False) -> Outcome:
    p.event(g, ctx, Event(EventType.STEP_SUCCEEDED, pos, detail, value_sql))
    new = next_pos if entered else advance(ctx.actions, pos)
    if new is None:
        return Outcome(EnrollmentState.DONE, None, None)
    return Outcome(EnrollmentState.ACTIVE, new, p.now)


def _failed(p: Pass, g: int, ctx: Context, pos: Position, message: str, detail: dict | None = None) -> Outcome:
    p.event(g, ctx, Event(EventType.STEP_FAILED, pos, {**(detail or {}), "error": message}))
    return Outcome(EnrollmentState.FAILED, pos, None)


# -------------------------------------------------------------------- the runners


def _prop(ctx: Context, key: str) -> Prop | None:
    return find_prop(ctx.type_name, key)


def template_sql(ctx: Context, text: str, g: int) -> str:
    """``text`` with ``{property}`` as one SQL text expression over ``r.`` columns,
    rendering each value as ``engine.steps.templates.display_value`` does."""
    parts = []
    for literal, prop, has_field in compile_template(text, ctx.type_name):
        if literal:
            parts.append(value_sql.literal(literal))
        if has_field and prop is not None:
            expr = value_sql.display(prop, _col(prop), ctx.tz_name, _range(ctx, prop, g))
            if expr is None:
                raise NeedsRecords()
            parts.append(expr)
    if not parts:
        return "''"
    expr = value_sql.concat(parts)
    if any(prop is not None and prop.type in value_sql.GUARDED for _, prop, _ in compile_template(text, ctx.type_name)):
        # A value the SQL cannot print exactly as Python does renders NULL: then the
        # whole group takes the per-record path (same text, slower).
        if store.any_row(f"({expr}) IS NULL", _table(ctx), g):
            raise NeedsRecords()
    return expr


def _range(ctx: Context, prop: Prop, g: int) -> tuple[int, int] | None:
    if prop.type != "datetime":
        return None
    row = store.first_value(f'MIN(r."{prop.name}"), MAX(r."{prop.name}")', _table(ctx), g)
    return (row[0], row[1]) if row and row[0] is not None else None


def _run_set_property(p: Pass, ctx: Context, g: int, pos: Position, step: dict, base: dict) -> list[Outcome]:
    prop = _prop(ctx, step["property"])
    if prop is None:
        return [_failed(p, g, ctx, pos, f'property "{step["property"]}" no longer exists on {ctx.type_name}', base)]
    raw = step.get("value")
    table = _table(ctx)
    now_us = to_micros(p.now)
    if prop.type == "string" and isinstance(raw, str) and "{" in raw:
        expr = value_sql.strip_to_null(template_sql(ctx, raw, g))
        store.update_group_records(table, g, f'"{prop.name}" = {expr}, "updated_at" = {int(now_us)}')
        return [_succeeded(p, g, ctx, pos, base, value_sql.json_object({"value": _col(prop)}))]
    try:
        value = coerce_value(prop, raw, ctx.tz_name)
    except ValueError as exc:
        return [_failed(p, g, ctx, pos, f"value for {prop.name}: {exc}", base)]
    field_ = ctx.model._meta.fields[prop.name]
    mark = value_sql.mark()
    store.update_group_records(table, g, f'"{prop.name}" = {mark}, "updated_at" = {mark}',
                               (field_.db_value(value), now_us))
    return [_succeeded(p, g, ctx, pos, {**base, "value": to_json_value(prop, value)})]


def _run_copy_property(p: Pass, ctx: Context, g: int, pos: Position, step: dict, base: dict) -> list[Outcome]:
    src = _prop(ctx, step["from"])
    if src is None:
        return [_failed(p, g, ctx, pos, f'property "{step["from"]}" no longer exists on {ctx.type_name}', base)]
    dst = _prop(ctx, step["to"])
    if dst is None:
        return [_failed(p, g, ctx, pos, f'property "{step["to"]}" no longer exists on {ctx.type_name}', base)]
    if dst.type != "string" and dst.type != src.type:
        return [_failed(p, g, ctx, pos, f"cannot copy {src.name} ({src.type}) into {dst.name} ({dst.type})", base)]
    table = _table(ctx)
    out: list[Outcome] = []
    if dst.type == "enumeration":  # a value the target does not offer fails for that record
        names = dst.option_names
        bad = p.new_tag()
        cond = (f'{_col(src)} IS NOT NULL AND {_col(src)} NOT IN ({", ".join(value_sql.literal(n) for n in names)})'
                if names else f"{_col(src)} IS NOT NULL")
        moved = store.move_rows(g, bad, f'record_id IN (SELECT r.id FROM "{table}" AS r WHERE {cond})')
        if moved:
            msg = value_sql.concat([value_sql.literal(f"{dst.name} has no option \""), _col(src), value_sql.literal('"')])
            body = {**base, "path": path_label(pos)}
            store.write_row_history(bad, ctx.id, to_micros(p.now), EventType.STEP_FAILED, int(pos[0]) + 1,
                                    value_sql.json_merge(body, {"error": msg}), table)
            out.append(Outcome(EnrollmentState.FAILED, pos, None, new_g=bad))
    if dst.type == src.type:
        value_expr = _col(src)
        json_expr = value_sql.json_value(dst, _col(dst))
        if json_expr is None:
            raise NeedsRecords()
    else:  # into text: the value as the templates show it
        shown = value_sql.display(src, _col(src), ctx.tz_name, _range(ctx, src, g))
        if shown is None:
            raise NeedsRecords()
        if src.type in value_sql.GUARDED and store.any_row(f"({shown}) IS NULL", table, g):
            raise NeedsRecords()
        value_expr = f"NULLIF({shown}, '')"
        json_expr = value_sql.json_value(dst, _col(dst))
        if json_expr is None:
            raise NeedsRecords()
    store.update_group_records(table, g, f'"{dst.name}" = {value_expr}, "updated_at" = {int(to_micros(p.now))}')
    out.insert(0, _succeeded(p, g, ctx, pos, base, value_sql.json_object({"value": json_expr})))
    return out


def _run_create_task(p: Pass, ctx: Context, g: int, pos: Position, step: dict, base: dict) -> list[Outcome]:
    due = p.now.astimezone(ctx.tz).date() + timedelta(days=int(step.get("due_in_days") or 0))
    table = _table(ctx)
    title = template_sql(ctx, step["title"], g)
    if step.get("owner"):
        owner = template_sql(ctx, step["owner"], g)
    else:
        prop = ctx.props.get("owner")
        if prop is None:
            owner = "NULL"
        elif prop.type == "string":
            owner = _col(prop)
        else:
            raise NeedsRecords()
    store.insert_from_group(
        "task", ["workflow_id", "object_type_id", "record_id", "title", "due_date", "owner", "done", "created_at"],
        [str(int(ctx.id)), str(int(ctx.object_type_id)), "b.record_id", title, value_sql.mark(),
         f"NULLIF({owner}, '')", "FALSE", str(int(to_micros(p.now)))], table, g, (due.isoformat(),))
    detail = {**base, "due_date": due.isoformat()}
    return [_succeeded(p, g, ctx, pos, detail, value_sql.json_object({"title": title, "owner": owner}))]


def _run_list(p: Pass, ctx: Context, g: int, pos: Position, step: dict, base: dict) -> list[Outcome]:
    adding = step["type"] == "add_to_list"
    try:
        lst = ctx.static_list(step["list"], create=adding)
    except RotaError as exc:
        return [_failed(p, g, ctx, pos, str(exc), base)]
    if lst is not None and adding:
        store.add_list_members(lst.id, g, to_micros(p.now))
    elif lst is not None:
        store.delete_list_members(lst.id, g)
    return [_succeeded(p, g, ctx, pos, {**base, "list": step["list"]})]


def criteria_sql(ctx: Context, groups: list) -> tuple[str, tuple]:
    """``SELECT id FROM rec_T WHERE <criteria>`` from the one criteria compiler."""
    return crit.matching_sql(ctx.type_name, groups, now=ctx.now, tz=ctx.tz_name, empty=False)


def _run_branch(p: Pass, ctx: Context, g: int, pos: Position, step: dict, base: dict) -> list[Outcome]:
    sql, params = criteria_sql(ctx, step["criteria"])
    then_g = p.new_tag()
    moved = store.move_matching(g, then_g, _table(ctx), sql, params)
    out = []
    if moved:
        out.append(_succeeded(p, then_g, ctx, pos, {**base, "branch": "then"},
                              next_pos=enter(ctx.actions, pos, "then"), entered=True))
        out[-1].new_g = then_g
    if store.group_count(g):
        out.append(_succeeded(p, g, ctx, pos, {**base, "branch": "else"},
                              next_pos=enter(ctx.actions, pos, "else"), entered=True))
    return out


def _run_delay(p: Pass, ctx: Context, g: int, pos: Position, step: dict, base: dict) -> list[Outcome]:
    until = ctx.delay_until(step)  # once for the whole group
    new_pos = advance(ctx.actions, pos)
    p.event(g, ctx, Event(EventType.DELAYED, pos, {**base, "until": iso_z(until)}))
    return [Outcome(EnrollmentState.WAITING, new_pos if new_pos is not None else (len(ctx.actions),), until)]


def _run_notify(p: Pass, ctx: Context, g: int, pos: Position, step: dict, base: dict) -> list[Outcome]:
    message = template_sql(ctx, step["message"], g)
    table = _table(ctx)
    for operator in step["to"]:
        store.insert_from_group(
            "notification", ["operator", "message", "workflow_id", "record_id", "read", "created_at"],
            [value_sql.mark(), message, str(int(ctx.id)), "b.record_id", "FALSE", str(int(to_micros(p.now)))],
            table, g, (operator,))
    return [_succeeded(p, g, ctx, pos, {**base, "to": step["to"]}, value_sql.json_object({"message": message}))]


_RUNNERS: dict[str, Callable[..., list[Outcome]]] = {
    "set_property": _run_set_property,
    "copy_property": _run_copy_property,
    "create_task": _run_create_task,
    "notify": _run_notify,
    "add_to_list": _run_list,
    "remove_from_list": _run_list,
    "branch": _run_branch,
    "delay": _run_delay,
}


def run_group(p: Pass, ctx: Context, g: int, pos: Position, step: dict) -> list[Outcome]:
    """Run a database step for group ``g`` (inside the transaction). The caller runs it
    in a savepoint: if it raises, the rows it moved go back, so what was read of the
    groups' shapes is forgotten."""
    try:
        return _RUNNERS[step["type"]](p, ctx, g, pos, step, step_detail(step))
    except BaseException:
        store.forget_shapes()
        raise
