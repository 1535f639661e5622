"""SQL for loading generated records in bulk (``rota demo``): table sizes, dropping
and rebuilding secondary indexes around a big load, and linking records to each other
by arithmetic on their ids, one ``INSERT … SELECT`` per association."""
from __future__ import annotations

from models.db import db
from models.schema import AssociationLink
from models.store.dialect import dialect


def row_count(table: str) -> int:
    return int(db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


def max_id(table: str) -> int:
    return int(db.execute_sql(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()[0])


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's plain (non-unique, non-key) indexes."""
    return dialect().secondary_indexes(table)


def drop_index(name: str) -> None:
    db.execute_sql(f'DROP INDEX "{name}"')


def create_index(sql: str) -> None:
    """Run a CREATE INDEX statement as :func:`secondary_indexes` gave it."""
    db.execute_sql(sql)


def link_by_arithmetic(association_id: int, table: str, *, after_id: int, share: int, to_first: int, to_count: int,
                       multiplier: int) -> int:
    """Link the records of ``table`` with id > ``after_id`` and ``id % 10 < share`` to
    the record ``to_first + ((id * multiplier) % to_count)`` of the other type;
    returns how many links were added (existing ones are kept)."""
    mod = dialect().percent  # psycopg2 reads a lone % as a placeholder
    cur = db.execute_sql(
        f'INSERT INTO "{AssociationLink._meta.table_name}" (association_id, from_id, to_id) '
        f'SELECT {int(association_id)}, id, {int(to_first)} + ((id * {int(multiplier)}) {mod} {int(to_count)}) '
        f'FROM "{table}" WHERE id > {int(after_id)} AND id {mod} 10 < {int(share)} ON CONFLICT DO NOTHING')
    return max(cur.rowcount, 0)
