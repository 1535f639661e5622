"""The screens' read models (models/store/reads.py) on SQLite and PostgreSQL: plain
data, bounded, and the numbers the screens show."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from engine.runner import enroll_manual
from engine.workflows import save_workflow
from models.objects import create_record
from models.store import reads
from models.timeutil import UTC

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _workflow(name: str, status: str = "draft") -> dict:
    return {"name": name, "object_type": "contact", "status": status,
            "schedule": {"kind": "daily", "time": "08:00", "timezone": "Europe/Stockholm"},
            "criteria": [], "actions": []}


def test_home_rows_dashboard_and_zone(any_db):
    assert reads.home_rows(10) == [] and reads.any_records() is False
    rid = create_record("contact", {"firstname": "Ann"}, now=NOW)
    for name in ("b workflow", "a workflow", "c workflow"):
        save_workflow(_workflow(name, "active" if name == "a workflow" else "draft"), now=NOW, actor="test")
    enroll_manual("a workflow", rid, now=NOW)

    rows = reads.home_rows(2)
    assert [r.name for r in rows] == ["a workflow", "b workflow"]  # by name, capped
    first = rows[0]
    assert dataclasses.is_dataclass(first) and first.object_type == "contact"
    assert first.schedule["timezone"] == "Europe/Stockholm" and first.next_run_at is not None
    assert first.last_run is not None and first.last_run.kind == "manual" and first.last_run.enrolled == 1
    assert rows[1].last_run is None and reads.any_records() is True

    data = reads.dashboard(None, NOW.date(), days=7, run_cap=5, enroll_cap=5)
    assert len(data.days) == 7 and data.days[-1] == (NOW.date(), 1)
    assert data.days[0][0] == NOW.date() - timedelta(days=6)
    assert [(r.workflow, r.kind, r.enrolled) for r in data.runs] == [("a workflow", "manual", 1)]
    assert [(e.workflow, e.record_id, e.manual) for e in data.enrollments] == [("a workflow", rid, True)]
    assert reads.dashboard(rows[1].id, NOW.date(), days=7, run_cap=5, enroll_cap=5).runs == []

    assert reads.workflow_timezone("a workflow", "UTC") == "Europe/Stockholm"
    assert reads.workflow_timezone("gone", "UTC") == "UTC"
    assert [t.name for t in reads.object_types()][:2] == ["contact", "company"]
