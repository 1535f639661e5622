"""Associations (issue 13 §2) on SQLite and PostgreSQL: the built-in ones, links from
both ends, criteria on an associated record's property (SQL and Python agree, any
associated record for a to-many side), the advisor's index on the other table, CSV
import by id and by a unique property, and a custom type's own association."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.types import export_type, import_type
from models import criteria as C
from models import indexes
from models.associations import associations_of, define_association, link, linked_ids
from models.errors import RotaError
from models.importer import import_csv
from models.objects import create_record, get_record, record_model
from models.timeutil import UTC

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _count(type_name, groups):
    return C.count_matching(type_name, groups, now=NOW, tz="UTC")


def _python(type_name, groups):
    test = C.evaluator(groups, type_name, now=NOW, tz="UTC")
    model = record_model(type_name)
    return sorted(r["id"] for r in model.select().dicts() if test(r))


def _sql(type_name, groups):
    model = record_model(type_name)
    where = C.compile_criteria(groups, type_name, now=NOW, tz="UTC")
    return sorted(r.id for r in model.select(model.id).where(where))


def test_builtin_associations_seen_from_both_ends(any_db):
    assert {n: (a.other_type, a.many) for n, a in associations_of("contact").items()} == {
        "company": ("company", False), "deals": ("deal", True), "tickets": ("ticket", True)}
    assert {n: (a.other_type, a.many) for n, a in associations_of("deal").items()} == {
        "contacts": ("contact", True), "company": ("company", False)}
    assert set(associations_of("company")) == {"contacts", "deals"}
    assert {n: a.other_type for n, a in associations_of("ticket").items()} == {"contact": "contact"}
    big = create_record("company", {"name": "Big"})
    small = create_record("company", {"name": "Small"})
    ann = create_record("contact", {"firstname": "Ann"})
    link("contact", "company", [(ann, big)])
    link("contact", "company", [(ann, small)])  # many to one: the newer link replaces the older
    assert linked_ids("contact", "company", ann) == [small]
    assert linked_ids("company", "contacts", small) == [ann] and linked_ids("company", "contacts", big) == []


def test_criteria_on_associated_properties_sql_and_python_agree(any_db):
    big = create_record("company", {"name": "Big", "num_employees": 900})
    small = create_record("company", {"name": "Small", "num_employees": 20})
    unknown = create_record("company", {"name": "Unknown"})
    people = [create_record("contact", {"firstname": n}) for n in ("a", "b", "c", "d")]
    link("contact", "company", [(people[0], big), (people[1], small), (people[2], unknown)])
    won = create_record("deal", {"dealname": "W", "dealstage": "closed_won"})
    lost = create_record("deal", {"dealname": "L", "dealstage": "closed_lost"})
    won2 = create_record("deal", {"dealname": "W2", "dealstage": "closed_won"})
    link("deal", "contacts", [(won, people[1]), (won, people[3]), (lost, people[0]), (won2, people[1])])
    cases = {
        "company.num_employees > 500": ([[{"association": "company", "property": "Number of Employees",
                                           "operator": "gt", "value": 500}]], [people[0]]),
        "company.num_employees unknown": ([[{"association": "company", "property": "num_employees",
                                             "operator": "unknown"}]], [people[2]]),
        "any deal closed won": ([[{"association": "deals", "property": "dealstage", "operator": "eq",
                                   "value": "Closed Won"}]], [people[1], people[3]]),
        "not (any deal closed won) via none_of": ([[{"association": "deals", "property": "dealstage",
                                                     "operator": "is_none_of", "value": ["closed_won"]}]],
                                                  [people[0]]),
        "or with an own property": ([[{"association": "company", "property": "name", "operator": "eq",
                                       "value": "small"}], [{"property": "firstname", "operator": "eq",
                                                              "value": "D"}]], [people[1], people[3]]),
    }
    for name, (groups, expected) in cases.items():
        assert _sql("contact", groups) == expected, name
        assert _python("contact", groups) == expected, name
        assert _count("contact", groups) == len(expected), name  # people[1] has two won deals: counted once
    # the complement is exact (suppression relies on it)
    groups = cases["company.num_employees > 500"][0]
    where = C.compile_criteria(groups, "contact", now=NOW, tz="UTC")
    model = record_model("contact")
    assert sorted(r.id for r in model.select(model.id).where(~where)) == people[1:]
    # from the company side: a to-many association
    assert _sql("company", [[{"association": "contacts", "property": "firstname", "operator": "eq",
                              "value": "a"}]]) == [big]
    assert C.describe_criteria(cases["any deal closed won"][0], "contact") == \
        "any associated Deals · Deal Stage is Closed Won"
    (name, ddl), = indexes.criteria_index_plan("contact", groups)
    assert name.startswith("rota_assoc_rec_company_") and '"num_employees"' in ddl
    with pytest.raises(RotaError, match='contact has no association "boss"; use company, deals or tickets'):
        C.validate_criteria([[{"association": "boss", "property": "x", "operator": "known"}]], "contact")
    with pytest.raises(RotaError, match='company has no property "colour"'):
        C.validate_criteria([[{"association": "company", "property": "colour", "operator": "known"}]], "contact")


def test_csv_import_fills_associations_by_id_and_by_unique_property(any_db, tmp_path):
    companies = tmp_path / "companies.csv"
    companies.write_text("Name,Domain\nBig,big.com\nSmall,small.io\nTwin,twin.org\nTwin2,twin.org\n")
    assert import_csv("company", companies, now=NOW).count == 4
    big, small = 1, 2
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("First Name,Company Domain\nAnn,BIG.com\nBo,small.io\nCy,\n")
    assert import_csv("contact", contacts, now=NOW).count == 3
    model = record_model("contact")
    ann, bo, cy = [r.id for r in model.select(model.id).order_by(model.id)]
    assert linked_ids("contact", "company", ann) == [big] and linked_ids("contact", "company", bo) == [small]
    assert linked_ids("contact", "company", cy) == []
    deals = tmp_path / "deals.csv"
    deals.write_text(f"Deal Name,Contacts,company\nD1,{ann};{bo},{small}\n")
    assert import_csv("deal", deals, now=NOW).count == 1
    assert linked_ids("deal", "contacts", 1) == [ann, bo] and linked_ids("deal", "company", 1) == [small]
    bad = tmp_path / "bad.csv"
    for text, message in (("First Name,company.domain\nEve,nope.com\n", 'no company with domain "nope.com"'),
                          ("First Name,company.domain\nEve,twin.org\n", "more than one company"),
                          ("First Name,Company\nEve,999\n", "no company with id 999")):
        bad.write_text(text)
        with pytest.raises(RotaError, match=f'line 2, column "[^"]+": {message}'):
            import_csv("contact", bad, now=NOW)
    assert model.select().count() == 3  # all or nothing


def test_a_custom_type_declares_its_own_association(any_db):
    import_type({"name": "invoice", "properties": [{"name": "total", "type": "number"}],
                 "associations": [{"name": "company", "to": "company", "cardinality": "many_to_one",
                                   "inverse": "invoices"}]})
    assert associations_of("company")["invoices"].other_type == "invoice"
    assert export_type("invoice")["associations"] == [
        {"name": "company", "label": "Company", "to": "company", "cardinality": "many_to_one", "inverse": "invoices"}]
    big = create_record("company", {"name": "Big"})
    inv = create_record("invoice", {"total": 10})
    link("invoice", "company", [(inv, big)])
    groups = [[{"association": "invoices", "property": "total", "operator": "gte", "value": 10}]]
    assert _sql("company", groups) == _python("company", groups) == [big]
    from engine.types import remove_property
    from engine.workflows import save_workflow

    save_workflow({"name": "Invoiced companies", "object_type": "company", "schedule": {"kind": "daily", "time": "08:00"},
                   "criteria": groups}, actor="t", now=NOW)
    with pytest.raises(RotaError, match='workflow "Invoiced companies" uses it'):
        remove_property("invoice", "total")
    with pytest.raises(RotaError, match='cardinality "lots" is unknown'):
        define_association("invoice", "contact", "contact", "lots")
    assert get_record("invoice", inv)["total"] == 10
