"""``rota import`` and ``rota demo`` through the real command (in-process, and once as a process)."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from models.objects import record_model
from models.schema import Workflow
from tests.e2e.conftest import DATA


def _count(type_name: str) -> int:
    return record_model(type_name).select().count()


def test_import_crm_export(run):
    code, out, err = run("import", "contact", str(DATA / "crm_contacts_export.csv"))
    assert code == 0
    assert out == f"imported 6 contacts from {DATA / 'crm_contacts_export.csv'}\n"
    assert err == 'ignored unknown columns: "Record ID", "Favourite Colour"\n'
    assert _count("contact") == 6


def test_import_singular_and_quiet_when_every_column_is_known(run, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("Name,Industry\nNordicpeak AB,Logistics\n", encoding="utf-8")
    code, out, err = run("import", "company", str(path))
    assert (code, out, err) == (0, f"imported 1 company from {path}\n", "")


def test_import_timezone_option(run, tmp_path):
    path = tmp_path / "tz.csv"
    path.write_text("Email,Create Date\na@x.se,2026-07-01 09:00\nb@x.se,2026-07-01T09:00:00Z\n", encoding="utf-8")
    code, _, err = run("import", "contact", str(path), "--timezone", "America/New_York")
    assert code == 0, err
    model = record_model("contact")
    created = [r.createdate.isoformat() for r in model.select().order_by(model.id)]
    assert created == ["2026-07-01T13:00:00+00:00", "2026-07-01T09:00:00+00:00"]  # EDT; explicit Z kept
    code, _, err = run("import", "contact", str(path), "--timezone", "Mars/Base")
    assert code == 2 and 'unknown time zone "Mars/Base"' in err and _count("contact") == 2


def test_bad_value_is_one_line_exit_2_and_nothing_imported(run, tmp_path):
    run("import", "contact", str(DATA / "contacts_semicolon.csv"))
    path = tmp_path / "companies.csv"
    path.write_text("Name,Number of Employees\nAcme,12\nBeta,abc\n", encoding="utf-8")
    code, out, err = run("import", "company", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("rota: ")
    assert err.rstrip().endswith('line 3, column "Number of Employees": expected a number, got "abc"')
    assert _count("company") == 0 and _count("contact") == 2


@pytest.mark.parametrize("args, message", [
    (("contact", "missing.csv"), "no such file"),
    (("planet", "x.csv"), 'object type "planet" is unknown'),
    (("contact", "empty.csv"), "the file is empty"),
])
def test_import_input_errors(run, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "x.csv").write_text("Name\nx\n", encoding="utf-8")
    code, out, err = run("import", *args)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert message in err


def test_demo_command(run):
    code, out, err = run("demo", "--contacts", "400", "--companies", "20", "--deals", "30", "--tickets", "10",
                         "--seed", "5")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("added 400 contacts, 20 companies, 30 deals, 10 tickets in ")
    assert lines[1] == "sample workflows: 7 saved, 0 already there"
    assert (_count("contact"), _count("company"), _count("deal"), _count("ticket")) == (400, 20, 30, 10)
    code, out, _ = run("demo", "--contacts", "5", "--companies", "0", "--deals", "0", "--tickets", "0")
    assert code == 0 and out.splitlines()[1] == "sample workflows: 0 saved, 7 already there"
    assert _count("contact") == 405 and Workflow.select().count() == 7


def test_demo_no_workflows_and_bad_counts(run):
    code, out, _ = run("demo", "--contacts", "50", "--no-workflows")
    assert code == 0 and "sample workflows" not in out
    assert Workflow.select().count() == 0 and _count("contact") == 50
    code, out, err = run("demo", "--deals", "-3")
    assert code == 2 and err == ("rota: argument --deals: must be 0 to 10,000,000, not -3 "
                                 "(see 'rota demo --help')\n")
    code, _, err = run("demo", "--contacts", "lots")
    assert code == 2 and '"lots" is not a whole number' in err and err.count("\n") == 1


def _rota_cmd() -> list[str]:
    exe = shutil.which("rota")
    return [exe] if exe else [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]


def test_real_process_exit_codes_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Email,Last Activity Date\na@x.se,2026-01-01\nb@x.se,soon\n", encoding="utf-8")
    db_path = str(tmp_path / "p.db")
    proc = subprocess.run([*_rota_cmd(), "--db", db_path, "import", "contact", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert 'line 3, column "Last Activity Date"' in proc.stderr
