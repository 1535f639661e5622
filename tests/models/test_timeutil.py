"""Wall-time resolution and instants."""
from datetime import UTC, datetime

import pytest

from models.errors import RotaError
from models.timeutil import from_micros, iso_z, parse_instant, resolve_wall, to_micros, zone

UTC = UTC


@pytest.mark.parametrize("tz,wall,expected", [
    ("Europe/Stockholm", datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # gap
    ("America/New_York", datetime(2026, 11, 1, 1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # first of two
    ("Europe/Stockholm", datetime(2026, 6, 1, 8, 0), datetime(2026, 6, 1, 6, 0, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 15), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),  # 30-min gap
    ("Pacific/Apia", datetime(2011, 12, 30, 9, 0), datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),  # skipped day
])
def test_resolve_wall(tz, wall, expected):
    assert resolve_wall(wall, zone(tz)) == expected


def test_micros_round_trip():
    t = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert from_micros(to_micros(t)) == t
    assert to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0


def test_iso_and_parse():
    assert iso_z(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "2026-03-29T01:00:00Z"
    assert parse_instant("2026-03-28T12:00+01:00") == datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
    with pytest.raises(RotaError, match="not an ISO-8601"):
        parse_instant("yesterday")


def test_unknown_zone_suggests_the_right_spelling():
    with pytest.raises(RotaError, match='did you mean "Europe/Stockholm"'):
        zone("europe/stockholm")
