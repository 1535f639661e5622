"""The Lists screen driven by keys at 80×24: reached by name in the palette; each list
with its member count; members paged; CSV export of the members' records; delete."""
from __future__ import annotations

import csv

from textual.widgets import Input

from models.objects import record_model
from models.schema import ListMember, StaticList
from tests.tui.conftest import FIXED_NOW, settle
from tests.tui.test_dashboard import row_keys


async def test_lists_members_paged_exported_and_deleted(seeded_db, make_app, monkeypatch, tmp_path):
    monkeypatch.setattr("tui.screens.lists.PAGE", 2)
    model = record_model("contact")
    ids = [r.id for r in model.select(model.id).order_by(model.id)]
    vip = StaticList.create(name="VIPs", object_type=1, created_at=FIXED_NOW)
    for rid in ids[:3]:
        ListMember.create(list=vip.id, record_id=rid, added_at=FIXED_NOW)
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p", *"Static lists")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ListsScreen"
        assert row_keys(app, "#lists-table") == ["VIPs"]
        assert row_keys(app, "#members-table") == [str(i) for i in ids[:2]]
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert row_keys(app, "#members-table") == [str(ids[2])]
        await pilot.press("left_square_bracket")
        await settle(pilot, app)
        assert row_keys(app, "#members-table") == [str(i) for i in ids[:2]]
        target = tmp_path / "vips.csv"
        await pilot.press("x")
        await settle(pilot, app)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot, app)
        rows = list(csv.DictReader(target.open(encoding="utf-8")))
        assert [r["id"] for r in rows] == [str(i) for i in ids[:3]] and rows[0]["First Name"] == "Ann"
        await pilot.press("d")
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        assert StaticList.select().count() == 0 and ListMember.select().count() == 0
        assert row_keys(app, "#lists-table") == [] and model.select().count() == len(ids)
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "WorkflowsScreen"
