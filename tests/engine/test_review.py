"""Review and publish: "save as a static list" (what the screen shows is
engine.preview_change.review_summary, tested in test_preview_change.py)."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.review import save_as_static_list
from engine.workflows import save_workflow
from models.errors import RotaError
from models.objects import create_record
from models.schema import ListMember, StaticList
from models.timeutil import UTC

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday


def _setup():
    ids = {}
    for name, stage, email in [("a", "customer", "a@x"), ("b", "customer", None), ("c", "lead", "c@x"),
                               ("d", "customer", "d@x")]:
        ids[name] = create_record("contact", {"firstname": name, "lifecycle_stage": stage, "email": email}, now=NOW)
    save_workflow({
        "name": "Rev", "object_type": "contact", "status": "draft",
        "schedule": {"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "Europe/Stockholm"},
        "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]],
        "suppression": [[{"property": "email", "operator": "unknown"}]],
        "actions": [], "settings": {"campaign": "Q1"},
    }, actor="t", now=NOW)
    return ids


def test_save_as_static_list_is_all_or_nothing(any_db):
    ids = _setup()
    assert save_as_static_list("Rev", "  Customers now ", now=NOW) == 3
    lst = StaticList.get(StaticList.name == "Customers now")
    members = {m.record_id for m in ListMember.select().where(ListMember.list == lst)}
    assert members == {ids["a"], ids["b"], ids["d"]}
    with pytest.raises(RotaError, match="exists already"):
        save_as_static_list("Rev", "Customers now", now=NOW)
    assert ListMember.select().count() == 3 and StaticList.select().count() == 1
    with pytest.raises(RotaError, match="name"):
        save_as_static_list("Rev", "  ", now=NOW)
    with pytest.raises(RotaError, match="no workflow"):
        save_as_static_list("Nope", "X", now=NOW)
    assert StaticList.select().count() == 1


def test_a_failure_midway_leaves_no_list_behind(sqlite_db, monkeypatch):
    _setup()
    import engine.review as rv

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(rv.crit, "compile_criteria", broken)
    with pytest.raises(RuntimeError):
        save_as_static_list("Rev", "Half", now=NOW)
    assert StaticList.get_or_none(StaticList.name == "Half") is None
