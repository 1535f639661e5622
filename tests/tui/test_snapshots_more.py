"""What the dashboard, history, audit log, records, record form and inbox look like
at 80×24, with a fixed clock and the small deterministic activity of
``test_dashboard.build_activity`` (update with ``pytest --snapshot-update`` and review
the SVGs under ``__snapshots__`` before committing)."""
from __future__ import annotations

import pytest

from tests.tui.conftest import FIXED_NOW, WORKFLOWS, steady
from tests.tui.test_dashboard import build_activity

SIZE = (80, 24)


@pytest.fixture
def activity_db(tmp_path, monkeypatch):
    """The seeded workflows and contacts plus the activity, in a relative database path
    (the header names the database, so it must be the same on every machine)."""
    from engine.workflows import save_workflow
    from models import bootstrap
    from models import db as dbmod
    from models.objects import create_record

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROTA_OPERATOR", "tester")
    bootstrap.open_database("rota.db")
    for stage in ("customer", "customer", "subscriber", "lead"):
        create_record("contact", {"firstname": "Ann", "lastname": stage.title(), "lifecycle_stage": stage},
                      now=FIXED_NOW)
    for body in WORKFLOWS:
        save_workflow(body, now=FIXED_NOW, actor="test")
    build_activity()
    yield "rota.db"
    dbmod.close_database()


# Home rows are sorted by name: 0 Friday check-in, 1 Lead watch, 2 Monthly deal sweep, …
@pytest.mark.parametrize("keys,select", [
    (("g",), None),
    (("h",), 0),
    (("l",), 0),
    (("R",), None),
    (("R", "a"), None),
    (("i",), None),
], ids=["dashboard", "history", "audit", "records", "record_form", "inbox"])
def test_screens(snap_compare, activity_db, make_app, keys, select):
    assert snap_compare(make_app(activity_db), terminal_size=SIZE, run_before=steady(*keys, select=select))
