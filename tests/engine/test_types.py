"""Custom object types from a type file (issue 13 §1), on SQLite and PostgreSQL: a
type is created and extended, a changed property type converts the stored values or
is refused naming a record, a removal a workflow depends on is refused naming the
workflow, and a custom type works where a built-in one does."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.demo import load_demo
from engine.runner import execute_run
from engine.types import export_type, import_type, remove_property, type_summaries
from engine.workflows import get_workflow, save_workflow
from models import criteria as crit
from models import indexes
from models.db import db
from models.errors import RotaError
from models.importer import import_csv
from models.objects import create_record, get_props, get_record, record_model
from models.schema import Enrollment
from models.timeutil import UTC

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)

INVOICE = {
    "name": "invoice", "label": "Invoice",
    "properties": [
        {"name": "number", "label": "Invoice Number", "type": "string", "required": True},
        {"name": "total", "label": "Total", "type": "string"},
        {"name": "state", "label": "State", "type": "enumeration",
         "options": [{"name": "open", "label": "Open"}, {"name": "paid", "label": "Paid"}]},
        {"name": "due", "label": "Due", "type": "date"},
        {"name": "sent_at", "label": "Sent At", "type": "datetime"},
        {"name": "disputed", "label": "Disputed", "type": "bool"},
    ],
}


def _columns(table: str) -> dict[str, str]:
    return {c.name: c.data_type.lower() for c in db.get_columns(table)}


def test_import_creates_then_extends_and_export_round_trips(any_db):
    assert import_type(INVOICE) == ["created type invoice with 6 properties"]
    assert import_type(INVOICE) == []  # the same file again changes nothing
    cols = _columns("rec_invoice")
    assert {"number", "total", "state", "due", "sent_at", "disputed"} <= set(cols)
    exported = export_type("invoice")
    assert exported["properties"][0] == {"name": "number", "label": "Invoice Number", "type": "string",
                                         "required": True}
    assert import_type(exported) == []
    changes = import_type({"name": "invoice", "properties": [{"name": "amount_due", "label": "Amount due",
                                                              "type": "number"}]})
    assert changes == ["added property amount_due (number)"]
    assert "amount_due" in _columns("rec_invoice") and "number" in get_props("invoice")  # others kept
    summary = next(t for t in type_summaries() if t["name"] == "invoice")
    assert summary["builtin"] is False and len(summary["properties"]) == 7


def test_changing_a_type_converts_values_or_names_the_record_that_fails(any_db):
    import_type(INVOICE)
    a = create_record("invoice", {"number": "A-1", "total": "12.5"})
    b = create_record("invoice", {"number": "A-2", "total": "n/a"})
    to_number = {"name": "invoice", "properties": [{"name": "total", "label": "Total", "type": "number"}]}
    with pytest.raises(RotaError, match=rf'invoice {b} holds "n/a", which does not convert'):
        import_type(to_number)
    assert get_props("invoice")["total"].type == "string" and get_record("invoice", b)["total"] == "n/a"
    create_record("invoice", {"number": "A-3"})
    record_model("invoice").update(total="7").where(record_model("invoice").id == b).execute()
    assert import_type(to_number) == ["changed property total from string to number"]
    assert get_record("invoice", a)["total"] == 12.5 and get_record("invoice", b)["total"] == 7.0
    # an enumeration whose options do not hold a stored value is refused the same way
    import_type({"name": "invoice", "properties": [{"name": "total", "label": "Total", "type": "string"}]})
    with pytest.raises(RotaError, match=rf'invoice {a} holds "12.5"'):
        import_type({"name": "invoice", "properties": [{"name": "total", "type": "enumeration",
                                                        "options": [{"name": "7", "label": "Seven"}]}]})


def test_removing_a_property_a_workflow_uses_is_refused_naming_it(any_db):
    import_type(INVOICE)
    save_workflow({"name": "Disputed invoices", "object_type": "invoice",
                   "schedule": {"kind": "daily", "time": "08:00"},
                   "criteria": [[{"property": "disputed", "operator": "is_true"}]]}, actor="t", now=NOW)
    with pytest.raises(RotaError, match='workflow "Disputed invoices" uses it'):
        remove_property("invoice", "disputed")
    assert "disputed" in _columns("rec_invoice")
    save_workflow({"name": "Reminder", "object_type": "invoice", "schedule": {"kind": "daily", "time": "08:00"},
                   "actions": [{"type": "create_task", "title": "Chase {number} sent {sent_at}"}]},
                  actor="t", now=NOW)
    with pytest.raises(RotaError, match='workflow "Reminder" uses it'):
        remove_property("invoice", "sent_at")
    remove_property("invoice", "due")
    assert "due" not in get_props("invoice") and "due" not in _columns("rec_invoice")
    with pytest.raises(RotaError, match="built in"):
        remove_property("contact", "email")


def test_a_type_change_that_would_break_a_workflow_is_refused(any_db):
    import_type(INVOICE)
    import_type({"name": "invoice", "properties": [{"name": "total", "label": "Total", "type": "number"}]})
    save_workflow({"name": "Big", "object_type": "invoice", "schedule": {"kind": "daily", "time": "08:00"},
                   "criteria": [[{"property": "total", "operator": "gt", "value": 100}]]}, actor="t", now=NOW)
    with pytest.raises(RotaError, match='would break workflow "Big"'):
        import_type({"name": "invoice", "properties": [{"name": "total", "label": "Total", "type": "string"}]})
    assert get_props("invoice")["total"].type == "number"


@pytest.mark.parametrize("spec,message", [
    ([], "a type file is a JSON object"),
    ({"name": "Bad Name"}, "not a type name"),
    ({"name": "x", "colour": 1}, 'unknown field "colour"'),
    ({"name": "x", "properties": [{"name": "a", "type": "money"}]}, 'type "money" is unknown'),
    ({"name": "x", "properties": [{"name": "a", "type": "enumeration"}]}, "needs \"options\""),
    ({"name": "x", "properties": [{"name": "id", "type": "string"}]}, "reserved"),
    ({"name": "x", "properties": [{"name": "a", "type": "string"}, {"name": "a", "type": "number"}]}, "twice"),
])
def test_bad_type_files_are_refused_in_one_line(sqlite_db, spec, message):
    with pytest.raises(RotaError, match=message):
        import_type(spec)


def test_a_custom_type_works_like_a_built_in_one(any_db, tmp_path):
    import_type(INVOICE)
    csv = tmp_path / "invoices.csv"
    csv.write_text("Invoice Number,Total,State,Disputed\nA-1,10,Open,yes\nA-2,20,Paid,no\nA-3,30,open,\n",
                   encoding="utf-8")
    assert import_csv("invoice", csv, now=NOW).count == 3
    groups = [[{"property": "State", "operator": "is_any_of", "value": ["open"]},
               {"property": "disputed", "operator": "is_true"}]]
    assert crit.count_matching("invoice", groups, now=NOW, tz="UTC") == 1
    wf = save_workflow({"name": "Open disputes", "object_type": "invoice", "status": "active",
                        "schedule": {"kind": "daily", "time": "08:00"}, "criteria": groups}, actor="t", now=NOW)
    assert indexes.criteria_index_plan("invoice", groups)  # the advisor covers custom types
    names = {n for n, _ in indexes.criteria_index_plan("invoice", groups)}
    assert names <= set(indexes.existing_indexes("invoice"))
    run = execute_run(get_workflow("Open disputes"), NOW, now=NOW)
    assert run.enrolled == 1 and Enrollment.select().where(Enrollment.run == run.id).count() == 1
    assert wf.object_type.name == "invoice"
    out = load_demo(contacts=20, companies=5, deals=5, tickets=5, workflows=True)  # no invoice data
    assert out["contacts"] == 20 and record_model("invoice").select().count() == 3



def test_a_property_with_criteria_indexes_changes_type_and_is_removed(any_db):
    """The advisor's indexes on a column are dropped with it (the catalog read is the
    store's, Dialect.indexes): SQLite refuses to drop a column an index still uses."""
    import_type(INVOICE)
    a = create_record("invoice", {"number": "A-1", "total": "12"})
    save_workflow({"name": "Totals", "object_type": "invoice", "schedule": {"kind": "daily", "time": "08:00"},
                   "criteria": [[{"property": "total", "operator": "known"}]]}, actor="t", now=NOW)
    made = set(indexes.existing_indexes("invoice"))
    assert made  # the advisor indexed total
    to_number = {"name": "invoice", "properties": [{"name": "total", "label": "Total", "type": "number"}]}
    assert import_type(to_number) == ["changed property total from string to number"]
    assert get_record("invoice", a)["total"] == 12.0
    assert not made & set(indexes.existing_indexes("invoice"))  # dropped with the old column
    # an advisor index left on a column no workflow uses goes with the column
    on_due = indexes.criteria_index_plan("invoice", [[{"property": "due", "operator": "known"}]])
    for _, sql in on_due:
        db.execute_sql(sql)
    assert {n for n, _ in on_due} <= set(indexes.existing_indexes("invoice"))
    remove_property("invoice", "due")
    assert "due" not in _columns("rec_invoice")
    assert not {n for n, _ in on_due} & set(indexes.existing_indexes("invoice"))
