"""Review and publish: the count now, the next run, save as static list, activate."""
from __future__ import annotations

from textual.widgets import DataTable, Static

from models.schema import StaticList, Workflow
from tests.tui.conftest import settle


async def open_review(pilot, app, name: str):
    from tui.screens.review import ReviewScreen

    table = app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(str(Workflow.get(Workflow.name == name).id)))
    await pilot.pause()
    await pilot.press("r")
    await settle(pilot, app)
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


async def test_review_counts_saves_a_list_and_activates(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        screen = await open_review(pilot, app, "Quiet subscribers")  # a draft, 1 subscriber
        assert "now: 1" in str(screen.query_one("#count", Static).render())
        next_run = str(screen.query_one("#next-run", Static).render())
        assert "Sat 28 Nov 2026 07:30" in next_run and "once activated" in next_run
        assert screen.check_action("set", ("active",)) is True
        assert screen.check_action("set", ("paused",)) is False

        await pilot.press("l")
        await pilot.pause()
        await pilot.press("ctrl+u", *"Subs", "enter")
        await settle(pilot, app)
        assert StaticList.get(StaticList.name == "Subs") is not None
        assert any('"Subs" with 1 record.' in n.message for n in app._notifications)

        await pilot.press("a")  # asks first (issue 11 §6)
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        wf = Workflow.get(Workflow.name == "Quiet subscribers")
        assert wf.status == "active" and wf.next_run_at is not None
        assert "active" in str(screen.query_one("#overview", Static).render())
        assert screen.check_action("set", ("paused",)) is True  # "a" now pauses
        await pilot.press("a")
        await settle(pilot, app)
        assert Workflow.get(Workflow.name == "Quiet subscribers").status == "paused"

        await pilot.press("escape")
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        assert table.get_row(str(wf.id))[1] == "paused"
