"""The database proxy and the connection factory: SQLite (WAL, busy timeout, foreign
keys) or PostgreSQL.

``db`` is a proxy every model binds to; ``models.bootstrap.open_database`` points it at
a real database and brings the schema up to date. This module is a leaf: it imports
nothing of Rota's but ``models.errors`` (itself a leaf), so every other module may
import it without forming a cycle.

Writers wait, they do not fail: on SQLite every transaction begins ``BEGIN IMMEDIATE``
(``lock_type`` below), so it takes the write lock up front and the busy timeout
applies. A deferred transaction that reads first and writes later cannot wait for the
lock (SQLite answers "database is locked" at once, because its snapshot is stale), which
is how a save used to fail while the engine wrote a large run.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import overload
from urllib.parse import urlparse

import peewee as pw
import platformdirs

from models.errors import RotaError

db = pw.DatabaseProxy()
BUSY_TIMEOUT_S = 15

SQLITE_PRAGMAS = {
    # First, before WAL: only a new, empty file takes a page size. 16 KiB pages measured
    # ~1.3x faster for set-based enrollment (fewer page splits and WAL frames per row).
    "page_size": 16384,
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 15000,  # = BUSY_TIMEOUT_S: how long a writer waits for the lock
    "cache_size": -262144,  # 256 MiB of page cache: criteria counts scan hot pages
    "mmap_size": 1 << 30,
    "temp_store": "memory",
}


@overload
def fold(value: str) -> str: ...
@overload
def fold(value: None) -> None: ...
@overload
def fold(value: str | None) -> str | None: ...
def fold(value: str | None) -> str | None:
    """How text compares: surrounding spaces and case are ignored.

    The same function is registered in SQLite as ``rota_fold`` (see ``fold_sql``), so
    the SQL compiler and the Python evaluator agree to the letter.
    """
    if value is None:
        return None
    return str(value).strip().lower()


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("rota")) / "rota.db"


def resolve_url(url_or_path: str | None) -> str:
    """``--db`` beats ``ROTA_DB`` beats the default file."""
    value = url_or_path or os.environ.get("ROTA_DB") or ""
    return value or str(default_db_path())


def is_postgres(database: pw.Database | None = None) -> bool:
    target = database if database is not None else db.obj
    return isinstance(target, pw.PostgresqlDatabase)


def _make_sqlite(path: Path) -> pw.SqliteDatabase:
    if path.is_dir():
        raise RotaError(f"database {path} is a directory: give a file path such as {path / 'rota.db'}")
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        except OSError as exc:
            raise RotaError(f"cannot create the database file {path}: {exc.strerror}") from None
    database = pw.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_S,
                                 check_same_thread=False, lock_type="IMMEDIATE")
    database.register_function(fold, "rota_fold", 1, deterministic=True)
    return database


def _make_postgres(url: str) -> pw.PostgresqlDatabase:
    dbname = urlparse(url).path.lstrip("/") or "postgres"
    return pw.PostgresqlDatabase(dbname, dsn=url)


def make_database(url_or_path: str | None = None) -> pw.Database:
    target = resolve_url(url_or_path)
    scheme = urlparse(target).scheme.lower()
    if scheme in ("postgresql", "postgres"):
        return _make_postgres(target)
    if scheme == "sqlite":
        target = target.split("://", 1)[1] or ":memory:"
    elif scheme and len(scheme) > 1:
        raise RotaError(f'database "{target}": use a file path or a postgresql:// URL')
    return _make_sqlite(Path(target).expanduser())


def close_database() -> None:
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()


def describe(url_or_path: str | None = None) -> str:
    """The database location with any password masked."""
    target = resolve_url(url_or_path)
    parsed = urlparse(target)
    if parsed.password:
        return target.replace(f":{parsed.password}@", ":***@")
    return target
