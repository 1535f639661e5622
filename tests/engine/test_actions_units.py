"""Pure pieces of step execution: positions in nested branches, delay arithmetic in a
time zone, retry back-off, the stored path format."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.steps.context import Context
from engine.steps.positions import advance, decode_path, encode_path, enter, path_label, resolve, step_at
from engine.webhook import backoff
from models.timeutil import UTC, zone

S = {"type": "set_property"}
ACTIONS = [
    S,
    {"type": "branch", "then": [S, {"type": "branch", "then": [S], "else": []}], "else": [S]},
    S,
]


def test_positions_walk_nested_branches_in_order():
    assert advance(ACTIONS, (0,)) == (1,)
    assert enter(ACTIONS, (1,), "then") == (1, "then", 0)
    assert advance(ACTIONS, (1, "then", 0)) == (1, "then", 1)
    assert enter(ACTIONS, (1, "then", 1), "then") == (1, "then", 1, "then", 0)
    assert advance(ACTIONS, (1, "then", 1, "then", 0)) == (2,)  # both branches complete
    assert enter(ACTIONS, (1, "then", 1), "else") == (2,)  # an empty arm moves past the branch
    assert advance(ACTIONS, (1, "else", 0)) == (2,)
    assert advance(ACTIONS, (2,)) is None
    assert step_at(ACTIONS, (1, "then", 1))["type"] == "branch"


def test_a_stale_position_falls_back_to_its_top_level_step():
    assert resolve(ACTIONS, (1, "then", 7)) == (1,)
    assert resolve(ACTIONS, (0, "then", 0)) == (0,)  # step 1 is no longer a branch
    assert resolve(ACTIONS, (9,)) is None


@given(st.lists(st.integers(0, 20), min_size=1, max_size=1).map(tuple) |
       st.tuples(st.integers(0, 9), st.sampled_from(["then", "else"]), st.integers(0, 9)),
       st.integers(0, 12))
def test_stored_paths_round_trip(pos, tries):
    step, path = pos[0], encode_path(pos, tries)
    assert decode_path(step, path) == (tuple(pos), tries)
    assert (path is None) == (len(pos) == 1 and tries == 0)


def test_path_labels_count_from_one():
    assert path_label((1, "then", 0)) == "2.then.1"
    assert path_label(None) == ""


def _ctx(tz: str, now: datetime) -> Context:
    ctx = Context.__new__(Context)
    ctx.tz, ctx.tz_name, ctx.now = zone(tz), tz, now
    ctx.pause_dates = set()
    return ctx


def test_a_day_delay_keeps_the_wall_time_across_a_dst_change():
    before = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm (CET)
    ctx = _ctx("Europe/Stockholm", before)
    assert ctx.delay_until({"days": 1}) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert ctx.delay_until({"hours": 24}) == datetime(2026, 3, 29, 9, 0, tzinfo=UTC)  # elapsed time
    assert ctx.delay_until({"minutes": 90}) == before + timedelta(minutes=90)


@pytest.mark.parametrize("now,until,expected", [
    # Monday 2026-03-02 09:00 in New York (14:00Z): the next Friday 08:30 there
    (datetime(2026, 3, 2, 14, 0, tzinfo=UTC), {"weekday": "fri", "time": "08:30"},
     datetime(2026, 3, 6, 13, 30, tzinfo=UTC)),
    # same weekday, time later today: today
    (datetime(2026, 3, 2, 14, 0, tzinfo=UTC), {"weekday": "mon", "time": "10:00"},
     datetime(2026, 3, 2, 15, 0, tzinfo=UTC)),
    # same weekday, time already passed: a week later (after the DST change, so 12:00Z)
    (datetime(2026, 3, 2, 14, 0, tzinfo=UTC), {"weekday": "mon", "time": "08:00"},
     datetime(2026, 3, 9, 12, 0, tzinfo=UTC)),
    # no weekday: the next time the clock shows 08:00
    (datetime(2026, 3, 2, 14, 0, tzinfo=UTC), {"time": "08:00"}, datetime(2026, 3, 3, 13, 0, tzinfo=UTC)),
])
def test_delay_until_a_weekday_and_time_in_the_workflow_zone(now, until, expected):
    assert _ctx("America/New_York", now).delay_until({"until": until}) == expected


def test_pause_days_resume_at_the_due_wall_time_after_consecutive_pauses():
    now = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)  # 00:30 on the 25th in Stockholm
    ctx = _ctx("Europe/Stockholm", now)
    ctx.pause_dates = {datetime(2026, 12, 25).date(), datetime(2026, 12, 26).date()}
    item = SimpleNamespace(due=now)
    assert ctx.paused_until(item) == datetime(2026, 12, 26, 23, 30, tzinfo=UTC)  # 00:30 on the 27th
    ctx.pause_dates = set()
    assert ctx.paused_until(item) is None


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30) == timedelta(hours=1)
