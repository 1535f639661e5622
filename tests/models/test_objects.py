"""Object types, property definitions, typed record tables and value conversion."""
from datetime import UTC, date, datetime

import pytest

from models import objects
from models.errors import RotaError
from models.objects import Prop, coerce_value
from models.store import object_types


def test_contact_properties_follow_the_spec(any_db):
    props = objects.get_props("contact")
    assert list(props)[:2] == ["createdate", "updated_at"]
    assert {"firstname", "lastname", "email", "phone", "city", "country", "jobtitle", "owner",
            "lifecycle_stage", "last_activity_date"} <= set(props)
    stage = props["lifecycle_stage"]
    assert stage.type == "enumeration"
    assert stage.option_names[0] == "subscriber" and "marketing_qualified_lead" in stage.option_names
    assert stage.option_label("marketing_qualified_lead") == "Marketing Qualified Lead"
    assert props["createdate"].label == "Create Date"
    assert objects.get_props("deal")["closedate"].type == "date"
    assert objects.get_props("company")["num_employees"].type == "number"


def test_find_prop_by_name_or_label_ignoring_case(any_db):
    assert objects.find_prop("contact", " first name ").name == "firstname"
    assert objects.find_prop("contact", "LIFECYCLE STAGE").name == "lifecycle_stage"
    assert objects.find_prop("contact", "Create Date").name == "createdate"
    assert objects.find_prop("contact", "favourite colour") is None


def test_records_are_stored_typed_and_trimmed(any_db):
    rid = objects.create_record("contact", {"First Name": "  Åsa ", "lifecycle stage": "Sales Qualified Lead",
                                            "email": "", "createdate": "2026-03-29 02:30"},
                                tz_name="Europe/Stockholm")
    rec = objects.get_record("contact", rid)
    assert rec["firstname"] == "Åsa"
    assert rec["lifecycle_stage"] == "sales_qualified_lead"
    assert rec["email"] is None  # empty means unknown
    # 02:30 does not exist in Stockholm that night: the first valid instant after the gap
    assert rec["createdate"] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_custom_type_with_required_property(any_db):
    object_types.create_object_type("invoice", "Invoice", properties=[
        ("number", "Invoice Number", "string", None, True),
        ("total", "Total", "number"),
        ("state", "State", "enumeration", ["open", "paid"]),
    ])
    with pytest.raises(RotaError, match="needs a value for number"):
        objects.create_record("invoice", {"total": 10})
    rid = objects.create_record("invoice", {"Invoice Number": "A-1", "total": "1,250.50", "state": "Paid"})
    rec = objects.get_record("invoice", rid)
    assert rec["total"] == 1250.5 and rec["state"] == "paid"
    assert [t.name for t in objects.list_types()][-1] == "invoice"


def test_adding_a_property_adds_a_typed_column(any_db):
    rid = objects.create_record("contact", {"firstname": "Bo"})
    object_types.add_property("contact", "score", "Score", "number")
    assert objects.get_record("contact", rid)["score"] is None
    objects.update_record("contact", rid, {"score": "42"})
    assert objects.get_record("contact", rid)["score"] == 42.0
    with pytest.raises(RotaError, match="already has"):
        object_types.add_property("contact", "score", "Score", "number")


@pytest.mark.parametrize("name", ["Bad Name", "1abc", "id", ""])
def test_bad_property_names_are_refused(any_db, name):
    with pytest.raises(RotaError):
        object_types.add_property("contact", name, "X", "string")


def test_unknown_type_lists_the_known_ones(any_db):
    with pytest.raises(RotaError, match="contact, company, deal, ticket"):
        objects.get_type("invoices")


NUM = Prop("n", "N", "number")
ENUM = Prop("s", "S", "enumeration", (("lead", "Lead"), ("customer", "Customer")))


@pytest.mark.parametrize("prop,raw,expected", [
    (NUM, "1,234.5", 1234.5), (NUM, " -3 ", -3.0), (NUM, 7, 7.0), (NUM, "", None),
    (Prop("b", "B", "bool"), "Yes", True), (Prop("b", "B", "bool"), "0", False),
    (ENUM, " CUSTOMER ", "customer"), (ENUM, "Lead", "lead"),
    (Prop("d", "D", "date"), "2026-02-28", date(2026, 2, 28)),
    (Prop("t", "T", "datetime"), "2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
])
def test_coerce_value(prop, raw, expected):
    assert coerce_value(prop, raw) == expected


@pytest.mark.parametrize("prop,raw,message", [
    (NUM, "abc", 'expected a number, got "abc"'),
    (NUM, "1,23", 'expected a number, got "1,23"'),
    (Prop("b", "B", "bool"), "maybe", 'expected true or false, got "maybe"'),
    (ENUM, "vip", 'expected one of lead, customer, got "vip"'),
    (Prop("d", "D", "date"), "not a date", "expected a date"),
])
def test_coerce_value_errors_say_what_was_expected(prop, raw, message):
    with pytest.raises(ValueError) as err:
        coerce_value(prop, raw)
    assert message in str(err.value)
