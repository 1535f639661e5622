"""Issue 10 item 3: per-run step counters kept by the executor, and on_step_failure."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from engine.workflows import save_workflow
from models.errors import RotaError
from models.objects import create_record
from models.schema import Enrollment, Run, StaticList, Task
from tests.engine.servers import HTTPServer
from tests.engine.test_actions import T0, engine_at, events, make_workflow
from tui.cli import main as cli_main

FIELDS = ["scheduled_for", "started_at", "finished_at", "status", "matched", "enrolled", "suppressed",
          "skipped_in_progress", "steps_succeeded", "steps_failed", "in_progress", "completed"]


def counters(run: Run) -> tuple[int, int, int, int]:
    run = Run.get_by_id(run.id)
    return run.steps_succeeded, run.steps_failed, run.in_progress, run.completed


def _webhook_then_task(db_url, policy):
    for name in ("Ann", "Bob", "Cy"):
        create_record("contact", {"firstname": name}, now=T0)
    with HTTPServer(default=404) as http:  # a client error: failed for good at once
        make_workflow([{"type": "webhook", "url": http.url, "timeout_s": 2, "retries": 0},
                       {"type": "create_task", "title": "Call {firstname}", "due_in_days": 0}],
                      settings={} if policy is None else {"on_step_failure": policy})
        engine, clock = engine_at(db_url)
        clock.set(T0 + timedelta(minutes=1))
        engine.run_pending()
        assert Run.select().count() == 1
        run = Run.get()
        assert counters(run)[3] < 3 or len(http.requests) == 3  # the posts really went out
        for _ in range(5):  # network results and the steps after them, whatever the timing
            clock.advance(1)
            engine.run_pending()
        assert len(http.requests) == 3
    return run


@pytest.mark.parametrize("policy", [None, "stop"])
def test_a_failed_webhook_stops_the_enrollment_by_default_and_is_counted(any_db, db_url, policy):
    run = _webhook_then_task(db_url, policy)
    assert counters(run) == (0, 3, 0, 3)
    assert Task.select().count() == 0
    assert {e.state for e in Enrollment.select()} == {"failed"}
    assert len(events("step_failed")) == 3


def test_continue_runs_the_next_step_after_a_failed_webhook(any_db, db_url):
    run = _webhook_then_task(db_url, "continue")
    assert counters(run) == (3, 3, 0, 3)
    assert sorted(t.title for t in Task.select()) == ["Call Ann", "Call Bob", "Call Cy"]
    assert {e.state for e in Enrollment.select()} == {"done"}


@pytest.mark.parametrize("policy, expected, tasks", [("stop", (0, 2, 0, 2), 0), ("continue", (2, 2, 0, 2), 2)])
def test_set_based_step_failure_counts_and_policy(any_db, db_url, policy, expected, tasks):
    for name in ("Ann", "Bob"):
        create_record("contact", {"firstname": name}, now=T0)
    StaticList.create(name="Companies", object_type=2, created_at=T0)  # a list of another type: the step fails
    make_workflow([{"type": "add_to_list", "list": "Companies"},
                   {"type": "create_task", "title": "Call {firstname}", "due_in_days": 0}],
                  settings={"on_step_failure": policy})
    engine, clock = engine_at(db_url)
    clock.set(T0 + timedelta(minutes=1))
    engine.run_pending()
    assert counters(Run.get()) == expected
    assert Task.select().count() == tasks


def test_counters_while_enrollments_wait_and_after(sqlite_db, sqlite_url):
    for name in ("Ann", "Bob"):
        create_record("contact", {"firstname": name}, now=T0)
    make_workflow([{"type": "delay", "minutes": 5},
                   {"type": "create_task", "title": "Call {firstname}", "due_in_days": 0}])
    engine, clock = engine_at(sqlite_url)
    clock.set(T0 + timedelta(minutes=1))
    engine.run_pending()
    assert counters(Run.get()) == (0, 0, 2, 0)  # a delay is a wait, not a step outcome; the task waits
    clock.advance(6 * 60)
    engine.run_pending()
    assert counters(Run.get()) == (2, 0, 0, 2)


def test_on_step_failure_is_validated():
    with pytest.raises(RotaError, match='on_step_failure: use "stop"'):
        save_workflow({"name": "x", "object_type": "contact", "schedule": {"kind": "daily", "time": "08:00"},
                       "criteria": [], "actions": [], "settings": {"on_step_failure": "retry"}}, actor="t", now=T0)


def test_runs_json_and_table_show_the_counters(sqlite_db, sqlite_url, capsys):
    _webhook_then_task(sqlite_url, None)
    assert cli_main(["runs", "wf", "--json", "--db", sqlite_url]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert [k for k in row if k in FIELDS] == FIELDS
    assert row["status"] == "succeeded"
    assert {k: row[k] for k in FIELDS[6:]} == {"suppressed": 0, "skipped_in_progress": 0, "steps_succeeded": 0,
                                                "steps_failed": 3, "in_progress": 0, "completed": 3}
    assert cli_main(["runs", "wf", "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "succeeded, 3 steps failed" in out


def test_dashboard_read_carries_the_counters_and_the_status_in_words(sqlite_db, sqlite_url):
    from models.store.reads import dashboard

    _webhook_then_task(sqlite_url, None)
    [row] = dashboard(None, T0.date(), days=3, run_cap=5, enroll_cap=5).runs
    assert (row.steps_succeeded, row.steps_failed, row.in_progress, row.completed) == (0, 3, 0, 3)
    assert row.status_text == "succeeded, 3 steps failed"
