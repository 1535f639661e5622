"""Issue 10's bad-input list as a table: every entry exits 2 with ONE line on stderr,
no traceback, and leaves the database byte-for-byte as it was (compared by dump)."""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from models import db as dbmod
from tests.e2e.conftest import DATA
from tui.cli import main

SPEC_EXAMPLE = DATA / "workflow_spec_example.json"
NAME = "Friday customer check-in"
BIG = str(2**64)
HUGE_ZONE = "A" * 100_000
ESC_TITLE = "\x1b]0;PWNED\x07"


def _dump(path: str) -> str:
    con = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


def _workflow(tmp_path: Path, name: str, **changes) -> str:
    body = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    body.update(changes)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def _csv(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _branches(depth: int) -> str:
    inner = '{"type": "create_task", "title": "t", "due_in_days": 1}'
    for _ in range(depth):
        inner = ('{"type": "branch", "criteria": [[{"property": "email", "operator": "known"}]], '
                 f'"then": [{inner}], "else": []}}')
    return inner


def _cases(tmp_path: Path) -> list[tuple[str, list[str], str]]:
    """(id, argv after --db, a phrase the one-line message must contain)."""
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 1000 + "]" * 1000, encoding="utf-8")
    branches = tmp_path / "branches.json"
    branches.write_text(Path(_workflow(tmp_path, "b")).read_text().replace(
        '"actions": [', f'"actions": [{_branches(900)}, ', 1), encoding="utf-8")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(SPEC_EXAMPLE.read_text(encoding="utf-8").replace("Friday", "Fr\u00e9day").encode("latin-1"))
    bignum = tmp_path / "bignum.json"
    bignum.write_text(Path(_workflow(tmp_path, "n", actions=[
        {"type": "create_task", "title": "t", "due_in_days": 12345}])).read_text().replace("12345", "9" * 5000),
        encoding="utf-8")
    header = "Email,First Name,Create Date\n"
    return [
        ("csv-year-1", ["import", "contact", _csv(tmp_path, "y1.csv", header + "a@x.se,A,0001-01-01T00:00+05:00\n")],
         'line 2, column "Create Date": "0001-01-01T00:00+05:00" is out of range'),
        ("csv-year-9999", ["import", "contact",
                           _csv(tmp_path, "y9.csv", header + "a@x.se,A,9999-12-31T23:59:59-05:00\n")],
         "is out of range"),
        ("csv-nul", ["import", "contact", _csv(tmp_path, "nul.csv", header + "a@x.se,A\x00B,2026-01-01\n")],
         'line 2, column "First Name": a NUL byte (\\x00) at character 2'),
        ("csv-5000-digits", ["import", "contact", _csv(tmp_path, "num.csv", header + f"a@x.se,A,{'9' * 5000}\n")],
         "(5,0"),
        ("csv-huge-zone", ["import", "contact", _csv(tmp_path, "ok.csv", header + "a@x.se,A,2026-01-01\n"),
                           "--timezone", HUGE_ZONE], "unknown time zone"),
        ("set-property-year-1", ["workflow", "import", _workflow(tmp_path, "sp1", actions=[
            {"type": "set_property", "property": "last_activity_date", "value": "0001-01-01T00:00+05:00"}])],
         "out of range"),
        ("set-property-year-9999", ["workflow", "import", _workflow(tmp_path, "sp9", actions=[
            {"type": "set_property", "property": "last_activity_date", "value": "9999-12-31T23:59:59-05:00"}])],
         "out of range"),
        ("json-1000-deep", ["workflow", "import", str(deep)], "nested 1000 levels deep"),
        ("json-900-branches", ["workflow", "import", str(branches)], "levels deep; at most 64"),
        ("workflow-not-utf8", ["workflow", "import", str(latin1)], "not UTF-8 text (byte 0xe9)"),
        ("workflow-5000-digits", ["workflow", "import", str(bignum)], "numbers must fit in 64 bits"),
        ("workflow-huge-zone", ["workflow", "import", _workflow(tmp_path, "tz", schedule={
            "kind": "daily", "time": "08:00", "timezone": HUGE_ZONE})], "unknown time zone"),
        ("history-since-year-1", ["history", NAME, "--since", "0001-01-01T00:00+05:00"], "out of range"),
        ("history-since-year-9999", ["history", NAME, "--since", "9999-12-31T23:59:59-05:00"], "out of range"),
        ("history-record-2**64", ["history", NAME, "--record", BIG], "too large"),
        ("history-limit-0", ["history", NAME, "--limit", "0"], "must be 1 or more"),
        ("runs-limit-2**64", ["runs", NAME, "--limit", BIG], "too large"),
        ("runs-limit--1", ["runs", NAME, "--limit", "-1"], "must be 1 or more"),
        ("runs-limit-0", ["runs", NAME, "--limit", "0"], "must be 1 or more"),
        ("enroll-2**64", ["enroll", NAME, BIG], "too large"),
        ("enroll-5000-digits", ["enroll", NAME, "9" * 5000], "too large"),
        ("schedule-huge-zone", ["schedule", "next", "--schedule",
                                json.dumps({"kind": "daily", "time": "08:00", "timezone": HUGE_ZONE})],
         "unknown time zone"),
        ("schedule-deep-json", ["schedule", "next", "--schedule", "[" * 5000 + "]" * 5000], ""),
        ("escape-in-name", ["runs", ESC_TITLE], 'no workflow named "\\x1b]0;PWNED\\x07"'),
    ]


@pytest.fixture
def seeded(sqlite_url):
    assert main(["--db", sqlite_url, "workflow", "import", str(SPEC_EXAMPLE)]) == 0
    assert main(["--db", sqlite_url, "import", "contact", str(DATA / "crm_contacts_export.csv")]) == 0
    dbmod.close_database()
    yield sqlite_url
    dbmod.close_database()




def test_bad_input_table(seeded, tmp_path, capsys):
    capsys.readouterr()
    before = _dump(seeded)
    failures = []
    for case_id, argv, phrase in _cases(tmp_path):
        code = main(["--db", seeded, *argv])
        out, err = capsys.readouterr()
        dbmod.close_database()
        lines = err.splitlines()
        ok = (code == 2 and len(lines) == 1 and lines[0].startswith("rota: ") and "Traceback" not in err
              and "internal error" not in err and phrase in err and "\x1b" not in err + out)
        if not ok:
            failures.append(f"{case_id}: exit {code}, stderr {err[:300]!r}")
        if _dump(seeded) != before:
            failures.append(f"{case_id}: changed the database")
            before = _dump(seeded)
    assert not failures, "\n".join(failures)


def test_settings_file_not_utf8_or_too_deep(seeded, tmp_path, monkeypatch, capsys):
    settings = tmp_path / "settings.toml"
    monkeypatch.setenv("ROTA_CONFIG", str(settings))
    settings.write_bytes('operator = "J\u00f6rg"\n'.encode("latin-1"))
    assert main(["--db", seeded, "history", NAME]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "settings file" in err and str(settings) in err
    settings.write_text("x = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    assert main(["--db", seeded, "history", NAME]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err


@pytest.mark.parametrize("content,phrase", [
    (b"hello, this is not a database at all, just text\n" * 200, "is not a database file"),
    (None, "corrupt"),
])
def test_db_that_is_not_a_database(seeded, tmp_path, capsys, content, phrase):
    bad = tmp_path / "bad.db"
    if content is None:  # a real database with its pages cut off half-way
        data = Path(seeded).read_bytes()
        bad.write_bytes(data[:len(data) // 2] + b"\x00garbage" * 4096)
        bad.write_bytes(bytes(b if i < 100 or i % 7 else 0xFF for i, b in enumerate(bad.read_bytes())))
    else:
        bad.write_bytes(content)
    before = bad.read_bytes()
    for argv in (["runs", NAME], ["workflow", "list"], ["import", "contact", str(DATA / "crm_contacts_export.csv")]):
        code = main(["--db", str(bad), *argv])
        err = capsys.readouterr().err
        dbmod.close_database()
        assert code == 2 and err.count("\n") == 1 and phrase in err, (argv, err)
    assert bad.read_bytes() == before


@pytest.mark.parametrize("pragma,value,phrase", [
    ("query_only", 1, "read-only"),  # SQLite's own SQLITE_READONLY, as on a read-only file
    ("max_page_count", 1, "database or disk is full"),  # SQLITE_FULL, as on a full disk
])
def test_writes_to_readonly_or_full_database(seeded, monkeypatch, capsys, pragma, value, phrase):
    before = _dump(seeded)
    pragmas = dict(dbmod.SQLITE_PRAGMAS)
    pragmas[pragma] = value
    if pragma == "max_page_count":  # the limit is the file's current size: nothing more fits
        con = sqlite3.connect(seeded)
        pragmas[pragma] = con.execute("PRAGMA page_count").fetchone()[0]
        con.close()
    monkeypatch.setattr(dbmod, "SQLITE_PRAGMAS", pragmas)
    code = main(["--db", seeded, "demo", "--contacts", "3000", "--companies", "0", "--deals", "0",
                 "--tickets", "0", "--no-workflows"])
    err = capsys.readouterr().err
    dbmod.close_database()
    assert code == 2 and err.count("\n") == 1 and phrase in err, err
    assert _dump(seeded) == before


def test_write_to_locked_database(seeded, monkeypatch, capsys):
    """Another process holds the write lock past the busy timeout: locked, in words, exit 2."""
    pragmas = dict(dbmod.SQLITE_PRAGMAS)
    pragmas["busy_timeout"] = 200
    monkeypatch.setattr(dbmod, "SQLITE_PRAGMAS", pragmas)
    before = _dump(seeded)
    holder = sqlite3.connect(seeded, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code = main(["--db", seeded, "import", "contact", str(DATA / "crm_contacts_export.csv")])
        err = capsys.readouterr().err
        dbmod.close_database()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 2 and err.count("\n") == 1 and "locked" in err, err
    assert _dump(seeded) == before


def test_read_commands_never_create_a_database_or_directory(tmp_path, capsys):
    missing_dir = tmp_path / "no" / "such" / "dir"
    for argv in (["runs", "x"], ["history", "x"], ["workflow", "list"], ["workflow", "export", "x"],
                 ["workflow", "count", "x"], ["enroll", "x", "1"], ["engine", "--once"]):
        code = main(["--db", str(missing_dir / "x.db"), *argv])
        err = capsys.readouterr().err
        assert code == 2 and err == f"rota: no database at {missing_dir / 'x.db'}: check --db (or $ROTA_DB); " \
                                    "`rota demo` or `rota import` create one\n", (argv, err)
        code = main(["--db", str(tmp_path / "absent.db"), *argv])
        assert code == 2 and "no database at" in capsys.readouterr().err
    assert not (tmp_path / "no").exists() and not (tmp_path / "absent.db").exists()
    # A command that writes creates the file, but only in a directory that exists.
    code = main(["--db", str(missing_dir / "x.db"), "workflow", "import", str(SPEC_EXAMPLE)])
    assert code == 2 and f"no directory {missing_dir}" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
    code = main(["--db", str(tmp_path / "new.db"), "workflow", "import", str(SPEC_EXAMPLE)])
    dbmod.close_database()
    assert code == 0 and (tmp_path / "new.db").is_file()


def test_control_characters_are_shown_escaped(seeded, tmp_path, capsys):
    csv = _csv(tmp_path, "esc.csv", f"Email,First Name,Lifecycle Stage,Create Date\n"
                                    f"evil@x.se,{ESC_TITLE}\u009b31m,Customer,2020-01-01\n")
    assert main(["--db", seeded, "import", "contact", csv]) == 0
    body = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    body["actions"] = [{"type": "create_task", "title": "Call {firstname}", "due_in_days": 2}]
    capsys.readouterr()
    from models.objects import record_model
    rid = record_model("contact").get(record_model("contact").email == "evil@x.se").id
    assert main(["--db", seeded, "enroll", NAME, str(rid)]) == 0
    assert main(["--db", seeded, "engine", "--once"]) == 0  # runs the step: the history shows the title
    for argv in (["history", NAME], ["runs", NAME], ["workflow", "list"], ["history", NAME, "--json"]):
        assert main(["--db", seeded, *argv]) == 0
        out, err = capsys.readouterr()
        assert "\x1b" not in out + err and "\x07" not in out + err and "\x9b" not in out + err, argv
        if argv == ["history", NAME]:  # the task title holds the first name: shown, escaped
            assert "title=Call \\x1b]0;PWNED\\x07\\x9b31m" in out, out
    dbmod.close_database()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Stockholm", "Pacific/Kiritimati"])
def test_schedule_next_at_the_end_of_time_says_there_are_no_further_runs(zone, capsys):
    schedule = json.dumps({"kind": "daily", "time": "08:00", "timezone": zone})
    assert main(["schedule", "next", "--schedule", schedule, "--after", "9999-12-31T23:59:59Z"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == "(no further runs)" and err == ""
    assert main(["schedule", "next", "--schedule", schedule, "--after", "9999-12-31T23:59:59Z", "--json"]) == 0
    assert capsys.readouterr().out == "[]\n"


def _pg_fingerprint() -> dict[str, int]:
    from models.db import db

    tables = [r[0] for r in db.execute_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
    return {t: db.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_bad_input_table_on_postgresql(pg_url, tmp_path, capsys):
    """The same table against PostgreSQL: exit 2, one line, no table changes its row count."""
    assert main(["--db", pg_url, "workflow", "import", str(SPEC_EXAMPLE)]) == 0
    assert main(["--db", pg_url, "import", "contact", str(DATA / "crm_contacts_export.csv")]) == 0
    before = _pg_fingerprint()
    dbmod.close_database()
    capsys.readouterr()
    failures = []
    for case_id, argv, phrase in _cases(tmp_path):
        code = main(["--db", pg_url, *argv])
        _, err = capsys.readouterr()
        if not (code == 2 and err.count("\n") == 1 and phrase in err and "internal error" not in err):
            failures.append(f"{case_id}: exit {code}, stderr {err[:300]!r}")
    from models.bootstrap import open_database

    open_database(pg_url)
    after = _pg_fingerprint()
    dbmod.close_database()
    assert not failures, "\n".join(failures)
    assert after == before
