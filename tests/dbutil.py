"""Test helpers for real databases: a fresh SQLite file, a fresh PostgreSQL schema."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from urllib.parse import quote

import psycopg2

PG_ENV = "ROTA_TEST_PG_URL"
PG_SKIP_REASON = f"{PG_ENV} is not set: PostgreSQL tests need a server (CI sets it)"


def pg_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def schema_url(base: str, schema: str) -> str:
    """The base URL with every connection's search_path set to ``schema``."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_pg_schema(base: str):
    """Create a schema of our own, yield a URL that uses it, drop it afterwards."""
    schema = "rota_t_" + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(base)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    conn.close()
    try:
        yield schema_url(base, schema)
    finally:
        conn = psycopg2.connect(base)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()


def reset_pg(url: str) -> None:
    """Bring a PostgreSQL schema built by Rota back to a fresh state, fast.

    Creating ~20 tables costs seconds per test on a busy machine; emptying them and
    re-installing the built-in object types costs a tenth of that. Record tables are
    dropped (tests add columns and custom types), sequences restart at 1.
    """
    from models import bootstrap, builtin_types, objects
    from models import db as dbmod
    from models.schema import STATIC_MODELS, SchemaVersion

    database = bootstrap.open_database(url, migrate=False)
    try:
        with database.atomic():
            database.execute_sql("SET LOCAL lock_timeout = '20s'")
            rec = [r[0] for r in database.execute_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'rec\\_%%'"
            ).fetchall()]
            if rec:
                database.execute_sql("DROP TABLE " + ", ".join(f'"{r}"' for r in rec) + " CASCADE")
            for model in reversed(STATIC_MODELS):
                if model is not SchemaVersion:
                    database.execute_sql(f'DELETE FROM "{model._meta.table_name}"')
            database.execute_sql(
                "SELECT setval(c.oid, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
            )
            objects.invalidate_cache()
            builtin_types.install_builtin_types()
    finally:
        dbmod.close_database()
        objects.invalidate_cache()
