"""``rota engine`` prints one line per run, misfire and error to stderr (text or JSON)."""
from __future__ import annotations

import io
import json
from datetime import timedelta

from engine.events import EngineError, StepsRan
from models import db as dbmod
from models.bootstrap import open_database
from models.schema import Workflow
from models.timeutil import utcnow
from tests.e2e.conftest import DATA
from tui.cli import main
from tui.commandline.engine_cmd import EventPrinter


def _due(sqlite_url: str, *, ago: timedelta) -> None:
    """The SPEC example workflow, due ``ago`` in the past."""
    assert main(["--db", sqlite_url, "workflow", "import", str(DATA / "workflow_spec_example.json")]) == 0
    assert main(["--db", sqlite_url, "import", "contact", str(DATA / "crm_contacts_export.csv")]) == 0
    open_database(sqlite_url)
    Workflow.update(next_run_at=utcnow() - ago).execute()
    dbmod.close_database()


def test_engine_once_prints_a_line_per_run(sqlite_url, capsys):
    _due(sqlite_url, ago=timedelta(seconds=5))
    capsys.readouterr()
    assert main(["--db", sqlite_url, "engine", "--once"]) == 0
    out, err = capsys.readouterr()
    dbmod.close_database()
    assert out.startswith("processed 1 due occurrence")
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert 'run      "Friday customer check-in"' in lines[0] and "succeeded" in lines[0]
    assert "matched 1, enrolled 1" in lines[0] and " UTC" in lines[0]


def test_engine_json_log_has_one_object_per_line_for_runs_and_misfires(sqlite_url, capsys):
    _due(sqlite_url, ago=timedelta(days=15))  # two weekly occurrences missed, beyond any grace window
    capsys.readouterr()
    assert main(["--db", sqlite_url, "engine", "--once", "--log-format", "json"]) == 0
    err = capsys.readouterr().err
    dbmod.close_database()
    events = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert events, err
    kinds = {e["event"] for e in events}
    assert "misfire" in kinds, events
    for e in events:
        assert e["workflow_name"] == "Friday customer check-in" and e["at"].endswith("Z")
    misfire = next(e for e in events if e["event"] == "misfire")
    assert misfire["status"] in ("missed", "coalesced") and all(t.endswith("Z") for t in misfire["scheduled_for"])


def test_log_format_is_checked(sqlite_url, capsys):
    code = main(["--db", sqlite_url, "engine", "--log-format", "xml"])
    assert code == 2 and "invalid choice: 'xml'" in capsys.readouterr().err


def test_error_lines_in_both_formats():
    at = utcnow()
    for fmt in ("text", "json"):
        stream = io.StringIO()
        printer = EventPrinter(fmt, stream)
        printer(StepsRan(at=at, count=3))  # not a run, misfire or error: not printed
        printer(EngineError(at=at, message="database is locked \x1b[31m", retry_in_s=30.0))
        lines = stream.getvalue().splitlines()
        assert len(lines) == 1 and "\x1b" not in lines[0]
        if fmt == "json":
            assert json.loads(lines[0])["event"] == "error" and json.loads(lines[0])["retry_in_s"] == 30.0
        else:
            assert lines[0].endswith("error    database is locked \\x1b[31m (retrying in 30 s)")
