"""What each shell screen looks like at 80×24, with a fixed clock and a small,
deterministic demo data set (update with ``pytest --snapshot-update`` and review the
SVGs under ``__snapshots__`` before committing)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tui.conftest import FIXED_NOW, steady

SIZE = (80, 24)


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    """Demo records and sample workflows at FIXED_NOW, one with a finished run.

    The database path is relative (the test runs in tmp_path) so the header, which
    names the database, is the same on every machine.
    """
    from engine.demo import load_demo
    from models import bootstrap
    from models import db as dbmod
    from models.schema import Run, Workflow

    monkeypatch.chdir(tmp_path)
    bootstrap.open_database("rota.db")
    load_demo(contacts=200, companies=20, deals=20, tickets=20, seed=1, now=FIXED_NOW)
    wf = Workflow.select().where(Workflow.status == "active").order_by(Workflow.name).first()
    ran = FIXED_NOW - timedelta(hours=3)
    Run.create(workflow=wf, scheduled_for=ran, status="succeeded", started_at=ran, finished_at=ran,
               matched=57, enrolled=52, suppressed=5)
    yield "rota.db"
    dbmod.close_database()


@pytest.fixture
def empty_rel_db(tmp_path, monkeypatch):
    from models import bootstrap
    from models import db as dbmod

    monkeypatch.chdir(tmp_path)
    bootstrap.open_database("rota.db")
    yield "rota.db"
    dbmod.close_database()


def test_home(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=steady())


def test_create_dialog(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=steady("n"))


def test_confirm_delete(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=steady("d", select=1))


def test_review(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=steady("r", select=0))


def test_help(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=steady("question_mark"))


def test_settings(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=steady("s"))


def test_demo_offer(snap_compare, empty_rel_db, make_app):
    assert snap_compare(make_app(empty_rel_db), terminal_size=SIZE, run_before=steady())
