"""The criteria editor's filter dialog offers an associated record's properties
("Company · Number of Employees") and returns the association filter (issue 13 §2)."""
from __future__ import annotations

from textual.widgets import Select

from tests.tui.test_editor import EditorHost, choose, type_text


async def test_filter_dialog_offers_company_properties_for_a_contact(sqlite_db):
    from tui.screens.filter_dialog import FilterDialog

    app = EditorHost(lambda: FilterDialog("contact"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        labels = [label for label, _ in app.screen.query_one("#fd-prop", Select)._options]
        assert "Company · Number of Employees" in [str(x) for x in labels]
        assert "Deals · Deal Stage" in [str(x) for x in labels]
        app.screen.query_one("#fd-prop", Select).value = "company.num_employees"
        await pilot.pause()
        await pilot.pause()
        await pilot.press("tab")
        await choose(pilot, "is greater")
        await pilot.press("tab")
        await type_text(pilot, "500")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#fd-error").render()) if app.result == "not dismissed" else ""
    assert error == ""
    assert app.result == {"association": "company", "property": "num_employees", "operator": "gt", "value": 500}
