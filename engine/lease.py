"""An engine's hold on the store: its heartbeat and lease, and its network calls at stop.

Several engines, one database (the mechanism is models/store/claims.py)
* Every engine keeps a heartbeat row ``engine:<id>`` (``claimed_by``, ``claimed_until``,
  ``heartbeat``), renewed every third of its lease term; a clean stop deletes it. Work
  claimed by an engine whose heartbeat expired is taken back by the others.
* SQLite: one engine at a time also holds the ``store`` lease (same columns), renews it
  while alive, and the others stand by and take it over when it expires. Only the
  holder runs workflows and steps.
* PostgreSQL: every engine takes part; each due workflow row is claimed with
  ``SELECT … FOR UPDATE SKIP LOCKED`` inside its run transaction, so engines on
  different machines share the due runs.
* Either way the unique keys (one run per (workflow, instant), one enrollment per (run,
  record)) make duplicates impossible, not merely unlikely.
* The lease is renewed between runs. One SQLite run longer than the lease term holds the
  write lock throughout, so no one can take the lease during it; a stand-by may take it
  right after the commit, which the in-transaction re-read and the unique keys make
  harmless (the old holder finds nothing due and steps down at its next renewal).

:class:`Lease` keeps this engine's side of it: when to renew next, and whether it may
run work. :func:`stop_network` is the last thing an engine does with its claims:
network calls in flight get a grace period, the rest are released as retries.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import peewee as pw

from engine import network_pass
from models.db import db
from models.store import claims

log = logging.getLogger("rota.engine")


class Lease:
    """This engine's heartbeat and (SQLite) store lease."""

    def __init__(self, engine_id: str, seconds: float):
        self.engine_id = engine_id
        self.seconds = float(seconds)
        self.until: datetime | None = None  # held until then (None: not held)
        self.renew_at: datetime | None = None  # when the loop must wake to renew (or to try again)

    def hold(self, now: datetime) -> bool:
        """Renew the heartbeat and (SQLite) hold or take over the store lease; True if
        this engine may run work (models/store/claims.py describes the mechanism).

        Sets ``renew_at`` (a third of the lease) so the loop wakes to renew in time; a
        stand-by wakes when the holder's lease would expire, to take it over.
        """
        renew = timedelta(seconds=self.seconds / 3)
        until = now + timedelta(seconds=self.seconds)
        self.renew_at = now + renew
        retry_at = claims.take_part(self.engine_id, now, until)
        if retry_at is None:
            self.until = until
            return True
        self.until = None
        self.renew_at = min(self.renew_at, retry_at + timedelta(milliseconds=1))
        return False

    def release(self) -> None:
        """Give the lease and the heartbeat up (a clean stop): another engine takes over at once."""
        if db.obj is None:
            return
        claims.release(self.engine_id)
        self.until = None


def stop_network(engine_id: str, now: datetime, grace: float) -> None:
    """Give network calls in flight ``grace`` seconds, record what came back, and
    record the rest as retries with their claims released."""
    try:
        db.connect(reuse_if_open=True)
        recorded, interrupted = network_pass.stop_network(engine_id, now, grace)
        if recorded or interrupted:
            log.info("stopping: %d network calls recorded, %d interrupted and released as retries",
                     recorded, interrupted)
    except (pw.DatabaseError, pw.InterfaceError) as exc:
        log.warning("stopping: could not record network calls in flight (their leases run out): %s", exc)
