"""The records screen's issue-13 behaviour, driven by keys: columns chosen per type and
remembered, sharing the terminal's width; typing searches every text property with a
total count; delete asks first, naming the enrollments and list memberships that go
with the record; the timeline lists the record's story newest first."""
from __future__ import annotations

from textual.widgets import DataTable, Input, SelectionList, Static

from engine.runner import enroll_manual
from models.objects import create_record, get_record, record_model
from models.schema import Enrollment, ListMember, StaticList
from models.store.records import view_columns
from tests.tui.conftest import FIXED_NOW, settle
from tests.tui.test_dashboard import row_keys


def _labels(app) -> list[str]:
    table = app.screen.query_one("#rec-table", DataTable)
    return [c.label.plain for c in table.columns.values()]


def _status(app) -> str:
    return str(app.screen.query_one("#rec-status", Static).render())


async def test_columns_search_count_delete_and_timeline(seeded_db, make_app):
    create_record("contact", {"firstname": "Zed", "email": "zed@acme.io", "city": "Lund"})
    model = record_model("contact")
    zed = model.select(model.id).order_by(model.id.desc()).first().id
    app = make_app(seeded_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("R")
        await settle(pilot, app)
        wide = _labels(app)
        assert "City" in wide and "Email" in wide  # 120 columns: more than the old fixed five
        assert "5 in all" in _status(app)
        # choose columns: Email and City only, remembered in the database
        await pilot.press("c")
        await settle(pilot, app)
        picks = app.screen.query_one("#cols", SelectionList)
        picks.deselect_all()
        picks.select("email")
        picks.select("city")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert _labels(app) == ["Id", "Email", "City"]
        assert view_columns("contact") == ["email", "city"]
        # typing searches every text property (no property chosen), with a count
        app.screen.query_one("#rec-search", Input).focus()
        await pilot.press(*"ACME")
        await settle(pilot, app)
        assert row_keys(app, "#rec-table") == [str(zed)] and "1 match" in _status(app)
        await pilot.press("ctrl+u", "enter")
        await settle(pilot, app)
        # delete asks, naming what goes with the record
        lst = StaticList.create(name="VIPs", object_type=1, created_at=FIXED_NOW)
        ListMember.create(list=lst.id, record_id=1, added_at=FIXED_NOW)
        enroll_manual("Friday check-in", 1, now=FIXED_NOW)
        table = app.screen.query_one("#rec-table", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("1"))
        await pilot.press("t")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "TimelineScreen"
        kinds = [app.screen.query_one("#timeline-table", DataTable).get_row_at(i)[1]
                 for i in range(app.screen.query_one("#timeline-table", DataTable).row_count)]
        assert "manual enrolled" in kinds and "list member" in kinds
        await pilot.press("escape")
        await settle(pilot, app)
        await pilot.press("d")
        await settle(pilot, app)
        question = str(app.screen.query_one("#question").render())
        assert "1 enrollment and 1 list membership" in question
        await pilot.press("y")
        await settle(pilot, app)
        assert get_record("contact", 1) is None
        assert ListMember.select().count() == 0 and Enrollment.select().where(Enrollment.record_id == 1).count() == 0
        assert "1" not in row_keys(app, "#rec-table")


async def test_columns_fit_a_narrow_terminal(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot, app)
        await pilot.press("R")
        await settle(pilot, app)
        table = app.screen.query_one("#rec-table", DataTable)
        total = sum(c.width for c in table.columns.values()) + 2 * len(table.columns)
        assert total <= 60 and len(table.columns) >= 3
        assert "more columns (c)" in _status(app)
