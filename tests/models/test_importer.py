"""CSV import: header matching, conversion by type, all-or-nothing errors (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from models.errors import RotaError
from models.importer import import_csv
from models.objects import record_model
from models.store.object_types import add_property, create_object_type

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
UTC = UTC


def _count(type_name: str) -> int:
    return record_model(type_name).select().count()


def _write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_crm_export_imports_as_contacts(any_db):
    result = import_csv("contact", DATA / "crm_contacts_export.csv", tz_name="Europe/Stockholm", now=NOW)
    assert result.count == 6
    assert result.unknown_columns == ["Record ID", "Favourite Colour"]
    model = record_model("contact")
    rows = {r["email"]: r for r in model.select().dicts()}
    anna = rows["anna.lindqvist@northwind.se"]
    assert (anna["firstname"], anna["lastname"], anna["lifecycle_stage"]) == ("Anna", "Lindqvist", "customer")
    assert anna["owner"] == "alice" and anna["jobtitle"] == "Head of Operations"
    # wall times without an offset are read in the given zone (CET in March: UTC+1)
    assert anna["createdate"] == datetime(2024, 3, 15, 8, 12, tzinfo=UTC)
    assert anna["last_activity_date"] == datetime(2026, 10, 2, 12, 30, tzinfo=UTC)  # CEST: UTC+2
    assert anna["updated_at"] == NOW
    assert rows["chloe.moreau@example.fr"]["lifecycle_stage"] == "marketing_qualified_lead"
    assert rows["chloe.moreau@example.fr"]["firstname"] == "Chloé"
    assert rows["chloe.moreau@example.fr"]["phone"] is None
    sean = rows["sean.obrien@example.ie"]
    assert sean["lastname"] == "O'Brien, Jr." and sean["jobtitle"] == "Director, Sales"
    assert sean["lifecycle_stage"] is None  # empty cell: unknown
    assert rows["jonas.becker@example.de"]["last_activity_date"] is None
    assert rows["priya.sharma@example.in"]["lifecycle_stage"] == "subscriber"


def test_bad_value_names_line_and_column_and_leaves_db_unchanged(any_db, tmp_path):
    import_csv("contact", DATA / "contacts_semicolon.csv", now=NOW)
    assert _count("contact") == 2
    lines = ["Email,Lifecycle Stage,Last Activity Date"]
    lines += [f"p{i}@example.com,lead,2026-01-0{1 + i % 9}" for i in range(40)]
    lines.append("bad@example.com,lead,yesterday-ish")  # line 42
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(RotaError) as err:
        import_csv("contact", path, now=NOW, batch_rows=7)  # several batches went in before the error
    assert 'line 42, column "Last Activity Date": expected a date and time' in str(err.value)
    assert _count("contact") == 2


def test_number_error_message_matches_the_issue(sqlite_db, tmp_path):
    path = _write(tmp_path, "Name,Number of Employees\nAcme,12\nBeta,abc\n")
    with pytest.raises(RotaError) as err:
        import_csv("company", path, now=NOW)
    assert str(err.value).endswith('line 3, column "Number of Employees": expected a number, got "abc"')
    assert _count("company") == 0


def test_values_convert_by_type(any_db, tmp_path):
    path = _write(tmp_path, "dealname,AMOUNT, close date ,deal stage\nBig,\"12,500.50\",2026-03-31,Closed Won\n"
                            "Small,,,\n")
    result = import_csv("deal", path, now=NOW)
    assert result.count == 2 and result.unknown_columns == []
    rows = {r["dealname"]: r for r in record_model("deal").select().dicts()}
    assert rows["Big"]["amount"] == 12500.5
    assert rows["Big"]["closedate"] == date(2026, 3, 31)
    assert rows["Big"]["dealstage"] == "closed_won"
    assert rows["Small"]["amount"] is None and rows["Small"]["closedate"] is None
    assert rows["Small"]["createdate"] == NOW  # no Create Date column: now


def test_enumeration_error_lists_the_options(sqlite_db, tmp_path):
    path = _write(tmp_path, "Email,Lifecycle Stage\na@x.se,Hot prospect\n")
    with pytest.raises(RotaError, match=r'line 2, column "Lifecycle Stage": expected one of subscriber, lead'):
        import_csv("contact", path, now=NOW)


@pytest.mark.parametrize("name", ["contacts_semicolon.csv", "contacts_tab.csv"])
def test_delimiters_are_sniffed(sqlite_db, name):
    result = import_csv("contact", DATA / name, now=NOW)
    assert result.unknown_columns == []
    first = record_model("contact").select().order_by(record_model("contact").id).dicts().first()
    assert first["email"].endswith("@example.de") or first["email"].endswith("@example.se")
    assert first["lifecycle_stage"] == "lead"


def test_bom_and_quoted_multiline_field_keep_file_line_numbers(sqlite_db, tmp_path):
    text = 'First Name,Job Title,Lifecycle Stage\n"Anna","Head of\nOperations",lead\nBo,CTO,nope\n'
    path = _write(tmp_path, "\ufeff" + text)  # Excel's "CSV UTF-8" starts with a BOM
    with pytest.raises(RotaError, match=r'line 4, column "Lifecycle Stage"'):
        import_csv("contact", path, now=NOW)
    path = _write(tmp_path, "\ufeffFirst Name,Job Title\n\"Anna\",\"Head of\nOperations\"\n\nBo,CTO\n", "ok.csv")
    assert import_csv("contact", path, now=NOW).count == 2
    titles = sorted(r.jobtitle for r in record_model("contact").select())
    assert titles == ["CTO", "Head of\nOperations"]
    assert sorted(r.firstname for r in record_model("contact").select()) == ["Anna", "Bo"]  # BOM eaten


def test_row_with_wrong_number_of_values(sqlite_db, tmp_path):
    path = _write(tmp_path, "First Name,Email\nAnna,a@x.se\nBo,b@x.se,extra\n")
    with pytest.raises(RotaError, match=r"line 3: 3 values, but the header has 2 columns"):
        import_csv("contact", path, now=NOW)
    assert _count("contact") == 0


def test_required_property_missing_column_or_value(sqlite_db, tmp_path):
    create_object_type("vehicle", "Vehicle", properties=[("plate", "Plate", "string")])
    add_property("vehicle", "vin", "VIN", "string", required=True)
    with pytest.raises(RotaError, match=r'line 1: no column for the required property "vin"'):
        import_csv("vehicle", _write(tmp_path, "Plate\nABC123\n"), now=NOW)
    with pytest.raises(RotaError, match=r'line 3, column "VIN": a value is required'):
        import_csv("vehicle", _write(tmp_path, "Plate,VIN\nABC123,1HGCM\nXYZ,\n", "b.csv"), now=NOW)
    assert _count("vehicle") == 0
    assert import_csv("vehicle", _write(tmp_path, "plate,vin\nA,1\n", "c.csv"), now=NOW).count == 1


def test_file_errors_are_one_line(sqlite_db, tmp_path):
    with pytest.raises(RotaError, match="no such file"):
        import_csv("contact", tmp_path / "missing.csv")
    with pytest.raises(RotaError, match="the file is empty"):
        import_csv("contact", _write(tmp_path, ""))
    with pytest.raises(RotaError, match='object type "planet" is unknown'):
        import_csv("planet", _write(tmp_path, "Name\nx\n", "p.csv"))
    with pytest.raises(RotaError, match="no column matches a contact property"):
        import_csv("contact", _write(tmp_path, "Colour,Size\nred,3\n", "q.csv"))
    with pytest.raises(RotaError, match="not UTF-8"):
        import_csv("contact", _write(tmp_path, "First Name\nBj\xf6rn\n", "latin.csv", encoding="latin-1"))
    with pytest.raises(RotaError, match='both mean the property email'):
        import_csv("contact", _write(tmp_path, "Email,email\na,b\n", "dup.csv"))
    assert _count("contact") == 0


def test_header_only_file_imports_nothing(sqlite_db, tmp_path):
    result = import_csv("contact", _write(tmp_path, "First Name,Email\n"), now=NOW)
    assert result.count == 0 and _count("contact") == 0


def test_awkward_text_survives_the_bulk_path(any_db, tmp_path):
    """Newlines, tabs, backslashes and a literal \\N are data, not COPY/SQL syntax."""
    path = tmp_path / "awkward.csv"
    path.write_text('Job Title,City,Country,Email\n"Head of\nOperations","C:\\temp\\x","tab\there","\\N"\n'
                    'plain,  padded  ,"",x@y.se\n', encoding="utf-8")
    assert import_csv("contact", path, now=NOW).count == 2
    rows = list(record_model("contact").select().order_by(record_model("contact").id).dicts())
    assert (rows[0]["jobtitle"], rows[0]["city"], rows[0]["country"], rows[0]["email"]) == \
        ("Head of\nOperations", "C:\\temp\\x", "tab\there", "\\N")
    assert (rows[1]["city"], rows[1]["country"]) == ("padded", None)


def _big_csv(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("Email,First Name,Create Date\n")
        for i in range(rows):
            f.write(f"p{i}@example.com,Person {i},2024-01-{i % 28 + 1:02d}\n")
    return path


def test_progress_reports_rows_rate_and_eta_then_done(any_db, tmp_path):
    from models.importer import ImportProgress

    path = _big_csv(tmp_path, 25_000)
    seen: list[ImportProgress] = []
    result = import_csv("contact", path, progress=seen.append, batch_rows=2000)
    assert result.count == 25_000
    assert [p.rows for p in seen[:-1]] == list(range(2000, 25_001, 2000)) + [25_000]
    assert seen[-1].done and seen[-1].fraction == 1.0 and seen[-1].rows == 25_000
    middle = seen[5]
    assert 0 < middle.fraction < 1 and middle.bytes_read <= middle.total_bytes == path.stat().st_size
    assert middle.rows_per_s > 0 and middle.eta_s is not None and middle.eta_s >= 0
    assert all(a.bytes_read <= b.bytes_read for a, b in zip(seen, seen[1:], strict=False))


def test_cancel_rolls_the_whole_import_back(any_db, tmp_path):
    import threading

    from models.importer import ImportCancelled

    path = _big_csv(tmp_path, 20_000)
    cancel = threading.Event()

    def cancel_after_some(p):
        if p.rows >= 6000:
            cancel.set()

    with pytest.raises(ImportCancelled, match="nothing was imported"):
        import_csv("contact", path, progress=cancel_after_some, cancel=cancel, batch_rows=2000)
    assert record_model("contact").select().count() == 0
    assert import_csv("contact", path).count == 20_000  # the database is usable afterwards


@pytest.mark.parametrize("cell,phrase", [
    ("Ann\x00Lee", 'line 3, column "First Name": a NUL byte (\\x00) at character 4'),
    ("0001-01-01T00:00+05:00", 'line 3, column "Create Date": "0001-01-01T00:00+05:00" is out of range'),
    ("9999-12-31T23:59:59-05:00", "is out of range"),
])
def test_nul_bytes_and_out_of_range_dates_are_refused_on_both_databases(any_db, tmp_path, cell, phrase):
    column = "First Name" if "\x00" in cell else "Create Date"
    other = "2024-01-01" if column == "First Name" else "Ann"
    rows = [("ok@x.se", "Bo", "2024-01-01"),
            ("a@x.se", cell, other) if column == "First Name" else ("a@x.se", other, cell)]
    path = tmp_path / "bad.csv"
    path.write_text("Email,First Name,Create Date\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows),
                    encoding="utf-8")
    with pytest.raises(RotaError) as err:
        import_csv("contact", path)
    assert phrase in str(err.value)
    assert record_model("contact").select().count() == 0  # the good row before it is not kept either
