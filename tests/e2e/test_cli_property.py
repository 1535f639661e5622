"""Property (Hypothesis): whatever the CLI is given, it exits 0 or 2, never 1, never
prints a traceback, and a refusal is one line on stderr with no raw control character.

Runs ``rota`` in-process against one seeded SQLite file, so a few hundred examples
take seconds rather than minutes.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import db as dbmod
from tests.e2e.conftest import DATA
from tui.cli import main

NAME = "Friday customer check-in"

edge_numbers = st.sampled_from(["0", "-1", "1", "9223372036854775807", "9223372036854775808", str(2**64),
                                "9" * 5000, "1e999", "0x10", " 3 ", "", "-0", "1_000"])
numbers = st.one_of(edge_numbers, st.integers(min_value=-(2**70), max_value=2**70).map(str))
edge_dates = st.sampled_from(["0001-01-01T00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59Z",
                              "0001-01-01", "9999-12-31", "2026-02-30", "2026-03-29T02:30", "today",
                              "2026-03-02T08:00:00.123456+14:00", "0000-00-00", "T", "+99999-01-01"])
dates = st.one_of(edge_dates, st.datetimes().map(lambda d: d.isoformat()))
zones = st.one_of(st.sampled_from(["UTC", "Europe/Stockholm", "../../etc/passwd", "A" * 100_000, "", " ",
                                   "Etc/GMT+14", "europe/stockholm", "\x00"]), st.text(max_size=40))
nasty_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60),
    st.sampled_from(["\x1b]0;PWNED\x07", "\u202eevil", "x" * 5000, "--help", "-", NAME]))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
schedules = st.one_of(
    st.builds(lambda kind, time, tz: json.dumps({"kind": kind, "time": time, "timezone": tz}),
              st.sampled_from(["daily", "weekly", "cron", "yearly", "hourly"]),
              st.sampled_from(["08:00", "24:00", "7", ""]), zones),
    json_values.map(json.dumps), st.sampled_from(["[" * 3000 + "]" * 3000, "{", "null", "1" * 5000]))


@st.composite
def argv(draw) -> list[str]:
    command = draw(st.sampled_from(["runs", "history", "enroll", "schedule", "export", "count", "list",
                                    "wfimport", "import"]))
    name = draw(st.one_of(st.just(NAME), nasty_text))
    if command == "runs":
        args = ["runs", name]
        if draw(st.booleans()):
            args += ["--limit", draw(numbers)]
        return args + (["--json"] if draw(st.booleans()) else [])
    if command == "history":
        args = ["history", name]
        for flag, values in (("--since", dates), ("--until", dates), ("--record", numbers),
                             ("--limit", numbers), ("--type", nasty_text), ("--before", nasty_text)):
            if draw(st.booleans()):
                args += [flag, draw(values)]
        return args + (["--json"] if draw(st.booleans()) else [])
    if command == "enroll":
        return ["enroll", name, draw(numbers)]
    if command == "schedule":
        args = ["schedule", "next", "--schedule", draw(schedules)]
        if draw(st.booleans()):
            args += ["--after", draw(dates)]
        if draw(st.booleans()):
            args += ["--count", draw(numbers)]
        return args
    if command == "export":
        return ["workflow", "export", name]
    if command == "count":
        return ["workflow", "count", name]
    if command == "list":
        return ["workflow", "list"] + (["--json"] if draw(st.booleans()) else [])
    return [command]  # the file commands get their file from the test


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("prop") / "rota.db")
    assert main(["--db", path, "workflow", "import", str(DATA / "workflow_spec_example.json")]) == 0
    assert main(["--db", path, "import", "contact", str(DATA / "crm_contacts_export.csv")]) == 0
    dbmod.close_database()
    return path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=argv(), body=json_values, csv_cells=st.lists(nasty_text, min_size=1, max_size=4),
       date_cell=dates, zone=zones)
def test_cli_exits_0_or_2_and_never_shows_a_traceback(seeded_db, tmp_path, capsys, args, body, csv_cells,
                                                      date_cell, zone):
    if args == ["wfimport"]:
        path = tmp_path / "wf.json"
        base = json.loads((DATA / "workflow_spec_example.json").read_text(encoding="utf-8"))
        if isinstance(body, dict):
            base.update({k: v for k, v in body.items() if k != "name"})
        path.write_text(json.dumps(base), encoding="utf-8")
        args = ["workflow", "import", str(path)]
    elif args == ["import"]:
        path = tmp_path / "rows.csv"
        cells = [c.replace(",", " ").replace("\n", " ").replace("\r", " ").replace('"', "'") for c in csv_cells]
        path.write_text("Email,First Name,Create Date\n" + f"{cells[0]}@x.se,{cells[-1]},{date_cell}\n",
                        encoding="utf-8")
        args = ["import", "contact", str(path), "--timezone", zone]
    capsys.readouterr()
    try:
        code = main(["--db", seeded_db, *args])
    except SystemExit as exc:  # argparse's own --help exits 0 as the real command does
        code = exc.code
    finally:
        dbmod.close_database()
    out, err = capsys.readouterr()
    assert code in (0, 2), (args, err)
    assert "Traceback" not in out + err and "internal error" not in err, (args, err)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("rota: "), (args, err)
    raw = [c for c in out + err if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert not raw, (args, raw[:5])
