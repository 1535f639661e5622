"""Network steps (webhooks, e-mail): the calls, made outside any transaction, and the
database half that records what they did.

``run_external`` makes the calls for a group and leaves the results in ``item.extra``;
``apply_outcomes`` (inside the executor's transaction) turns a webhook's result into a
success, a retry or a failure.
"""
from __future__ import annotations

from typing import Any

from engine.notify import SMTP_RETRIES, send_mail
from engine.steps.context import Context, Item, step_detail
from engine.steps.positions import Position, path_label
from engine.steps.shapes import mask_headers, mask_url
from engine.webhook import backoff, idempotency_key, prepare, send
from models.objects import Prop, to_json_value
from models.timeutil import iso_z

EXTERNAL_STEPS = frozenset({"webhook"})  # plus "notify" when it sends e-mail


def is_external(step: dict) -> bool:
    return step.get("type") in EXTERNAL_STEPS or (step.get("type") == "notify" and bool(step.get("email")))


def record_json(record: dict, props: dict[str, Prop]) -> dict:
    """A record as JSON: every property by internal name, dates ISO, instants ISO UTC Z."""
    out: dict[str, Any] = {"id": record.get("id")}
    for name, prop in props.items():
        out[name] = to_json_value(prop, record.get(name))
    return out


def run_external(ctx: Context, pos: Position, step: dict, items: list[Item], pool) -> None:
    """Network work for a group (outside any transaction), results left in ``item.extra``.

    Webhooks go out concurrently on ``pool``; an e-mail that fails with tries left is
    re-scheduled right here (nothing for the DB phase to write but the retry).
    """
    if step["type"] == "webhook":
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


def apply_outcomes(ctx: Context, pos: Position, step: dict, items: list[Item]) -> None:
    """The DB half of a webhook: record what the POST (made before the transaction) did."""
    base = step_detail(step)
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
