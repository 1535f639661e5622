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
