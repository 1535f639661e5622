"""The editor inside the real app: home → new workflow → editor → review → activate."""
from __future__ import annotations

from engine.workflows import get_workflow
from tests.tui.test_editor import choose, settle, type_text


async def test_new_workflow_from_home_through_review_to_active(seeded_db, make_app):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")                         # the shell's create dialog
        await pilot.pause()
        await type_text(pilot, "From home")
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        assert app.screen.query_one("#we-name").value == "From home"
        assert app.focused.id == "sf-freq"             # named already: the schedule has the focus
        await choose(pilot, "Week")
        await pilot.press("tab", "right", "right", "space")   # Monday and Wednesday
        await pilot.press("ctrl+r")                    # save, then review and publish
        await settle(pilot)
        assert type(app.screen).__name__ == "ReviewScreen"
        assert get_workflow("From home").status == "draft"
        await pilot.press("a")                         # activate in the review screen …
        await settle(pilot)
        await pilot.press("enter")                     # … once the confirmation has shown the counts
        await settle(pilot)
        await pilot.press("escape")                    # back in the editor, which shows it
        await settle(pilot)
        assert type(app.screen).__name__ == "WorkflowEditorScreen"
        assert "active" in str(app.screen.query_one("#we-status").render())
        await pilot.press("escape")                    # nothing unsaved: straight home
        await settle(pilot)
        assert type(app.screen).__name__ != "WorkflowEditorScreen"
    wf = get_workflow("From home")
    assert wf.status == "active"
    assert wf.schedule["kind"] == "weekly" and wf.schedule["weekdays"] == ["mon", "wed"]
