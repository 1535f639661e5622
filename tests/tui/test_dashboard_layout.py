"""The dashboard at 80×24 and 60×20 (issue 14 §1, issue 10 §3): a long workflow name
ends in "…" after a whole word and is shown whole in the detail line with the run's
outcome in words; a run with failed steps reads "⚠ 3 failed", never "succeeded"; a
narrow terminal's chart keeps the newest days."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from models.schema import Run
from tests.tui.conftest import FIXED_NOW, settle
from tests.tui.test_home_run_counters import _failing_run
from tui.widgets.chart import BarChart

NAME = "Nightly list sync to the partner CRM"


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_long_name_and_failed_steps_at_small_sizes(empty_db, make_app, size):
    run = _failing_run(empty_db)
    app = make_app(empty_db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("g")
        await settle(pilot, app)
        table = app.screen.query_one("#dash-runs", DataTable)
        widths = {c.key.value: c.width for c in table.columns.values()}
        assert sum(w + 2 for w in widths.values()) <= size[0] - 1
        cells = dict(zip(widths, table.get_row(str(run.id))))
        assert cells["status"] == "⚠ 3 failed"
        assert cells["workflow"] == NAME or (cells["workflow"].endswith("…")
                                             and NAME.startswith(cells["workflow"][:-1].rstrip()))
        assert all(len(v) <= widths[k] for k, v in cells.items())
        detail = str(app.screen.query_one("#dash-detail", Static).render())
        assert NAME in detail and "succeeded, 3 steps failed" in detail
        chart = app.screen.query_one(BarChart)
        assert chart.data[-1][0] == FIXED_NOW.date()  # the newest day is on the chart
        assert 6 + 2 * len(chart.data) - 1 <= size[0]  # and every day shown fits
        assert Run.select().count() == 1
