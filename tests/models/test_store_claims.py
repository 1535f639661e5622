"""Claiming (models/store/claims.py): heartbeats, the SQLite store lease, and work of a
dead engine coming back when its heartbeat expires — on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from models.schema import EngineLease, Enrollment
from models.store import DataStore, claims
from models.store.dialect import dialect
from models.store.sql import SqlStore, store
from models.timeutil import UTC

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def any_db(request):
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


def _claimed_enrollment(record_id: int, by: str, until: datetime) -> int:
    return Enrollment.create(run=1, workflow=1, record_id=record_id, enrolled_at=T0, state="active", step=0,
                             next_step_at=T0, claimed_by=by, claimed_until=until).id


def _reclaimable_ids(now: datetime) -> set[int]:
    return {e.id for e in Enrollment.select(Enrollment.id).where(claims.reclaimable(Enrollment, now))}


def test_a_dead_engines_claims_come_back_when_its_heartbeat_expires(any_db):
    lease = timedelta(seconds=15)
    claims.take_part("alive", T0, T0 + lease)
    claims.take_part("killed", T0, T0 + lease)
    step_term = T0 + timedelta(minutes=10)  # a step claim's own term is long
    mine = _claimed_enrollment(1, "alive", step_term)
    theirs = _claimed_enrollment(2, "killed", step_term)
    free = _claimed_enrollment(3, None, None)
    assert _reclaimable_ids(T0 + timedelta(seconds=5)) == {free}
    # "alive" renews; "killed" does not: 20 s later only the dead engine's claim is free.
    later = T0 + timedelta(seconds=20)
    claims.take_part("alive", later, later + lease)
    assert _reclaimable_ids(later) == {free, theirs}
    # Past the claim's own term everything is free, heartbeat or not.
    assert _reclaimable_ids(step_term + timedelta(seconds=1)) == {free, theirs, mine}


def test_a_claim_without_a_heartbeat_row_keeps_its_own_term(any_db):
    """rota engine --once writes no heartbeat: its claims last until claimed_until."""
    held = _claimed_enrollment(1, "once", T0 + timedelta(minutes=10))
    assert _reclaimable_ids(T0 + timedelta(minutes=9)) == set()
    assert _reclaimable_ids(T0 + timedelta(minutes=11)) == {held}


def test_clean_release_and_forgetting_dead_engines(any_db):
    claims.take_part("a", T0, T0 + timedelta(seconds=15))
    claims.take_part("b", T0, T0 + timedelta(seconds=15))
    claims.release("a")
    names = {r["name"] for r in claims.leases()}
    assert "engine:a" not in names and "engine:b" in names
    assert claims.forget_dead_engines(T0 + timedelta(hours=1)) == 0
    assert claims.forget_dead_engines(T0 + timedelta(days=2)) == 1
    assert not EngineLease.select().where(EngineLease.name == "engine:b").exists()


def test_the_sqlite_store_lease_has_one_holder(sqlite_db):
    until = T0 + timedelta(seconds=15)
    assert claims.take_part("a", T0, until) is None
    assert claims.take_part("b", T0, until) == until  # stand by until a's lease expires
    assert claims.take_part("b", until + timedelta(seconds=1), until + timedelta(seconds=16)) is None
    store = EngineLease.get(EngineLease.name == claims.STORE_LEASE)
    assert store.claimed_by == "b"


def test_postgres_engines_all_take_part(pg_db):
    until = T0 + timedelta(seconds=15)
    assert claims.take_part("a", T0, until) is None
    assert claims.take_part("b", T0, until) is None
    assert not EngineLease.select().where(EngineLease.name == claims.STORE_LEASE).exists()


def test_json_array_binds_many_values_as_one_parameter(any_db):
    ids = [_claimed_enrollment(i, None, None) for i in range(1, 41)]
    wanted = list(range(1, 100_001))  # far past SQLite's 32,766 variables
    sub = dialect().json_array(wanted, "int")
    got = {e.record_id for e in Enrollment.select(Enrollment.record_id).where(Enrollment.record_id.in_(sub))}
    assert got == set(range(1, 41)) and len(ids) == 40
    texts = dialect().json_array(["engine:x", "it's"], "text")
    assert list(EngineLease.select().where(EngineLease.name.in_(texts))) == []


def test_the_sql_store_implements_the_interface(sqlite_db):
    assert isinstance(store, DataStore) and isinstance(SqlStore(), DataStore)
    missing = [name for name in DataStore.__dict__ if not name.startswith("_") and not hasattr(store, name)]
    assert missing == []
    assert store.next_due_at() is None
    with store.write_transaction():
        assert store.take_part("x", T0, T0 + timedelta(seconds=15)) is None


def test_the_raw_sql_form_finds_the_same_dead_engines(any_db):
    from models.db import db
    from models.timeutil import to_micros

    claims.take_part("alive", T0, T0 + timedelta(minutes=5))
    claims.take_part("killed", T0, T0 + timedelta(seconds=15))
    later = T0 + timedelta(seconds=20)
    raw = {r[0] for r in db.execute_sql(claims.dead_engines_sql(), (to_micros(later),)).fetchall()}
    assert raw == {r.claimed_by for r in claims.dead_engines(later)} == {"killed"}
