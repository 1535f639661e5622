"""``rota workflow import|export|count``: SPEC §9 files round-trip exactly; errors name the field."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.workflows import BODY_KEYS, validate_workflow
from models.schema import Workflow, WorkflowVersion
from tests.e2e.conftest import DATA

SPEC_EXAMPLE = DATA / "workflow_spec_example.json"


def _write(tmp_path: Path, body, name: str = "wf.json") -> Path:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    return path


def test_spec_example_round_trips_exactly(run, tmp_path):
    code, out, err = run("workflow", "import", str(SPEC_EXAMPLE))
    assert (code, out.splitlines()[0], err) == (0, 'saved workflow "Friday customer check-in" (active)', "")
    assert 'Activated "Friday customer check-in"' in out  # an active import says what it means (issue 11 §6)
    code, first, _ = run("workflow", "export", "Friday customer check-in")
    assert code == 0
    exported = json.loads(first)
    original = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    assert exported == validate_workflow(original)  # the first export is the normalized input…
    assert exported == original  # …and the SPEC's own example is already in normal form
    assert list(exported) == list(BODY_KEYS)  # key order as in SPEC §9
    assert list(exported["schedule"]) == ["kind", "weekdays", "time", "timezone"]
    assert first.startswith('{\n  "name": "Friday customer check-in",\n')  # indent 2
    again = tmp_path / "again.json"
    code, out, _ = run("workflow", "export", "Friday customer check-in", "--output", str(again))
    assert code == 0 and out == f'exported workflow "Friday customer check-in" to {again}\n'
    assert again.read_text(encoding="utf-8") == first
    code, out, _ = run("workflow", "import", str(again))
    assert code == 0 and out == 'saved workflow "Friday customer check-in" (active)\n'
    code, second, _ = run("workflow", "export", "Friday customer check-in")
    assert second == first
    wf = Workflow.get(Workflow.name == "Friday customer check-in")
    assert wf.version == 1  # importing its own export is not a change
    assert WorkflowVersion.select().where(WorkflowVersion.workflow == wf).count() == 1


def test_import_updates_by_name(run, tmp_path):
    run("workflow", "import", str(SPEC_EXAMPLE))
    body = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    body.update(status="paused", schedule={"kind": "daily", "time": "07:00", "timezone": "UTC"})
    code, out, _ = run("workflow", "import", str(_write(tmp_path, body)))
    assert code == 0 and out.splitlines()[0] == 'saved workflow "Friday customer check-in" (paused)'
    assert "Status: active → paused" in out  # a live workflow's import shows the change (issue 11 §6)
    assert Workflow.select().count() == 1
    wf = Workflow.get()
    assert wf.version == 2 and wf.schedule["kind"] == "daily" and wf.next_run_at is None


def test_webhook_secret_masked_on_export_and_kept_on_reimport(run, tmp_path):
    body = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    body["actions"].append({"type": "webhook", "url": "http://127.0.0.1:9/hook",
                            "headers": {"Authorization": "Bearer s3cret", "User-Agent": "rota"},
                            "timeout_s": 5, "retries": 2})
    run("workflow", "import", str(_write(tmp_path, body)))
    code, text, _ = run("workflow", "export", body["name"])
    assert "s3cret" not in text
    assert json.loads(text)["actions"][1]["headers"] == {"Authorization": "***", "User-Agent": "rota"}
    code, out, err = run("workflow", "import", str(_write(tmp_path, text, "exported.json")))
    assert code == 0, err
    stored = Workflow.get().actions[1]["headers"]
    assert stored == {"Authorization": "Bearer s3cret", "User-Agent": "rota"}
    assert run("workflow", "export", body["name"])[1] == text


@pytest.mark.parametrize("change, field", [
    (lambda b: b["schedule"].update(weekdays=["friday"]), "schedule:"),
    (lambda b: b["schedule"].update(timezone="Mars/Olympus"), "schedule: unknown time zone"),
    (lambda b: b["criteria"][0][0].update(property="shoe_size"), "criteria"),
    (lambda b: b["actions"][0].update(due_in_days="two"), "actions step 1 (create_task): due_in_days"),
    (lambda b: b.update(status="running"), "status:"),
    (lambda b: b.update(colour="blue"), 'unknown field "colour"'),
    (lambda b: b["settings"].update(pause_dates=["Christmas"]), "settings.pause_dates[1]"),
])
def test_invalid_file_names_the_field_and_changes_nothing(run, tmp_path, change, field):
    run("workflow", "import", str(SPEC_EXAMPLE))
    body = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    change(body)
    path = _write(tmp_path, body)
    code, out, err = run("workflow", "import", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"rota: {path}: ") and err.count("\n") == 1
    assert field in err
    wf = Workflow.get()
    assert wf.version == 1 and wf.status == "active" and wf.schedule["weekdays"] == ["fri"]


def test_file_errors(run, tmp_path):
    code, _, err = run("workflow", "import", str(tmp_path / "nope.json"))
    assert code == 2 and err.count("\n") == 1
    assert err == f"rota: cannot read {tmp_path / 'nope.json'}: No such file or directory\n"
    path = _write(tmp_path, '{"name": "x",\n "status": }')
    code, _, err = run("workflow", "import", str(path))
    assert code == 2 and "not valid JSON (line 2" in err and err.count("\n") == 1
    code, _, err = run("workflow", "export", "No such workflow")  # nothing imported yet: no database file
    assert code == 2 and err.startswith("rota: no database at ")
    run("workflow", "import", str(SPEC_EXAMPLE))
    code, _, err = run("workflow", "export", "No such workflow")
    assert code == 2 and 'no workflow named "No such workflow"' in err
    code, _, err = run("workflow", "export", "Friday customer check-in", "--output", str(tmp_path / "no" / "x.json"))
    assert code == 2 and "cannot write" in err
    assert Workflow.select().count() == 1


def test_count_prints_just_the_number(run, tmp_path):
    run("workflow", "import", str(SPEC_EXAMPLE))
    code, out, err = run("workflow", "count", "Friday customer check-in")
    assert (code, out, err) == (0, "0\n", "")
    run("import", "contact", str(DATA / "crm_contacts_export.csv"))  # one customer, created in 2024
    assert run("workflow", "count", "Friday customer check-in")[1] == "1\n"
    csv = tmp_path / "more.csv"
    csv.write_text("Email,Lifecycle Stage,Create Date\n"
                   "old1@x.se,Customer,2020-01-01\nold2@x.se,customer,2021-06-01\n"
                   "new@x.se,Customer,2099-01-01\nlead@x.se,Lead,2020-01-01\n", encoding="utf-8")
    run("import", "contact", str(csv))
    assert run("workflow", "count", "Friday customer check-in")[1] == "3\n"
    code, out, err = run("workflow", "count", "Nope")
    assert code == 2 and out == "" and 'no workflow named "Nope"' in err


def test_real_process_invalid_workflow_file(tmp_path):
    body = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    body["schedule"]["time"] = "25:00"
    path = _write(tmp_path, body)
    exe = shutil.which("rota")
    cmd = [exe] if exe else [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]
    proc = subprocess.run([*cmd, "--db", str(tmp_path / "p.db"), "workflow", "import", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "schedule:" in proc.stderr and "25:00" in proc.stderr
