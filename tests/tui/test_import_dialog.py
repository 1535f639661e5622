"""Importing a CSV file from the records screen (issue 14 §7): progress in the app, all
or nothing, and a cancelled import leaves the database as it was."""
from __future__ import annotations

from textual.widgets import ProgressBar, Static

from models.objects import get_type, record_model
from tests.tui.conftest import settle


def write_csv(path, rows: int) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("First Name,Last Name,Email\n")
        for i in range(rows):
            handle.write(f"Ann{i},Lee,ann{i}@example.com\n")
    return str(path)


def contacts() -> int:
    return record_model(get_type("contact")).select().count()


async def open_dialog(pilot, app) -> None:
    await settle(pilot, app)
    await pilot.press("R")
    await settle(pilot, app)
    await pilot.press("i")
    await settle(pilot, app)
    assert type(app.screen).__name__ == "ImportDialog"


async def test_import_shows_progress_and_imports_every_row(seeded_db, make_app, tmp_path, monkeypatch):
    from tui.screens.import_dialog import ImportDialog

    path = write_csv(tmp_path / "people.csv", 25_000)
    before = contacts()
    app = make_app(seeded_db)
    seen: list[tuple[str, float | None]] = []
    original = ImportDialog.on_import_progressed

    def recording(self, message):  # what the dialog shows after each progress report
        original(self, message)
        seen.append((str(self.query_one("#import-status", Static).render()),
                     self.query_one("#import-bar", ProgressBar).percentage))

    monkeypatch.setattr(ImportDialog, "on_import_progressed", recording)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, app)
        await pilot.press(*path, "enter")
        await settle(pilot, app, timeout=60)
        assert type(app.screen).__name__ == "RecordsScreen"
    assert contacts() == before + 25_000
    assert seen and all("rows/s" in line for line, _ in seen), seen
    assert seen[-1][1] == 1.0 and "25,000 rows" in seen[-1][0]  # the bar full at the end


async def test_cancelled_import_leaves_the_database_as_it_was(seeded_db, make_app, tmp_path):
    path = write_csv(tmp_path / "people.csv", 25_000)
    before = contacts()
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, app)
        dialog = app.screen
        dialog.cancel_event.set()  # as Escape does while it runs: stop at the first batch
        await pilot.press(*path, "enter")
        await settle(pilot, app, timeout=60)
        assert type(app.screen).__name__ == "RecordsScreen"
    assert contacts() == before


async def test_escape_while_importing_asks_the_importer_to_stop(seeded_db, make_app, tmp_path):
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, app)
        dialog = app.screen
        dialog.running = True  # as if the import had started
        await pilot.press("escape")
        assert dialog.cancel_event.is_set() and app.screen is dialog  # waits for the rollback
        dialog.running = False
        await pilot.press("escape")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RecordsScreen"


async def test_a_bad_file_is_named_and_nothing_is_imported(seeded_db, make_app, tmp_path):
    before = contacts()
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, app)
        await pilot.press(*str(tmp_path / "missing.csv"), "enter")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ImportDialog"
        assert "Not imported" in str(app.screen.query_one("#import-status", Static).render())
    assert contacts() == before
