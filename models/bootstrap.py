"""Opening a database for use: connect, migrate, seed, clear caches.

``models.db`` only makes connections (a leaf); this module is the one that knows the
schema and the built-in object types, so the import graph has no ring
(db ← schema ← objects ← store.object_types ← builtin_types ← bootstrap).
"""
from __future__ import annotations

import peewee as pw

from models import builtin_types, objects, schema
from models.db import close_database, db, describe, make_database
from models.errors import RotaError
from models.store.dialect import dialect

__all__ = ["open_database", "close_database"]


def open_database(url_or_path: str | None = None, *, migrate: bool = True) -> pw.Database:
    """Point ``db`` at the database and make sure its schema is current.

    A database whose schema is current is only read here, so a read-only file opens;
    creating or upgrading the schema and installing the built-in object types is one
    write transaction (all or nothing).
    """
    database = make_database(url_or_path)
    try:
        database.connect(reuse_if_open=True)
    except pw.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RotaError(f"cannot open database {describe(url_or_path)}: {first}") from None
    db.initialize(database)
    objects.invalidate_cache()  # cached types and record models belong to the previous database
    if migrate and schema.current_version() != schema.SCHEMA_VERSION:
        with db.atomic():
            schema.ensure_schema(without_rowid=dialect(database).without_rowid)
            builtin_types.install_builtin_types()  # idempotent: also seeds what a migration added
    return database
