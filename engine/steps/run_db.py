"""Database steps: what each step does to the records of a group of enrollments, inside
the executor's transaction (set-based where it can: a constant "set property" is one
``UPDATE … WHERE id IN (…)`` for the whole group)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import peewee as pw

from engine.steps.context import Context, Item, step_detail
from engine.steps.positions import Position, advance, enter
from engine.steps.templates import display_value
from models.criteria import evaluator
from models.enums import EventType
from models.errors import RotaError
from models.objects import Prop, coerce_value, find_prop, to_json_value
from models.schema import ListMember, Notification, Task
from models.store.bulk import bulk_insert, bulk_set, update_ids
from models.store.step_rows import remove_list_members


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


def _run_list(ctx: Context, pos, step, items, base) -> None:
    adding = step["type"] == "add_to_list"
    try:
        lst = ctx.static_list(step["list"], create=adding)
    except RotaError as exc:
        for it in items:
            ctx.fail(it, pos, str(exc), base)
        return
    ids = sorted({it.record_id for it in items})
    if lst is not None and adding:
        bulk_insert(ListMember, [{"list": lst.id, "record_id": r, "added_at": ctx.now} for r in ids],
                    ignore_conflicts=True)
    elif lst is not None:
        remove_list_members(lst.id, ids)
    for it in items:
        ctx.succeed(it, pos, {**base, "list": step["list"]})


def _run_branch(ctx: Context, pos, step, items, base) -> None:
    test = evaluator(step["criteria"], ctx.type_name, now=ctx.now, tz=ctx.tz_name, empty=False)
    for it in items:
        arm = "then" if test(ctx.records[it.record_id]) else "else"
        ctx.succeed(it, pos, {**base, "branch": arm}, next_pos=enter(ctx.actions, pos, arm), entered=True)


def _run_delay(ctx: Context, pos, step, items, base) -> None:
    until = ctx.delay_until(step)
    new_pos = advance(ctx.actions, pos)
    for it in items:
        it.steps_run += 1
        ctx.wait(it, EventType.DELAYED, pos, new_pos if new_pos is not None else (len(ctx.actions),), until, base)


_RUNNERS: dict[str, Callable] = {
    "set_property": _run_set_property,
    "copy_property": _run_copy_property,
    "create_task": _run_create_task,
    "notify": _run_notify,
    "add_to_list": _run_list,
    "remove_from_list": _run_list,
    "branch": _run_branch,
    "delay": _run_delay,
}


def db_error_types() -> tuple[type[BaseException], ...]:
    """Errors that mean "the database is unwell" (retry the round later), as opposed
    to a step that cannot run for this record (record it as failed)."""
    return (pw.OperationalError, pw.InterfaceError)
