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


async def test_review_says_everything_in_words_with_both_zones_and_pause_marks(seeded_db, make_app):
    """Issue 14 §5 and issue 11 §4, §8: criteria, suppression, unenrollment, pause days and
    actions in words; next runs in the operator's zone (UTC here) with the workflow's own
    wall time beside; a run on a pause day says what happens; Escape on the activation
    confirmation writes nothing."""
    from engine.workflows import save_workflow
    from tests.tui.conftest import FIXED_NOW

    save_workflow({
        "name": "Stockholm Friday", "object_type": "contact", "status": "draft",
        "schedule": {"kind": "weekly", "weekdays": ["fri"], "time": "08:00", "timezone": "Europe/Stockholm"},
        "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}]],
        "suppression": [[{"property": "email", "operator": "unknown"}]],
        "unenrollment": [[{"property": "city", "operator": "eq", "value": "Oslo"}]],
        "actions": [{"type": "create_task", "title": "Call {firstname}", "due_in_days": 2},
                    {"type": "notify", "to": ["everyone"], "message": "Called {firstname}"}],
        "settings": {"pause_dates": ["2026-12-04"], "campaign": "Q4 retention"},
    }, now=FIXED_NOW, actor="test")
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        screen = await open_review(pilot, app, "Stockholm Friday")
        overview = str(screen.query_one("#overview", Static).render())
        assert "Criteria: Lifecycle Stage is any of Customer" in overview
        assert "Suppression: Email is unknown" in overview
        assert 'Unenrollment: City is "Oslo"' in overview or "Unenrollment: City is Oslo" in overview
        assert "Pause days: Fri 04 Dec 2026" in overview and "Campaign: Q4 retention" in overview
        assert "Schedule: Every Friday at 08:00 (Europe/Stockholm)" in overview
        runs = str(screen.query_one("#next-run", Static).render())
        assert "Fri 27 Nov 2026 07:00 UTC (08:00 in Europe/Stockholm)" not in runs  # past
        assert "Fri 04 Dec 2026 07:00 UTC (08:00 in Europe/Stockholm)" in runs
        assert "pause day: enrolls; actions wait until Sat 05 Dec" in runs
        assert runs.count("pause day") == 1 and "Fri 11 Dec 2026 07:00 UTC" in runs
        actions = str(screen.query_one("#actions", Static).render())
        assert '1. Create task "Call {firstname}" due in 2 days' in actions
        assert "2. Notify everyone: Called {firstname}" in actions
        count = str(screen.query_one("#count", Static).render())
        assert "2 records (2 suppressed, 0 would enroll)" in count  # the seeded contacts have no e-mail

        await pilot.press("a")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ActivateDialog"
        assert "(08:00 in Europe/Stockholm)" in str(app.screen.query_one("#pd-body").render())
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen is screen and Workflow.get(Workflow.name == "Stockholm Friday").status == "draft"
