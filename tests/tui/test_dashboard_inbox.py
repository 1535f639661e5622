"""The operator's inbox driven by keys at 80×24: only this operator's notifications
(unless "all operators" is asked for), open tasks, mark read, mark done."""
from __future__ import annotations

from textual.widgets import Static

from models.schema import Notification, Task
from tests.tui.conftest import settle
from tests.tui.test_dashboard import build_activity, row_keys, rows


async def test_inbox_lists_this_operators_notifications_and_open_tasks(seeded_db, make_app, monkeypatch):
    build_activity()
    monkeypatch.setenv("ROTA_OPERATOR", "tester")
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "InboxScreen"
        mine = Notification.get(Notification.operator == "tester")
        assert row_keys(app, "#inbox-notes") == [str(mine.id)]
        assert rows(app, "#inbox-notes")[0][1:] == ("new", "Friday check-in", "Call Ann today")
        assert "1 unread" in str(app.screen.query_one("#inbox-notes-title", Static).render())
        open_tasks = list(Task.select().where(Task.done == False).order_by(Task.due_date, Task.id))  # noqa: E712
        assert row_keys(app, "#inbox-tasks") == [str(t.id) for t in open_tasks]

        await pilot.press("r")
        await settle(pilot, app)
        assert Notification.get_by_id(mine.id).read is True
        assert rows(app, "#inbox-notes")[0][1] == "" and app.screen.check_action("mark_read", ()) is None

        await pilot.press("o")  # every operator's
        await settle(pilot, app)
        assert len(row_keys(app, "#inbox-notes")) == Notification.select().count() == 2

        await pilot.press("tab", "d")
        await settle(pilot, app)
        assert Task.get_by_id(open_tasks[0].id).done is True
        assert str(open_tasks[0].id) not in row_keys(app, "#inbox-tasks")


async def test_inbox_is_the_os_users_without_the_ssh_address_and_o_shows_everyone(seeded_db, make_app,
                                                                                    monkeypatch):
    """Issue 11 §7: no operator set, over SSH: notifications addressed to the OS user (and
    to everyone) are "mine"; the address is shown beside the name; "o" shows everyone's."""
    import getpass

    from tests.tui.conftest import FIXED_NOW

    monkeypatch.setattr(getpass, "getuser", lambda: "root")
    monkeypatch.setenv("SSH_CLIENT", "127.0.0.1 50000 22")
    for who, text in (("root", "For root"), ("everyone", "For all"), ("alice", "For alice")):
        Notification.create(operator=who, message=text, created_at=FIXED_NOW)
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        await settle(pilot, app)
        title = str(app.screen.query_one("#inbox-notes-title", Static).render())
        assert "Notifications for root and everyone · SSH from 127.0.0.1 · 2 unread" in title
        assert "times in UTC" in title
        assert sorted(r[3] for r in rows(app, "#inbox-notes")) == ["For all", "For root"]
        assert app.screen.check_action("show", (True,)) is True   # footer: "o Everyone"
        assert app.screen.check_action("show", (False,)) is False
        await pilot.press("o")
        await settle(pilot, app)
        assert sorted(r[3] for r in rows(app, "#inbox-notes")) == ["alice: For alice", "everyone: For all",
                                                                  "root: For root"]
        assert "every operator" in str(app.screen.query_one("#inbox-notes-title", Static).render())
        assert app.screen.check_action("show", (False,)) is True  # footer: "o Mine"
        await pilot.press("o")
        await settle(pilot, app)
        assert len(rows(app, "#inbox-notes")) == 2
