"""Home, editor, dashboard and records at 80×24, 60×20 and 160×48 (issue 14 §1): names
first, columns dropped rather than cut, the extra width of a large terminal given to
names. A fixed clock, deterministic demo data, cursors not blinking. Update with
``pytest tests/tui/test_snapshots_sizes.py --snapshot-update`` and look at the SVGs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tui.conftest import FIXED_NOW, steady
from tests.tui.test_snapshots_shell import demo_db  # noqa: F401 - the fixture

SIZES = {"80x24": (80, 24), "60x20": (60, 20), "160x48": (160, 48)}


@pytest.fixture
def failing_db(demo_db):  # noqa: F811 - the fixture above
    """The demo data, with the newest run of one active workflow failed."""
    from models.schema import Run, Workflow

    wf = Workflow.select().where(Workflow.status == "active").order_by(Workflow.name.desc()).first()
    ran = FIXED_NOW - timedelta(hours=1)
    Run.create(workflow=wf, scheduled_for=ran, status="failed", started_at=ran, finished_at=ran,
               detail="the criteria could not be evaluated: parser stack overflow")
    return demo_db


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen,keys", [
    ("home", ()),
    ("editor", ("enter",)),
    ("dashboard", ("g",)),
    ("records", ("R",)),
])
def test_screens_at_sizes(snap_compare, failing_db, make_app, screen, keys, size):
    assert snap_compare(make_app(failing_db), terminal_size=SIZES[size], run_before=steady(*keys, select=0))
