"""Opening the database: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL.

``db`` is a proxy every model binds to; ``open_database`` points it at a real database
and brings the schema up to date (see models/schema.py).
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import peewee as pw
import platformdirs

from models.errors import RotaError

db = pw.DatabaseProxy()

SQLITE_PRAGMAS = {
    # First, before WAL: only a new, empty file takes a page size. 16 KiB pages measured
    # ~1.3x faster for set-based enrollment (fewer page splits and WAL frames per row).
    "page_size": 16384,
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 15000,
    "cache_size": -262144,  # 256 MiB of page cache: criteria counts scan hot pages
    "mmap_size": 1 << 30,
    "temp_store": "memory",
}


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
    database = pw.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=15, check_same_thread=False)
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


def open_database(url_or_path: str | None = None, *, migrate: bool = True) -> pw.Database:
    """Point ``db`` at the database and make sure its schema is current."""
    from models import schema  # late: schema imports this module

    database = make_database(url_or_path)
    try:
        database.connect(reuse_if_open=True)
    except pw.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RotaError(f"cannot open database {describe(url_or_path)}: {first}") from None
    db.initialize(database)
    from models import objects  # late: objects imports this module

    objects.invalidate_cache()  # cached types and record models belong to the previous database
    if migrate:
        schema.ensure_schema()
    return database


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
