"""Opening databases: SQLite pragmas and permissions, PostgreSQL, schema versions."""
import gzip
import os
import shutil
import stat
from pathlib import Path

import peewee as pw
import pytest

from models import bootstrap, schema
from models import db as dbmod
from models.errors import RotaError
from models.schema import ObjectType, SchemaVersion

DATA = Path(__file__).resolve().parents[1] / "data"


def test_sqlite_file_is_private_and_in_wal_mode(sqlite_url, sqlite_db):
    mode = stat.S_IMODE(os.stat(sqlite_url).st_mode)
    assert mode == 0o600
    assert sqlite_db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sqlite_db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert sqlite_db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert sqlite_db.execute_sql("PRAGMA page_size").fetchone()[0] == 16384


def test_default_location_comes_from_rota_db_then_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ROTA_DB", str(tmp_path / "env.db"))
    assert dbmod.resolve_url(None) == str(tmp_path / "env.db")
    assert dbmod.resolve_url(str(tmp_path / "flag.db")) == str(tmp_path / "flag.db")
    monkeypatch.delenv("ROTA_DB")
    assert dbmod.resolve_url(None).endswith(os.path.join("rota", "rota.db"))


def test_default_database_is_created_in_the_data_directory(isolated_env):
    database = bootstrap.open_database(None)
    try:
        path = dbmod.default_db_path()
        assert path.exists() and str(path).startswith(str(isolated_env))
        assert stat.S_IMODE(os.stat(path.parent).st_mode) & 0o077 == 0
    finally:
        dbmod.close_database()
    assert isinstance(database, pw.SqliteDatabase)


def test_rota_fold_is_registered_and_matches_python(sqlite_db):
    row = sqlite_db.execute_sql("SELECT rota_fold(?)", ("  ÅSA Svensson ",)).fetchone()
    assert row[0] == dbmod.fold("  ÅSA Svensson ") == "åsa svensson"


def test_builtin_types_are_installed(any_db):
    names = [t.name for t in ObjectType.select().order_by(ObjectType.id)]
    assert names == ["contact", "company", "deal", "ticket"]
    assert schema.current_version() == schema.SCHEMA_VERSION


def test_postgres_url_selects_postgres(pg_db):
    assert dbmod.is_postgres()
    assert pg_db.execute_sql("SELECT 1").fetchone()[0] == 1


def test_newer_schema_refuses_to_open(sqlite_url, sqlite_db):
    SchemaVersion.update(version=schema.SCHEMA_VERSION + 5).execute()
    dbmod.close_database()
    with pytest.raises(RotaError, match="newer than this Rota"):
        bootstrap.open_database(sqlite_url)


def test_older_schema_is_upgraded_in_order(sqlite_url, sqlite_db, monkeypatch):
    ran = []

    def to_2():
        ran.append(2)
        dbmod.db.execute_sql("CREATE TABLE upgrade_marker (id INTEGER PRIMARY KEY)")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, schema.SCHEMA_VERSION, to_2)
    dbmod.close_database()
    bootstrap.open_database(sqlite_url)
    assert ran == [2]
    assert schema.current_version() == schema.SCHEMA_VERSION
    assert dbmod.db.table_exists("upgrade_marker")
    dbmod.close_database()
    bootstrap.open_database(sqlite_url)  # already current: nothing runs again
    assert ran == [2]


def test_failed_migration_leaves_the_old_version(sqlite_url, sqlite_db, monkeypatch):
    def broken():
        dbmod.db.execute_sql("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("disk on fire")

    old = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "SCHEMA_VERSION", old + 1)
    monkeypatch.setitem(schema.MIGRATIONS, old + 1, broken)
    dbmod.close_database()
    with pytest.raises(RuntimeError):
        bootstrap.open_database(sqlite_url)
    assert schema.current_version() == old
    assert not dbmod.db.table_exists("half_done")


def test_unreachable_postgres_is_one_clear_line():
    with pytest.raises(RotaError) as err:
        bootstrap.open_database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "cannot open database" in str(err.value)
    assert "\n" not in str(err.value)


def test_password_is_masked_in_descriptions():
    assert dbmod.describe("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"


def test_database_paths_that_cannot_work_are_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RotaError, match="cannot create the database file"):
        bootstrap.open_database(str(blocker / "sub" / "rota.db"))
    with pytest.raises(RotaError, match="is a directory"):
        bootstrap.open_database(str(tmp_path))
    with pytest.raises(RotaError, match="use a file path or a postgresql:// URL"):
        bootstrap.open_database("mysql://x/y")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_version_1_lease_columns_are_renamed(backend, sqlite_url, request):
    """Migration 3: engine_lease's holder/until become claimed_by/claimed_until, rows kept."""
    url = sqlite_url if backend == "sqlite" else request.getfixturevalue("pg_url")
    bootstrap.open_database(url)
    db = dbmod.db
    db.execute_sql('ALTER TABLE "engine_lease" RENAME COLUMN "claimed_by" TO "holder"')
    db.execute_sql('ALTER TABLE "engine_lease" RENAME COLUMN "claimed_until" TO "until"')
    db.execute_sql("INSERT INTO engine_lease (name, holder, until) VALUES ('store', 'old-engine', 5)")
    SchemaVersion.update(version=1).execute()
    dbmod.close_database()
    bootstrap.open_database(url)
    assert schema.current_version() == schema.SCHEMA_VERSION
    row = dbmod.db.execute_sql("SELECT claimed_by, claimed_until FROM engine_lease WHERE name = 'store'").fetchone()
    assert tuple(row) == ("old-engine", 5)
    dbmod.close_database()


# ---------------------------------------------------------------- database errors in words

def _error_of(fn) -> BaseException:
    try:
        fn()
    except Exception as exc:
        return exc
    raise AssertionError("no error")


def test_database_errors_in_words(tmp_path, sqlite_url, sqlite_db):
    from models.store.dialect import classify_error

    # Full: SQLite's page limit stands in for a full disk (SQLITE_FULL, the same code).
    full = classify_error(_error_of(lambda: (
        dbmod.db.execute_sql("PRAGMA max_page_count = 1"),
        dbmod.db.execute_sql("CREATE TABLE filler (x TEXT)"),
        dbmod.db.execute_sql("INSERT INTO filler VALUES (?)", ("x" * 100_000,)))))
    assert (full.message, full.transient) == ("database or disk is full", True)
    # Locked: another connection holds the write lock past our (short) busy timeout.
    other = pw.SqliteDatabase(sqlite_url, pragmas={"busy_timeout": 50}, timeout=0.05)
    holder = pw.SqliteDatabase(sqlite_url)
    holder.execute_sql("BEGIN IMMEDIATE")
    try:
        locked = classify_error(_error_of(lambda: other.execute_sql("BEGIN IMMEDIATE")))
    finally:
        holder.execute_sql("ROLLBACK")
        holder.close()
        other.close()
    assert locked.transient and "locked" in locked.message
    # Not a database.
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is a text file, not SQLite " * 200)
    notadb = classify_error(_error_of(lambda: pw.SqliteDatabase(str(junk)).execute_sql("SELECT * FROM sqlite_master")))
    assert (notadb.message, notadb.transient) == ("file is not a database", True)
    # Read-only.
    ro = tmp_path / "ro.db"
    pw.SqliteDatabase(str(ro)).execute_sql("CREATE TABLE t (x)")
    readonly = classify_error(_error_of(lambda: pw.SqliteDatabase(f"file:{ro}?mode=ro", uri=True).execute_sql(
        "INSERT INTO t VALUES (1)")))
    assert (readonly.message, readonly.transient) == ("database is read-only", True)
    # A statement the database cannot run is the statement's problem, not the database's.
    bad = classify_error(_error_of(lambda: dbmod.db.execute_sql("SELECT no_such_column FROM workflow")))
    assert not bad.transient and "no_such_column" in bad.message


@pytest.mark.pg
def test_postgres_errors_in_words(pg_db):
    from models.store.dialect import classify_error

    with pytest.raises(pw.DatabaseError) as caught:
        with pg_db.atomic():
            pg_db.execute_sql("SET TRANSACTION READ ONLY")
            pg_db.execute_sql("CREATE TABLE nope (x int)")
    assert (classify_error(caught.value).message, classify_error(caught.value).transient) == \
        ("database is read-only", True)
    bad = classify_error(_error_of(lambda: pg_db.execute_sql("SELECT no_such_column FROM workflow")))
    assert not bad.transient and "no_such_column" in bad.message


def test_migrations_are_numbered_without_gaps():
    assert sorted(schema.MIGRATIONS) == list(range(2, schema.SCHEMA_VERSION + 1))


def test_a_database_of_the_first_release_upgrades(tmp_path):
    """tests/data/schema_v1.db.gz was written by the first release (schema 1: no
    association tables, engine_lease with holder/until, contacts without email_opt_out)."""
    path = tmp_path / "v1.db"
    with gzip.open(DATA / "schema_v1.db.gz") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    bootstrap.open_database(str(path))
    try:
        assert schema.current_version() == schema.SCHEMA_VERSION
        for table in ("association_def", "association_link", "record_view", "history_group", "history_value"):
            assert dbmod.db.table_exists(table)
        lease_columns = {c.name for c in dbmod.db.get_columns("engine_lease")}
        assert {"claimed_by", "claimed_until"} <= lease_columns
        contact_columns = {c.name for c in dbmod.db.get_columns("rec_contact")}
        assert "email_opt_out" in contact_columns
        row = dbmod.db.execute_sql("SELECT firstname, email FROM rec_contact").fetchone()
        assert row == ("Ada", "ada@example.com")
    finally:
        dbmod.close_database()
