"""Criteria: every operator on every property type, unknown values, negatives, day
boundaries across DST, validation messages, the index advisor and plain words.

The operator table runs on SQLite and on PostgreSQL and checks three things per case:
the SQL selection, the Python evaluator and the SQL complement (``~expr``) — so a
NULL leaking out of a compiled filter shows up as a missing record in the complement.
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from models import criteria as C
from models import indexes as I
from models.db import db, is_postgres
from models.errors import RotaError
from models.objects import create_record, record_model
from models.store.object_types import create_object_type

UTC = UTC
NOW = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)  # 12:00 in Stockholm, the day after spring-forward
TZ = "Europe/Stockholm"


def make_thing_type() -> None:
    """A custom type with one property of every type, so every operator has a column."""
    create_object_type("thing", "Thing", properties=[
        ("tag", "Tag", "string"),
        ("name", "Name", "string"),
        ("score", "Score", "number"),
        ("active", "Active", "bool"),
        ("stage", "Stage", "enumeration",
         [{"name": "new", "label": "New"}, {"name": "open", "label": "Open"}, {"name": "won", "label": "Won Deal"}]),
        ("due", "Due", "date"),
        ("seen", "Seen", "datetime"),
    ])


# Local (Stockholm) dates of "seen": a 03-30 00:30, b 03-29 23:59, d 03-29 00:00 (the
# first instant of the 23-hour spring-forward day), e 03-28 23:59:59.999999, f 04-02.
RECORDS = {
    "a": {"name": "Anna Berg", "score": 10, "active": True, "stage": "new", "due": "2026-03-10",
          "seen": datetime(2026, 3, 29, 22, 30, tzinfo=UTC)},
    "b": {"name": " ÅSA ", "score": 2.5, "active": False, "stage": "Won Deal", "due": "2026-03-20",
          "seen": datetime(2026, 3, 29, 21, 59, tzinfo=UTC)},
    "c": {},
    "d": {"name": "anna", "score": 0, "active": True, "stage": "open", "due": "2026-03-30",
          "seen": datetime(2026, 3, 28, 23, 0, tzinfo=UTC)},
    "e": {"name": "Björn Åsberg", "score": -3, "active": False, "stage": "NEW", "due": "2026-03-29",
          "seen": datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC)},
    "f": {"name": "berg", "score": 2.5, "active": "", "stage": "won", "due": "2026-04-05",
          "seen": datetime(2026, 4, 2, 12, 0, tzinfo=UTC)},
}
ALL = set(RECORDS)


def f(prop, op, value=None):
    out = {"property": prop, "operator": op}
    if value is not None:
        out["value"] = value
    return out


CASES = [
    # string: folded comparisons, negatives include unknown (c)
    ([[f("name", "eq", " ANNA ")]], {"d"}),
    ([[f("name", "neq", "anna")]], {"a", "b", "c", "e", "f"}),
    ([[f("name", "is_any_of", ["anna", "åsa"])]], {"b", "d"}),
    ([[f("name", "is_none_of", ["ANNA", "berg"])]], {"a", "b", "c", "e"}),
    ([[f("name", "contains", "BERG")]], {"a", "e", "f"}),
    ([[f("name", "contains", " ÅS")]], {"b", "e"}),
    ([[f("name", "not_contains", "berg")]], {"b", "c", "d"}),
    ([[f("name", "starts_with", "an")]], {"a", "d"}),
    ([[f("name", "starts_with", "B")]], {"e", "f"}),
    ([[f("name", "contains", "%")]], set()),  # no LIKE wildcards
    ([[f("name", "known")]], ALL - {"c"}),
    ([[f("Name", "unknown")]], {"c"}),
    # number
    ([[f("score", "eq", 2.5)]], {"b", "f"}),
    ([[f("score", "neq", "2.5")]], {"a", "c", "d", "e"}),
    ([[f("score", "lt", 2.5)]], {"d", "e"}),
    ([[f("score", "lte", 2.5)]], {"b", "d", "e", "f"}),
    ([[f("score", "gt", 0)]], {"a", "b", "f"}),
    ([[f("score", "gte", 0)]], {"a", "b", "d", "f"}),
    ([[f("score", "between", [0, 2.5])]], {"b", "d", "f"}),
    ([[f("score", "unknown")]], {"c"}),
    # bool ("" is stored as unknown)
    ([[f("active", "is_true")]], {"a", "d"}),
    ([[f("active", "is_false")]], {"b", "e"}),
    ([[f("active", "known")]], {"a", "b", "d", "e"}),
    ([[f("active", "unknown")]], {"c", "f"}),
    # enumeration: names or labels, any case
    ([[f("stage", "is_any_of", ["won deal", "NEW"])]], {"a", "b", "e", "f"}),
    ([[f("Stage", "is_none_of", ["New"])]], {"b", "c", "d", "f"}),
    ([[f("stage", "eq", "open")]], {"d"}),
    ([[f("stage", "neq", "Open")]], {"a", "b", "c", "e", "f"}),
    ([[f("stage", "known")]], ALL - {"c"}),
    # date property: compared as dates; today is 2026-03-30
    ([[f("due", "on", "2026-03-30")]], {"d"}),
    ([[f("due", "before", "2026-03-20")]], {"a"}),
    ([[f("due", "after", "2026-03-29")]], {"d", "f"}),
    ([[f("due", "between", ["2026-03-20", "2026-03-29"])]], {"b", "e"}),
    ([[f("due", "in_last_days", 1)]], {"d", "e"}),
    ([[f("due", "in_last_days", 0)]], {"d"}),
    ([[f("due", "in_next_days", 6)]], {"d", "f"}),
    ([[f("due", "more_than_days_ago", 10)]], {"a"}),
    ([[f("due", "more_than_days_ago", 9)]], {"a", "b"}),
    ([[f("due", "unknown")]], {"c"}),
    # datetime property: local Stockholm days as instant ranges
    ([[f("seen", "in_last_days", 0)]], {"a"}),
    ([[f("seen", "in_last_days", 1)]], {"a", "b", "d"}),
    ([[f("seen", "more_than_days_ago", 1)]], {"e"}),
    ([[f("seen", "on", "2026-03-29")]], {"b", "d"}),
    ([[f("seen", "before", "2026-03-29")]], {"e"}),
    ([[f("seen", "after", "2026-03-29")]], {"a", "f"}),
    ([[f("seen", "between", ["2026-03-28", "2026-03-29"])]], {"b", "d", "e"}),
    ([[f("seen", "in_next_days", 3)]], {"a", "f"}),
    ([[f("seen", "in_next_days", 2)]], {"a"}),
    ([[f("seen", "known")]], ALL - {"c"}),
    # groups OR, filters AND
    ([[f("stage", "is_any_of", ["new"])], [f("score", "gt", 5)]], {"a", "e"}),
    ([[f("stage", "is_any_of", ["new"]), f("score", "gt", 5)]], {"a"}),
    ([[f("name", "unknown")], [f("active", "is_true")]], {"a", "c", "d"}),
    ([[f("name", "neq", "anna"), f("stage", "is_none_of", ["won"])]], {"a", "c", "e"}),
]


@pytest.fixture
def things(any_db):
    """The six records above, by tag; works on whichever database any_db opened."""
    make_thing_type()
    ids = {}
    for tag, values in RECORDS.items():
        ids[tag] = create_record("thing", {"tag": tag, **values}, now=NOW)
    return ids


def _sql_tags(expr) -> set[str]:
    model = record_model("thing")
    return {r.tag for r in model.select(model.tag).where(expr)}


def _py_tags(groups, empty=True) -> set[str]:
    model = record_model("thing")
    test = C.evaluator(groups, "thing", now=NOW, tz=TZ, empty=empty)
    return {r["tag"] for r in model.select().dicts() if test(r)}


def test_every_operator_selects_the_same_records_in_sql_and_python(things):
    failures = []
    for groups, expected in CASES:
        expr = C.compile_criteria(groups, "thing", now=NOW, tz=TZ)
        got = {"sql": _sql_tags(expr), "python": _py_tags(groups), "sql complement": ALL - _sql_tags(~expr)}
        for how, tags in got.items():
            if tags != expected:
                failures.append(f"{groups} via {how}: {sorted(tags)} != {sorted(expected)}")
    assert not failures, "\n".join(failures)


def test_count_matching_query_empty_groups_and_one_record(things):
    """The entry points around the compiler, in one test: a PostgreSQL schema per test
    is the slow part of this file."""
    from models.objects import get_record

    groups = [[f("stage", "is_any_of", ["new", "won"])]]
    assert C.count_matching("thing", groups, now=NOW, tz=TZ) == 4
    query = C.matching_query("thing", groups, now=NOW, tz=TZ, suppression=[[f("score", "neq", 2.5)]])
    by_id = {v: k for k, v in things.items()}
    assert {by_id[r.id] for r in query} == {"b", "f"}
    # no suppression suppresses nothing; empty criteria select every record
    assert len(list(C.matching_query("thing", [], now=NOW, tz=TZ, suppression=[]))) == len(ALL)

    assert _sql_tags(C.compile_criteria([], "thing", now=NOW, tz=TZ)) == ALL
    assert _sql_tags(C.compile_criteria([], "thing", now=NOW, tz=TZ, empty=False)) == set()
    assert _py_tags([], empty=True) == ALL and _py_tags([], empty=False) == set()
    assert C.count_matching("thing", [], now=NOW, tz=TZ) == len(ALL)

    record = get_record("thing", things["d"])  # seen 23:00 UTC on 03-28: 00:00 on 03-29 in Stockholm
    assert C.matches([[f("name", "eq", "ANNA"), f("seen", "on", "2026-03-29")]], record, "thing", now=NOW, tz=TZ)
    assert not C.matches([[f("seen", "on", "2026-03-29")]], record, "thing", now=NOW, tz="UTC")


# ------------------------------------------------------------------ DST days


@pytest.mark.parametrize("tz,day,inside,outside", [
    # Stockholm spring-forward: 2026-03-29 has 23 hours, from 23:00 UTC on the 28th
    ("Europe/Stockholm", "2026-03-29",
     [datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 21, 59, 59, 999999, tzinfo=UTC)],
     [datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)]),
    # Stockholm fall-back: 2026-10-25 has 25 hours
    ("Europe/Stockholm", "2026-10-25",
     [datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 22, 59, tzinfo=UTC)],
     [datetime(2026, 10, 24, 21, 59, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)]),
    # Santiago falls back at midnight: the repeated 23:00 hour belongs to 2026-04-04
    ("America/Santiago", "2026-04-04",
     [datetime(2026, 4, 4, 3, 0, tzinfo=UTC), datetime(2026, 4, 5, 3, 30, tzinfo=UTC)],
     [datetime(2026, 4, 4, 2, 59, tzinfo=UTC), datetime(2026, 4, 5, 4, 0, tzinfo=UTC)]),
    # Santiago springs forward at midnight: 2026-09-06 begins at 01:00 local (04:00 UTC)
    ("America/Santiago", "2026-09-06",
     [datetime(2026, 9, 6, 4, 0, tzinfo=UTC), datetime(2026, 9, 7, 2, 59, tzinfo=UTC)],
     [datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC), datetime(2026, 9, 7, 3, 0, tzinfo=UTC)]),
])
def test_datetime_days_follow_the_local_calendar_across_dst(sqlite_db, tz, day, inside, outside):
    ids = {create_record("contact", {"firstname": "x", "last_activity_date": when}): when for when in inside + outside}
    the_day = date.fromisoformat(day)
    now = datetime(the_day.year, the_day.month, the_day.day, 16, tzinfo=UTC)  # midday in both zones
    on = [[f("last_activity_date", "on", day)]]
    today = [[f("last_activity_date", "in_last_days", 0)]]
    model = record_model("contact")
    for groups in (on, today):
        expr = C.compile_criteria(groups, "contact", now=now, tz=tz)
        selected = {ids[r.id] for r in model.select(model.id).where(expr)}
        assert selected == set(inside)
        assert {w for w in inside + outside if C.matches(groups, {"last_activity_date": w}, "contact",
                                                          now=now, tz=tz)} == set(inside)


def test_in_last_days_counts_calendar_days_not_24_hour_periods(sqlite_db):
    # 30 hours before "now" but only one calendar day back in Stockholm
    now = datetime(2026, 3, 30, 5, 0, tzinfo=UTC)  # 07:00 local on 03-30
    when = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 00:00 local on 03-29
    record = {"createdate": when}
    assert C.matches([[f("createdate", "in_last_days", 1)]], record, "contact", now=now, tz=TZ)
    assert not C.matches([[f("createdate", "in_last_days", 0)]], record, "contact", now=now, tz=TZ)
    assert not C.matches([[f("createdate", "more_than_days_ago", 1)]], record, "contact", now=now, tz=TZ)
    assert C.matches([[f("createdate", "more_than_days_ago", 0)]], record, "contact", now=now, tz=TZ)


def test_day_operators_need_an_aware_now(sqlite_db):
    with pytest.raises(ValueError):
        C.compile_criteria([[f("createdate", "in_last_days", 1)]], "contact", now=datetime(2026, 1, 1), tz=TZ)


# ------------------------------------------------------------------ validation


BAD_CRITERIA = [
    ([[f("createdate", "known")], [f("lifecycle_stage", "lt", 3)]],
     'criteria group 2, filter 1 (lifecycle_stage): operator "lt" does not apply to an enumeration; '
     "use is_any_of, is_none_of, known or unknown"),
    ([[f("nickname", "known")]], 'criteria group 1, filter 1: contact has no property "nickname"; use one of'),
    ([[f("email", "is_like", "x")]], 'criteria group 1, filter 1 (email): operator "is_like" is unknown; use eq,'),
    ([[f("email", "eq")]], "criteria group 1, filter 1 (email): eq needs a value"),
    ([[f("email", "eq", "   ")]], "criteria group 1, filter 1 (email): eq needs a value"),
    ([[f("email", "known"), f("lifecycle_stage", "is_any_of", ["customer", "vip"])]],
     "criteria group 1, filter 2 (lifecycle_stage): 'vip' is not an option; use subscriber, lead,"),
    ([[f("lifecycle_stage", "is_any_of", [])]], "(lifecycle_stage): is_any_of needs a non-empty list of values"),
    ([[f("createdate", "in_last_days", -1)]], "(createdate): in_last_days needs a whole number of days from 0"),
    ([[f("createdate", "in_last_days", 1.5)]], "in_last_days needs a whole number of days"),
    ([[f("createdate", "in_last_days", True)]], "in_last_days needs a whole number of days"),
    ([[f("createdate", "between", ["2026-03-02", "2026-03-01"])]], "between needs the low value first"),
    ([[f("createdate", "between", ["2026-03-02"])]], "between needs two values [low, high]"),
    ([[f("createdate", "on", "2026-03-02T10:00")]], "expected a date such as 2026-03-31, got '2026-03-02T10:00'"),
    ([[f("createdate", "on", "0999-12-31")]], "is outside"),
    ([[f("email", "unknown", "x")]], "(email): unknown takes no value"),
    ([[f("email", "contains", ["x"])]], "(email): expected text, got ['x']"),
    ([[]], "criteria group 1 has no filters"),
    ([{"property": "email"}], "criteria group 1 must be a list of filters"),
    ({"property": "email"}, "criteria must be a list of filter groups"),
    ([["email"]], 'criteria group 1, filter 1: a filter is an object with "property"'),
    ([[{"property": "email", "operator": "known", "op": 1}]], 'unexpected key "op"'),
    ([[{"operator": "known"}]], '"property" is missing'),
    ([[{"property": "email"}]], '(email): "operator" is missing; use eq,'),
]


def test_validation_names_group_filter_property_and_problem(sqlite_db):
    failures = []
    for groups, message in BAD_CRITERIA:
        try:
            C.validate_criteria(groups, "contact")
        except RotaError as err:
            if message not in str(err):
                failures.append(f"{groups}: {err} (wanted {message!r})")
        else:
            failures.append(f"{groups}: accepted")
    assert not failures, "\n".join(failures)


def test_validation_message_names_the_criteria_set(sqlite_db):
    with pytest.raises(RotaError, match=r"^suppression group 1, filter 1 \(email\)"):
        C.validate_criteria([[f("email", "lt", 1)]], "contact", where="suppression")


def test_number_validation(sqlite_db):
    make_thing_type()
    with pytest.raises(RotaError, match=r"\(score\): expected a number, got 'abc'"):
        C.validate_criteria([[f("score", "eq", "abc")]], "thing")
    with pytest.raises(RotaError, match="expected a number"):
        C.validate_criteria([[f("score", "eq", float("nan"))]], "thing")
    with pytest.raises(RotaError, match=r'operator "contains" does not apply to a number'):
        C.validate_criteria([[f("score", "contains", 1)]], "thing")


def test_normal_form_uses_internal_names_and_typed_values_and_is_stable(sqlite_db):
    make_thing_type()
    raw = [
        [f(" Lifecycle Stage ", "IS_ANY_OF", ["Marketing Qualified Lead", "customer", "CUSTOMER"]),
         f("Create Date", "more_than_days_ago", "30"), f("email", "unknown", "")],
        [f("First Name", "eq", "  Åsa "), f("createdate", "between", [date(2026, 1, 1), "2026-02-01"])],
    ]
    normal = C.validate_criteria(raw, "contact")
    assert normal == [
        [{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["marketing_qualified_lead", "customer"]},
         {"property": "createdate", "operator": "more_than_days_ago", "value": 30},
         {"property": "email", "operator": "unknown"}],
        [{"property": "firstname", "operator": "eq", "value": "Åsa"},
         {"property": "createdate", "operator": "between", "value": ["2026-01-01", "2026-02-01"]}],
    ]
    assert C.validate_criteria(normal, "contact") == normal
    assert C.validate_criteria(json.loads(json.dumps(normal)), "contact") == normal
    numbers = C.validate_criteria([[f("score", "eq", 3.0), f("score", "lt", "2.5"), f("score", "gt", 7)]], "thing")
    values = [x["value"] for x in numbers[0]]
    assert values == [3, 2.5, 7] and [type(v) for v in values] == [int, float, int]
    enum_single = C.validate_criteria([[f("stage", "eq", "Won Deal")]], "thing")
    assert enum_single == [[{"property": "stage", "operator": "eq", "value": "won"}]]


def test_operator_vocabulary_covers_the_spec():
    spec = ("eq neq is_any_of is_none_of contains not_contains starts_with known unknown lt lte gt gte "
            "between is_true is_false on before after in_last_days in_next_days more_than_days_ago").split()
    offered = {op for ops in C.OPERATORS_BY_TYPE.values() for op in ops}
    assert offered == set(spec) == set(C.OPERATOR_LABELS)
    assert C.OPERATORS_BY_TYPE["enumeration"] == ("is_any_of", "is_none_of", "known", "unknown")
    assert C.OPERATOR_LABELS["not_contains"] == "doesn't contain"


# ------------------------------------------------------------------ plain words


def test_describe_criteria_in_plain_words(sqlite_db):
    groups = [[f("lifecycle_stage", "is_any_of", ["customer", "lead"]), f("createdate", "more_than_days_ago", 30)],
              [f("email", "unknown"), f("city", "eq", "Malmö")]]
    assert C.describe_criteria(groups, "contact") == (
        "(Lifecycle Stage is any of Customer, Lead and Create Date is more than 30 days ago) or "
        '(Email is unknown and City is "Malmö")')
    assert C.describe_criteria([[f("createdate", "in_last_days", 1)]], "contact") == "Create Date is in the last 1 day"
    assert C.describe_criteria([], "contact") == "every contact"
    assert C.describe_criteria([], "contact", empty=False) == "no contact"


# ------------------------------------------------------------------ index advisor

TYPICAL = [[f("createdate", "more_than_days_ago", 30),
            f("lifecycle_stage", "is_any_of", ["lead", "customer", "opportunity", "evangelist"])]]


def _sqlite_index_sql(name: str) -> str:
    return db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()[0]


def _sqlite_plan(query) -> str:
    sql, params = query.sql()
    return " | ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_advisor_index_is_composite_equality_first_and_used(sqlite_db):
    names = I.ensure_criteria_indexes("contact", TYPICAL)
    assert len(names) == 1 and names[0].startswith("rota_crit_rec_contact_")
    assert '("lifecycle_stage", "createdate")' in _sqlite_index_sql(names[0])
    model = record_model("contact")
    query = model.select(model.id).where(C.compile_criteria(TYPICAL, "contact", now=NOW, tz=TZ))
    plan = _sqlite_plan(query)
    assert f"COVERING INDEX {names[0]}" in plan, plan
    # saving again keeps the same index and creates nothing new
    before = db.execute_sql("SELECT count(*) FROM sqlite_master WHERE type = 'index'").fetchone()[0]
    assert I.ensure_criteria_indexes("contact", TYPICAL) == names
    assert db.execute_sql("SELECT count(*) FROM sqlite_master WHERE type = 'index'").fetchone()[0] == before


def test_advisor_indexes_text_on_the_folded_expression(sqlite_db):
    groups = [[f("firstname", "is_any_of", ["Anna", "Åsa"]), f("createdate", "in_last_days", 7)],
              [f("email", "neq", "x@y.z")]]  # negatives only: nothing to seek, no index
    planned = I.criteria_index_plan("contact", groups)
    assert [name for name, _ in planned] == [name for name, _ in I.criteria_index_plan("contact", groups)]
    assert db.execute_sql("SELECT count(*) FROM sqlite_master WHERE name = ?", (planned[0][0],)).fetchone()[0] == 0
    names = I.ensure_criteria_indexes("contact", groups)
    assert names == [name for name, _ in planned]
    # folded value first (what the SQL compares), the plain column last (covering)
    assert 'rota_fold("firstname"), "createdate", "firstname")' in _sqlite_index_sql(names[0])
    model = record_model("contact")
    one_group = model.select(model.id).where(C.compile_criteria(groups[:1], "contact", now=NOW, tz=TZ))
    assert f"COVERING INDEX {names[0]}" in _sqlite_plan(one_group)
    create_record("contact", {"firstname": " ÅSA ", "createdate": NOW})  # writes still work with the index
    assert C.count_matching("contact", groups[:1], now=NOW, tz=TZ) == 1


def test_advisor_caps_index_width(sqlite_db):
    group = [f(p, "eq", "x") for p in ("firstname", "lastname", "email", "phone", "city", "country", "jobtitle")]
    (name,) = I.ensure_criteria_indexes("contact", [group])
    assert _sqlite_index_sql(name).count("rota_fold(") == I.MAX_INDEX_COLUMNS
    assert "jobtitle" not in _sqlite_index_sql(name)
    # text tested only for known/unknown is indexed plain, as the compiler tests it
    (plain,) = I.ensure_criteria_indexes("contact", [[f("email", "unknown"), f("createdate", "in_last_days", 3)]])
    assert '("email", "createdate")' in _sqlite_index_sql(plain)


def test_prune_drops_only_advisor_indexes_no_criteria_needs(any_db):
    old = [[f("city", "eq", "Lund"), f("createdate", "in_last_days", 7)]]
    (stale,) = I.ensure_criteria_indexes("contact", old)
    (kept,) = I.ensure_criteria_indexes("contact", TYPICAL)
    assert I.prune_criteria_indexes("contact", [TYPICAL, [], None]) == [stale]
    assert I.prune_criteria_indexes("contact", [TYPICAL]) == []
    assert I.ensure_criteria_indexes("contact", TYPICAL) == [kept]
    assert I.prune_criteria_indexes("contact", []) == [kept]
    db.execute_sql("CREATE INDEX operator_own_stage ON rec_contact (lifecycle_stage)")  # not the advisor's
    assert I.prune_criteria_indexes("contact", []) == []
    model = record_model("contact")
    plan = model.select(model.id).where(
        C.compile_criteria([[f("lifecycle_stage", "is_any_of", ["lead"])]], "contact", now=NOW, tz=TZ))
    if not is_postgres():
        assert "operator_own_stage" in _sqlite_plan(plan)


def test_advisor_on_postgres_uses_lower_and_the_planner_can_use_it(pg_db):
    groups = [[f("email", "eq", "A@B.C"), f("createdate", "before", "2026-01-01")]]
    (name,) = I.ensure_criteria_indexes("contact", groups)
    definition = db.execute_sql("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (name,)).fetchone()[0]
    assert "lower(email)" in definition and definition.index("lower(email)") < definition.index("createdate")
    model = record_model("contact")
    sql, params = model.select(model.id).where(C.compile_criteria(groups, "contact", now=NOW, tz=TZ)).sql()
    with db.atomic():
        db.execute_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params).fetchall())
    assert name in plan, plan
    assert is_postgres()


# ------------------------------------------------ exhaustive day boundaries

BOUNDARY_CLOCKS = [  # (zone, now): each zone on or next to its own DST change
    ("UTC", datetime(2026, 6, 15, 23, 59, 59, 999999, tzinfo=UTC)),
    ("Europe/Stockholm", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ("Europe/Stockholm", datetime(2026, 10, 25, 0, 59, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    ("America/Santiago", datetime(2026, 4, 5, 3, 30, tzinfo=UTC)),
    ("America/Santiago", datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 4, 4, 16, 0, tzinfo=UTC)),
]


def _reference_dates(op, value, today):
    """The local dates an operator accepts, written the obvious way (a reference)."""
    from datetime import timedelta as td

    if op == "on":
        return lambda d: d == date.fromisoformat(value)
    if op == "before":
        return lambda d: d < date.fromisoformat(value)
    if op == "after":
        return lambda d: d > date.fromisoformat(value)
    if op == "between":
        return lambda d: date.fromisoformat(value[0]) <= d <= date.fromisoformat(value[1])
    if op == "in_last_days":
        return lambda d: today - td(days=value) <= d <= today
    if op == "in_next_days":
        return lambda d: today <= d <= today + td(days=value)
    return lambda d: d < today - td(days=value)  # more_than_days_ago


def test_day_operators_at_every_local_midnight_match_a_reference(any_db):
    """Instants a microsecond either side of each local midnight, in zones with DST
    changes (Santiago's at midnight, Lord Howe's by 30 minutes), "now" on transition
    days: SQL, Python and a reference on the local calendar date all agree. (In these
    zones the local date never goes backwards, so the reference is exact.)"""
    from datetime import timedelta as td

    from models.timeutil import start_of_local_day, zone

    make_thing_type()
    model = record_model("thing")
    failures = []
    for tz, now in BOUNDARY_CLOCKS:
        zinfo = zone(tz)
        today = now.astimezone(zinfo).date()
        days = [today + td(days=n) for n in range(-4, 5)]
        instants = [start_of_local_day(d, zinfo) + td(microseconds=m) for d in days for m in (-1, 0, 1)]
        model.delete().execute()
        model.insert_many([{"seen": x, "due": x.astimezone(zinfo).date(), "createdate": now, "updated_at": now}
                           for x in instants]).execute()
        rows = list(model.select().dicts())
        iso = [d.isoformat() for d in days[2:7]]
        ops = [("in_last_days", n) for n in (0, 1, 2)] + [("in_next_days", n) for n in (0, 1, 2)]
        ops += [("more_than_days_ago", n) for n in (0, 1, 2)] + [("between", [iso[1], iso[3]])]
        ops += [(op, d) for op in ("on", "before", "after") for d in iso]
        for prop in ("seen", "due"):
            for op, value in ops:
                groups = [[f(prop, op, value)]]
                ref = _reference_dates(op, value, today)
                want = {r["id"] for r in rows
                        if ref(r["seen"].astimezone(zinfo).date() if prop == "seen" else r["due"])}
                expr = C.compile_criteria(groups, "thing", now=now, tz=tz)
                by_sql = {r.id for r in model.select(model.id).where(expr)}
                test = C.evaluator(groups, "thing", now=now, tz=tz)
                by_python = {r["id"] for r in rows if test(r)}
                if not by_sql == by_python == want:
                    failures.append(f"{tz} now={now} {prop} {op} {value}")
    assert not failures, failures[:10]


# ------------------------------------------------- long lists and many groups (issue 10)

def test_a_100000_value_list_is_one_parameter_and_matches_like_python(any_db):
    for i in range(5):
        create_record("contact", {"email": f"P{i}@x.org", "firstname": "a" if i % 2 else None})
    values = [f"p{i}@x.org" for i in range(0, 100_000)]
    groups = [[{"property": "email", "operator": "is_any_of", "value": values}]]
    where = C.compile_criteria(groups, "contact", now=NOW, tz="UTC")
    model = record_model("contact")
    sql, params = model.select(model.id).where(where).sql()
    assert len(params) < 10 and sql.count("?") + sql.count("%s") < 10
    assert C.count_matching("contact", groups, now=NOW, tz="UTC") == 5
    none_of = [[{"property": "email", "operator": "is_none_of", "value": values[1:]}]]
    assert C.count_matching("contact", none_of, now=NOW, tz="UTC") == 1
    test = C.evaluator(none_of, "contact", now=NOW, tz="UTC")
    assert [test(r) for r in model.select().order_by(model.id).dicts()] == [True, False, False, False, False]
    C.check_runnable("contact", {"criteria": groups, "suppression": none_of}, now=NOW)


def test_500_or_groups_fold_into_one_list_and_unfoldable_ones_still_run(any_db):
    for i in range(10):
        create_record("contact", {"email": f"u{i}@x.org", "city": "Lund" if i < 5 else "Oslo"})
    folded = [[{"property": "email", "operator": "eq", "value": f"u{i}@x.org"}] for i in range(500)]
    assert C.count_matching("contact", folded, now=NOW, tz="UTC") == 10
    plan = C._plan(folded, C.get_type("contact"), NOW, "UTC")
    assert len(plan) == 1 and plan[0][0].op == "is_any_of" and len(plan[0][0].value) == 500
    mixed = [[{"property": "email", "operator": "contains", "value": f"u{i}@"},
              {"property": "city", "operator": "neq", "value": "Oslo"}] for i in range(500)]
    assert C.count_matching("contact", mixed, now=NOW, tz="UTC") == 5
    C.check_runnable("contact", {"criteria": mixed}, now=NOW)
    # folded groups that share their other filters stay equivalent
    shared = [[{"property": "email", "operator": "eq", "value": f"u{i}@x.org"},
               {"property": "city", "operator": "eq", "value": "lund"}] for i in range(200)]
    assert len(C._plan(shared, C.get_type("contact"), NOW, "UTC")) == 1
    assert C.count_matching("contact", shared, now=NOW, tz="UTC") == 5


def test_criteria_past_the_stated_limit_are_refused_when_saved(any_db):
    from engine.workflows import save_workflow

    groups = [[{"property": "email", "operator": "contains", "value": f"u{i}@"}] for i in range(C.MAX_GROUPS + 1)]
    body = {"name": "Too many", "object_type": "contact", "schedule": {"kind": "daily", "time": "08:00"},
            "criteria": groups}
    with pytest.raises(RotaError, match=f"at most {C.MAX_GROUPS:,} are allowed"):
        save_workflow(body, actor="t", now=NOW)
    from models.schema import Workflow

    assert Workflow.select().count() == 0
