"""Fixtures shared by every test: isolated settings and directories, real databases."""
from __future__ import annotations

import pytest

from models import bootstrap
from models import db as dbmod
from tests.dbutil import PG_SKIP_REASON, fresh_pg_schema, pg_base_url, reset_pg


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No test reads or writes the real user's settings, data or logs."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("ROTA_CONFIG", str(home / "settings.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("ROTA_TIMEZONE", "UTC")
    monkeypatch.delenv("ROTA_DB", raising=False)
    monkeypatch.delenv("ROTA_OPERATOR", raising=False)
    yield home


@pytest.fixture
def sqlite_url(tmp_path):
    return str(tmp_path / "rota.db")


@pytest.fixture
def sqlite_db(sqlite_url):
    """A real SQLite file with the current schema; ``models.db.db`` points at it."""
    database = bootstrap.open_database(sqlite_url)
    yield database
    dbmod.close_database()


@pytest.fixture(scope="session")
def pg_session_url():
    """One PostgreSQL schema per test process, built once; tests reset it (reset_pg)."""
    base = pg_base_url()
    if not base:
        yield None
        return
    with fresh_pg_schema(base) as url:
        bootstrap.open_database(url)
        dbmod.close_database()
        yield url


@pytest.fixture
def pg_url(pg_session_url):
    """The URL of an empty, current PostgreSQL schema of this test process's own."""
    if not pg_session_url:
        pytest.skip(PG_SKIP_REASON)
    reset_pg(pg_session_url)
    yield pg_session_url


@pytest.fixture
def pg_db(pg_url):
    """A real PostgreSQL schema of this test's own; ``models.db.db`` points at it."""
    database = bootstrap.open_database(pg_url)
    yield database
    dbmod.close_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The URL of a fresh database, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "rota.db")
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def any_db(db_url):
    """An open database, once on SQLite and once on PostgreSQL."""
    database = bootstrap.open_database(db_url)
    yield database
    dbmod.close_database()
