"""The typed settings object: file, environment overrides, validation."""
import pytest

from models.errors import RotaError
from models.settings import Settings, load_settings, save_settings


def test_defaults_file_and_environment(isolated_env, monkeypatch, tmp_path):
    monkeypatch.delenv("ROTA_TIMEZONE")
    path = tmp_path / "s.toml"
    save_settings(Settings(timezone="Europe/Stockholm", operator="alice", grace_seconds=600), path)
    loaded = load_settings(path)
    assert (loaded.timezone, loaded.operator, loaded.grace_seconds) == ("Europe/Stockholm", "alice", 600)
    monkeypatch.setenv("ROTA_OPERATOR", "bob")
    monkeypatch.setenv("ROTA_RUN_ENGINE", "false")
    loaded = load_settings(path)
    assert loaded.operator == "bob" and loaded.run_engine is False


def test_round_trip_keeps_lists(tmp_path):
    path = tmp_path / "s.toml"
    s = Settings(timezone="UTC", holidays=["2026-12-25", "2026-12-26"], business_days=["mon", "tue"])
    save_settings(s, path)
    assert load_settings(path) == s


@pytest.mark.parametrize("field,value,message", [
    ("timezone", "Mars/Olympus", "unknown time zone"),
    ("misfire_policy", "yolo", "misfire policy"),
    ("holidays", ["25/12/2026"], "is not a date"),
    ("business_days", [], "business days"),
])
def test_invalid_settings_are_refused(field, value, message):
    s = Settings(timezone="UTC")
    setattr(s, field, value)
    with pytest.raises(RotaError, match=message):
        s.validate()


def test_broken_file_is_one_clear_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("timezone = \n")
    with pytest.raises(RotaError, match="cannot be read"):
        load_settings(path)


def test_any_operator_name_round_trips(tmp_path):
    """tomli-w writes the file: a newline, quotes, a backslash or a TOML-looking tail in
    a text setting cannot break it (the hand-written writer broke on a newline)."""
    path = tmp_path / "s.toml"
    name = 'Ann "the boss" O\'Neil\nsecond line \\ with = "x" # not a comment'
    save_settings(Settings(timezone="UTC", operator=name, smtp_from="a@b.c"), path)
    loaded = load_settings(path)
    assert loaded.operator == name
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_rota_error_carries_its_field():
    err = RotaError("hour must be 0-23", field="time").under("schedule")
    assert (str(err), err.field, err.section) == ("schedule: hour must be 0-23", "schedule.time", "schedule")
    item = RotaError("not a date", field="[2]").under("settings.pause_dates")
    assert (item.field, item.section) == ("settings.pause_dates[2]", "settings")
    plain = RotaError("one\nline")
    assert (str(plain), plain.field, plain.section) == ("one line", None, None)
    assert plain.about("criteria").section == "criteria"
