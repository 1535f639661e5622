"""The records table at 80×24, 60×20 and wide (issue 14 §1): each column as wide as its
values while they fit; the first that does not is narrowed, its values ending in "…";
the highlighted record's narrowed and left-out values are shown whole under the table."""
from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Static

from models.objects import create_record
from tests.tui.conftest import settle

EMAIL = "alessandro.bruno@swiftpeak.it"
PHONE = "+39 3638130"


def _table(app) -> DataTable:
    return app.screen.query_one("#rec-table", DataTable)


def _detail(app) -> str:
    return str(app.screen.query_one("#rec-detail", Static).render())


async def _records(app, pilot, size) -> DataTable:
    await settle(pilot, app)
    await pilot.press("R")
    await settle(pilot, app)
    return _table(app)


@pytest.fixture
def contacts(empty_db):
    create_record("contact", {"firstname": "Alessandra Maria", "lastname": "Castellani", "email": EMAIL,
                              "phone": PHONE,
                              "city": "Turin"})
    create_record("contact", {"firstname": "Ann", "lastname": "Lee", "email": "ann@lee.io", "city": "Lund"})
    return empty_db


async def test_at_80_columns_email_and_phone_are_whole(contacts, make_app):
    app = make_app(contacts)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _records(app, pilot, (80, 24))
        keys = [c.key.value for c in table.columns.values()]
        assert keys[:5] == ["id", "firstname", "lastname", "email", "phone"]
        row = table.get_row("1")
        assert EMAIL in row and PHONE in row  # whole, not "alessandro.b"
        assert sum(c.width + 2 for c in table.columns.values()) <= 79
        # the columns left out are in the detail line, with their labels
        assert "City Turin" in _detail(app) and EMAIL not in _detail(app)


async def test_at_60_columns_a_narrowed_email_is_marked_and_shown_whole_below(contacts, make_app):
    app = make_app(contacts)
    async with app.run_test(size=(60, 20)) as pilot:
        table = await _records(app, pilot, (60, 20))
        widths = {c.key.value: c.width for c in table.columns.values()}
        assert sum(w + 2 for w in widths.values()) <= 59
        row = dict(zip(widths, table.get_row("1")))
        assert row["email"].endswith("…") and cell_len(row["email"]) <= widths["email"]
        assert EMAIL.startswith(row["email"][:-1])
        assert f"Email {EMAIL}" in _detail(app)
        await pilot.press("down")  # Ann's short e-mail fits: not repeated below
        await settle(pilot, app)
        assert table.get_row("2")[3] == "ann@lee.io" and "ann@lee.io" not in _detail(app)
        assert "City Lund" in _detail(app)


async def test_a_wide_terminal_shows_every_column_whole(contacts, make_app):
    app = make_app(contacts)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await _records(app, pilot, (200, 50))
        row = table.get_row("1")
        assert EMAIL in row and PHONE in row and "Turin" in row
        assert not any(cell.endswith("…") for cell in row)


async def test_the_timeline_at_60_columns_keeps_what_and_shows_the_entry_whole(seeded_db, make_app):
    from engine.runner import enroll_manual
    from tests.tui.conftest import FIXED_NOW

    enroll_manual("Friday check-in", 1, now=FIXED_NOW)
    app = make_app(seeded_db)
    async with app.run_test(size=(60, 20)) as pilot:
        await _records(app, pilot, (60, 20))
        await pilot.press("t")
        await settle(pilot, app)
        await pilot.pause(0.2)
        table = app.screen.query_one("#timeline-table", DataTable)
        widths = {c.key.value: c.width for c in table.columns.values()}
        assert "kind" in widths and "text" in widths  # what happened stays; the workflow goes first
        assert sum(w + 2 for w in widths.values()) <= table.size.width
        row = dict(zip(widths, table.get_row_at(0)))
        assert all(cell_len(v) <= widths[k] for k, v in row.items())
        assert row["kind"] == "manual enrolled"
        assert "Friday check-in" in str(app.screen.query_one("#timeline-detail", Static).render())
