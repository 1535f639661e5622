"""Claiming and running due action steps: the engine's second job after enrolling.

The engine loop calls ``run_due_steps(now, engine_id)`` and sleeps until
``next_step_due()``. One call:

1. **claims** up to ``limit`` due enrollments (``next_step_at <= now``) in a short
   transaction: ``claimed_by`` / ``claimed_until`` (a lease, as APScheduler's
   ``acquired_by`` / ``acquired_until``). On PostgreSQL the candidate rows are selected
   ``FOR UPDATE SKIP LOCKED``, so several engines share the work without waiting on
   each other; on SQLite the claim is a ``BEGIN IMMEDIATE`` transaction (one writer).
2. runs them in **rounds**: each round moves every claimed enrollment one step on.
   Enrollments of one workflow at the same step form a group, and a step runs once per
   group (set-based where it can). Network work (webhooks, e-mail) happens first,
   outside any transaction; then one transaction writes the steps' database effects,
   the new step pointers and the history events — together. A crash therefore either
   keeps a step with its pointer moved past it, or loses both: a database step never
   runs twice and is never skipped. A webhook whose POST went out just before a crash
   is sent again (at-least-once) with the same ``Idempotency-Key``.
3. releases whatever it still holds.

Before each step an enrollment is checked against the workflow's unenrollment
criteria (it leaves, with an ``unenrolled`` event) and its pause days (it waits until
the same wall time on the next non-paused day, with a ``paused`` event). Enrollments
of a workflow that is not active are parked and looked at again a minute later.

The passes live in their own modules (engine/database_pass.py, engine/network_pass.py);
what they share (claims, limits, run counters) is in engine/step_claims.py.
"""
from __future__ import annotations

from datetime import datetime

from engine.database_pass import database_pass
from engine.network_pass import apply_network, network_pass
from engine.step_claims import BATCH, MAX_ROUNDS
from models.enums import IN_PROGRESS_STATES
from models.store.claims import heartbeat_expiries
from models.store.step_rows import earliest_due
from models.timeutil import from_micros, to_micros


def run_due_steps(now: datetime, engine_id: str, limit: int = BATCH) -> int:
    """Run the steps of up to ``limit`` due enrollments.

    Every enrollment is taken as far as it can go now: to its end, a delay, a pause
    day, a retry wait or a failure. Returns the outcomes recorded — steps run, plus
    one for each enrollment that only waited, left or was parked — so 0 means nothing
    was due and ``while run_due_steps(now, id): pass`` drains everything due. Safe to
    call from several engines at once.
    """
    total = apply_network(now, engine_id)
    for _ in range(MAX_ROUNDS):
        count, network = database_pass(now, engine_id, limit)
        total += count
        if not network:
            break
        moved = network_pass(now, engine_id, network)
        total += moved
    return total


def next_step_due(engine_id: str | None = None) -> datetime | None:
    """The earliest instant at which some enrollment's next step is due (or its claim
    can be taken back), for the engine to sleep until; None when nothing is waiting.

    A claim can be taken back when its ``claimed_until`` passes or, sooner, when the
    heartbeat of the engine holding it expires (models/store/claims.py): a killed
    engine's claims wake the others within seconds, not at the end of the claim.
    ``engine_id``'s own claims are left to its own lease.
    """
    rows = earliest_due(IN_PROGRESS_STATES)
    if not rows:
        return None
    beats = None
    best = None
    for due, until, holder in rows:
        due_m = due if isinstance(due, int) else to_micros(due)
        until_m = None if until is None else (until if isinstance(until, int) else to_micros(until))
        if until_m is not None and holder is not None and holder != engine_id:
            if beats is None:
                beats = {k: to_micros(v) for k, v in heartbeat_expiries().items()}
            if holder in beats:
                until_m = min(until_m, beats[holder])
        effective = max(due_m, until_m) if until_m is not None else due_m
        best = effective if best is None else min(best, effective)
    assert best is not None  # rows is not empty
    if len(rows) == 100:
        last = rows[-1][0]
        best = min(best, last if isinstance(last, int) else to_micros(last))
    return from_micros(best)
