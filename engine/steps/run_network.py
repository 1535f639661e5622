"""Network steps (webhooks, e-mail to records, a notification's e-mail): rendered on
the engine thread, sent from the network pool, recorded when they come back.

The engine loop never waits on a socket:

1. ``submit_group`` (in a round, outside any transaction) renders each enrollment's
   request — templates read the database, so this happens on the engine thread — and
   hands it to this engine's ``NetworkPool``. The enrollment leaves the round *in
   flight*: the round's write keeps it claimed by this engine with a short lease
   (``hold_until``: ``claimed_until`` and ``next_step_at`` a heartbeat lease from
   now), so no pass of this engine picks it up again and, if the engine dies, another
   takes it over as soon as that lease runs out — seconds, not minutes.
2. ``renew`` (the engine's heartbeat) pushes that lease on for everything in flight.
3. ``take_results`` (a later pass) returns what came back; ``apply_result`` turns each
   into a success, a retry or a failure, which the executor writes with the step
   pointer and the history, in one transaction, and the enrollment carries on.
4. ``stop`` (shutdown) gives the calls in flight a bounded grace; what has not come
   back by then is recorded as a retry, due at once, and its claim released.

A call whose response was lost to a crash is made again (at-least-once), with the
same ``Idempotency-Key`` (webhooks) or ``Message-ID`` (e-mail).

E-mail to records: a record with no address in ``to_property``, or whose
``email_opt_out`` is true, is skipped with a ``step_skipped`` event saying why, and
goes on to its next step. Sends are spaced by ``email_rate_per_minute``: beyond it,
an enrollment waits (no event) until a slot frees.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from engine import email as mail
from engine.network import Done, Job, NetworkPool
from engine.notify import SMTP_RETRIES, send_mail
from engine.steps.context import Context, Item, step_detail
from engine.steps.positions import Position, advance, path_label
from engine.steps.shapes import mask_headers
from engine.webhook import WebhookResult, backoff, idempotency_key, prepare, send
from models.enums import EnrollmentState, EventType
from models.objects import Prop, to_json_value
from models.timeutil import iso_z

EXTERNAL_STEPS = frozenset({"webhook", "send_email"})  # plus "notify" when it sends e-mail
DEFAULT_HOLD = timedelta(seconds=15)  # an in-flight claim's lease, renewed by the heartbeat
DEFAULT_GRACE_S = 10.0  # a stopping engine is gone within this: calls in flight get all but…
RECORD_RESERVE_S = 1.0  # …the last second, kept for recording them and exiting
WORKERS = 32
PER_HOST = 8


def is_external(step: dict) -> bool:
    return step.get("type") in EXTERNAL_STEPS or (step.get("type") == "notify" and bool(step.get("email")))


def record_json(record: dict, props: dict[str, Prop]) -> dict:
    """A record as JSON: every property by internal name, dates ISO, instants ISO UTC Z."""
    out: dict[str, Any] = {"id": record.get("id")}
    for name, prop in props.items():
        out[name] = to_json_value(prop, record.get(name))
    return out


# ------------------------------------------------------------------ per-engine state


@dataclass(eq=False)
class InFlight:
    """What a job needs to be recorded when it comes back."""

    item: Item
    pos: Position
    step: dict
    attempt: int
    detail: dict  # what history shows about the call (secrets masked)


class _EngineNet:
    def __init__(self, on_done: Callable[[], None] | None):
        self.pool = NetworkPool(WORKERS, PER_HOST, on_done=on_done, name="rota-net")
        self.limit: mail.RateLimit | None = None
        self.hold = DEFAULT_HOLD


_NETS: dict[str, _EngineNet] = {}
_LOCK = threading.Lock()


def attach(engine_id: str, *, on_done: Callable[[], None] | None = None, hold: timedelta | None = None) -> None:
    """Give ``engine_id`` its pool (the engine does this at start; ``on_done`` wakes
    its loop when a call comes back; ``hold`` is its heartbeat lease)."""
    with _LOCK:
        net = _NETS.get(engine_id)
        if net is None or net.pool.closed:
            net = _NETS[engine_id] = _EngineNet(on_done)
        elif on_done is not None:
            net.pool.on_done = on_done
        if hold is not None:
            net.hold = hold


def _net(engine_id: str) -> _EngineNet:
    with _LOCK:
        net = _NETS.get(engine_id)
        if net is None or net.pool.closed:
            net = _NETS[engine_id] = _EngineNet(None)
        return net


def in_flight_ids(engine_id: str) -> list[int]:
    net = _NETS.get(engine_id)
    return sorted({j.enrollment_id for j in net.pool.in_flight()}) if net else []


def has_results(engine_id: str) -> bool:
    net = _NETS.get(engine_id)
    return bool(net and len(net.pool) and len(net.pool) > len(net.pool.in_flight()))


def busy(engine_id: str) -> bool:
    """Calls queued, running, or back but not yet recorded."""
    net = _NETS.get(engine_id)
    return bool(net and len(net.pool))


def wait(engine_id: str, timeout: float | None = None) -> bool:
    """Block until this engine's calls have come back (``run_pending``, tests; never the
    loop). True if there was anything to wait for."""
    net = _NETS.get(engine_id)
    if net is None or not len(net.pool):
        return False
    net.pool.wait(timeout)
    return True


def hold_until(engine_id: str, now: datetime) -> datetime:
    return now + _net(engine_id).hold


# ------------------------------------------------------------------ submitting


def _hand_off(ctx: Context, it: Item, engine_id: str, job: Job) -> None:
    """The item leaves the round in flight, still claimed (see the module docstring)."""
    if _net(engine_id).pool.submit(job):
        it.extra["hold_until"] = hold_until(engine_id, ctx.now)
        it.settled = True
        it.steps_run += 1
    else:  # already in flight (cannot happen while held), or the pool is stopping
        it.state, it.next_at, it.settled = EnrollmentState.WAITING, ctx.now + timedelta(seconds=1), True


def submit_group(ctx: Context, pos: Position, step: dict, items: list[Item], engine_id: str) -> None:
    """Render each enrollment's call and hand it to the pool (outside any transaction)."""
    kind = step["type"]
    base = step_detail(step)
    for it in items:
        record = ctx.records[it.record_id]
        attempt = it.tries + 1
        call: Callable[[], object]  # runs in a pool thread: a WebhookResult, a MailResult or send_mail's text
        if kind == "webhook":
            key = idempotency_key(it.id, path_label(pos))
            payload = {
                "workflow": {"id": ctx.id, "name": ctx.name},
                "record": record_json(record, ctx.props),
                "enrollment": {"id": it.id, "run": it.run_id, "workflow": ctx.name, "record_id": it.record_id,
                               "manual": it.manual, "enrolled_at": iso_z(it.enrolled_at),
                               "scheduled_for": iso_z(it.scheduled_for)},
                "step": path_label(pos),
                "attempt": attempt,
            }
            request = prepare(step, partial(ctx.render_url, record=record), partial(ctx.render, record=record),
                              payload, key)
            allow = list(ctx.settings.webhook_allow_hosts)
            detail = {**base, "url": request.shown_url, "headers": mask_headers(step.get("headers") or {}),
                      "method": request.method, "attempt": attempt, "idempotency_key": key}
            host = (urlsplit(request.url).hostname or "").lower()
            call = partial(send, request, allow)
        elif kind == "send_email":
            prop = step["to_property"]
            address = str(record.get(prop) or "").strip()
            if not address or "@" not in address:
                _skip(ctx, it, pos, {**base, "reason": f"no e-mail address ({prop} is "
                                                       f"{'empty' if not address else 'not an address'})"})
                continue
            if "email_opt_out" in ctx.props and record.get("email_opt_out"):
                _skip(ctx, it, pos, {**base, "reason": "opted out (email_opt_out is true)", "to": address})
                continue
            net = _net(engine_id)
            rate = int(ctx.settings.email_rate_per_minute)
            if net.limit is None or net.limit.per_minute != rate:
                net.limit = mail.RateLimit(rate)
            if not net.limit.take(ctx.now):
                it.state, it.next_at, it.settled = EnrollmentState.WAITING, net.limit.next_free(ctx.now), True
                continue
            msg_id = mail.message_id(it.id, path_label(pos), ctx.settings)
            message = mail.build_message(ctx.settings, address, ctx.render(step["subject"], record),
                                         ctx.render(step["body"], record), msg_id)
            detail = {**base, "to": address, "subject": message["Subject"], "message_id": msg_id,
                      "attempt": attempt}
            settings = ctx.settings
            host = (settings.smtp_host or "").lower()
            call = partial(mail.send, settings, message)
        else:  # notify with e-mail: the inbox rows are written when the e-mail is settled
            body = ctx.render(step["message"], record)
            settings = ctx.settings
            detail = {**base, "message": body, "to": step["to"], "attempt": attempt}
            host = (settings.smtp_host or "").lower()
            call = partial(send_mail, settings, step["email"], f"Rota: {ctx.name}", body)
        job = Job(it.id, tuple(pos), host, call, InFlight(it, pos, step, attempt, detail))
        _hand_off(ctx, it, engine_id, job)


def _skip(ctx: Context, it: Item, pos: Position, detail: dict) -> None:
    """The step does not apply to this record: say why, and go on to the next step."""
    it.event(EventType.STEP_SKIPPED, pos, detail)
    it.steps_run += 1
    new_pos = advance(ctx.actions, pos)
    it.pos, it.tries, it.settled = new_pos, 0, True
    it.state, it.next_at = (EnrollmentState.DONE, None) if new_pos is None else (EnrollmentState.ACTIVE, ctx.now)


# ------------------------------------------------------------------ coming back


def take_results(engine_id: str) -> list[tuple[InFlight, Any]]:
    """The calls that came back since the last call (never waits)."""
    net = _NETS.get(engine_id)
    if net is None:
        return []
    out = []
    for done in net.pool.collect():
        flight: InFlight = done.job.context
        out.append((flight, _result_of(done)))
    return out


def _result_of(done: Done) -> Any:
    if done.error is None:
        return done.result
    text = f"internal error: {type(done.error).__name__}: {done.error}".splitlines()[0]
    return WebhookResult(False, False, None, text)


def apply_result(ctx: Context, flight: InFlight, result: Any) -> None:
    """Record one call's outcome on its item (a success, a retry or a failure)."""
    it, pos, step, attempt = flight.item, flight.pos, flight.step, flight.attempt
    it.settled, it.events, it.steps_run = False, [], 0
    it.extra.pop("hold_until", None)
    it.tries = attempt - 1
    kind = step["type"]
    if kind == "webhook":
        detail = {**flight.detail, "status": result.status, "ms": result.elapsed_ms}
        if result.ok:
            ctx.succeed(it, pos, detail)
        elif result.retryable and attempt <= int(step.get("retries", 0)):
            ctx.retry(it, pos, ctx.now + backoff(attempt), {**detail, "error": result.error})
        else:
            ctx.fail(it, pos, f"{result.error} after {attempt} attempt{'s' if attempt != 1 else ''}", detail)
    elif kind == "send_email":
        if result.ok:
            ctx.succeed(it, pos, flight.detail)
        elif result.retryable and attempt <= SMTP_RETRIES:
            ctx.retry(it, pos, ctx.now + backoff(attempt), {**flight.detail, "error": result.error})
        else:
            ctx.fail(it, pos, f"e-mail not sent: {result.error} after {attempt} attempt"
                              f"{'s' if attempt != 1 else ''}", flight.detail)
    else:  # notify with e-mail: send_mail returns "" or the reason
        error = result if isinstance(result, str) else getattr(result, "error", "")
        if error and attempt <= SMTP_RETRIES and ctx.settings.smtp_host:
            ctx.retry(it, pos, ctx.now + backoff(attempt), {**flight.detail, "error": f"e-mail: {error}"})
        else:
            it.extra["mail"] = {"to": step["email"], "attempt": attempt, "error": error}
            # the inbox rows and the outcome are written by the notify runner in the transaction


def interrupted(ctx: Context, flight: InFlight) -> None:
    """A call still in flight when the engine stopped: a retry, due at once."""
    it = flight.item
    it.settled, it.events, it.steps_run = False, [], 0
    it.extra.pop("hold_until", None)
    it.tries = flight.attempt - 1
    ctx.retry(it, flight.pos, ctx.now, {**flight.detail, "error": "the engine stopped before the call came back; "
                                                                  "it will be made again"})


def stop(engine_id: str, grace: float = DEFAULT_GRACE_S) -> tuple[list[tuple[InFlight, Any]], list[InFlight]]:
    """Shut this engine's pool: (results that came back, calls that did not)."""
    with _LOCK:
        net = _NETS.pop(engine_id, None)
    if net is None:
        return [], []
    unfinished = net.pool.shutdown(max(0.0, grace - RECORD_RESERVE_S))
    done = [(d.job.context, _result_of(d)) for d in net.pool.collect()]
    return done, [j.context for j in unfinished]
