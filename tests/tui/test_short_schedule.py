"""The home table's schedule column: at most 11 characters, never a cut-off time."""
import pytest

from tui.screens.home_rows import SCHEDULE_WIDTH, short_schedule


@pytest.mark.parametrize("schedule,shown", [
    ({"kind": "daily", "time": "07:30"}, "Daily 7:30"),
    ({"kind": "weekly", "weekdays": ["fri"], "time": "08:00"}, "Fri 8:00"),
    ({"kind": "weekly", "weekdays": ["mon", "tue", "wed", "thu", "fri"], "time": "09:00"}, "Mon-Fri"),
    ({"kind": "monthly_days", "days": [1, 15], "time": "09:00"}, "1,15 9:00"),
    ({"kind": "yearly", "month": 1, "day": 15, "time": "10:00"}, "15 Jan"),  # the time goes, not "10:0"
    ({"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "weekday"}, "time": "15:00"}, "Last wkd"),
    ({"kind": "monthly_days", "days": [1, 5, 10, 15, 20, 25, 28], "time": "09:00"}, "1,5,10,15,…"),
    ({"kind": "cron", "cron": "*/30 8-17 * * 1-5"}, "*/30 8-17 …"),
])
def test_short_schedule_fits_and_never_shows_a_cut_time(schedule, shown):
    text = short_schedule(schedule)
    assert text == shown
    assert len(text) <= SCHEDULE_WIDTH
