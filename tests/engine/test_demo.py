"""Demo data: counts, realism, determinism, index rebuild, sample workflows (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest

from engine import demo
from engine.demo import COUNTRIES, load_demo, sample_workflows
from engine.schedule.base import KINDS
from models.db import db
from models.errors import RotaError
from models.objects import get_type, record_model
from models.schema import Workflow

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CITY_COUNTRY = {(city, c.name) for c in COUNTRIES for city in c.cities}


def _rows(type_name: str) -> list[dict]:
    model = record_model(type_name)
    return list(model.select().order_by(model.id).dicts())


def test_counts_and_realistic_contacts(any_db):
    out = load_demo(contacts=2000, companies=40, deals=60, tickets=50, seed=7, now=NOW, workflows=False)
    assert {k: out[k] for k in ("contacts", "companies", "deals", "tickets")} == \
        {"contacts": 2000, "companies": 40, "deals": 60, "tickets": 50}
    assert out["workflows_created"] == 0 and Workflow.select().count() == 0
    contacts = _rows("contact")
    assert len(contacts) == 2000
    three_years_ago = NOW - timedelta(days=3 * 365 + 1)
    for c in contacts:
        assert three_years_ago <= c["createdate"] <= NOW
        if c["last_activity_date"] is not None:
            assert c["createdate"] <= c["last_activity_date"] <= NOW
        assert (c["city"], c["country"]) in CITY_COUNTRY
        local, _, domain = c["email"].partition("@")
        assert local and "." in domain and c["email"].isascii() and c["email"] == c["email"].lower()
        assert c["firstname"] and c["lastname"] and c["owner"] in demo.OWNERS
    stages = Counter(c["lifecycle_stage"] for c in contacts)
    assert stages["subscriber"] + stages["lead"] > 0.4 * 2000  # the top of the funnel dominates
    assert 0 < stages["evangelist"] < 0.03 * 2000
    assert stages[None] > 0  # some contacts have no stage: "unknown" criteria have something to find
    assert len({c["country"] for c in contacts}) >= 10
    assert len({(c["firstname"], c["lastname"]) for c in contacts}) > 1000
    assert sum(c["last_activity_date"] is None for c in contacts) > 0


def test_companies_deals_tickets_are_consistent(sqlite_db):
    load_demo(contacts=0, companies=200, deals=300, tickets=200, seed=3, now=NOW, workflows=False)
    assert _rows("contact") == []
    for co in _rows("company"):
        assert co["domain"] and co["name"].split()[0].lower() == co["domain"].split(".")[0]
        assert 1 <= co["num_employees"] <= 10_000 and co["annual_revenue"] > 0
        assert (co["city"], co["country"]) in CITY_COUNTRY
    today = NOW.date()
    deals = _rows("deal")
    assert {d["dealstage"] for d in deals} >= {"closed_won", "closed_lost", "appointment_scheduled"}
    for d in deals:
        assert d["amount"] > 0 and " – " in d["dealname"]
        if d["dealstage"].startswith("closed"):
            assert d["closedate"] <= today
        else:
            assert d["closedate"] > today
    tickets = _rows("ticket")
    assert Counter(t["status"] for t in tickets).most_common(1)[0][0] == "closed"
    assert all("{" not in t["subject"] for t in tickets)


def test_same_seed_same_data_and_reruns_add(sqlite_db):
    load_demo(contacts=500, companies=5, deals=5, tickets=5, seed=11, now=NOW, workflows=False)
    load_demo(contacts=500, companies=5, deals=5, tickets=5, seed=11, now=NOW, workflows=False)
    load_demo(contacts=500, companies=0, deals=0, tickets=0, seed=12, now=NOW, workflows=False)
    rows = [{k: v for k, v in r.items() if k != "id"} for r in _rows("contact")]
    assert len(rows) == 1500
    assert rows[:500] == rows[500:1000]
    assert rows[:500] != rows[1000:]


def test_big_load_rebuilds_secondary_indexes(any_db, monkeypatch):
    from models.indexes import ensure_criteria_indexes

    ensure_criteria_indexes("contact", [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead"]},
                                         {"property": "createdate", "operator": "in_last_days", "value": 7}]])
    table = get_type("contact").table_name
    before = sorted(demo._secondary_indexes(table))
    assert before, "the record table has an advisor index to rebuild"
    dropped: list[str] = []
    real = db.execute_sql

    def spy(sql, *args, **kwargs):
        if sql.startswith("DROP INDEX"):
            dropped.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(demo, "REINDEX_MIN_ROWS", 100)
    monkeypatch.setattr(db.obj, "execute_sql", spy)
    load_demo(contacts=300, companies=0, deals=0, tickets=0, now=NOW, workflows=False)
    assert len(dropped) == len(before)
    assert sorted(demo._secondary_indexes(table)) == before
    assert record_model("contact").select().count() == 300


def test_a_failed_load_leaves_nothing(sqlite_db, monkeypatch):
    def broken(rng, n, now_us):
        yield from demo.company_rows(rng, 5, now_us)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(demo, "ticket_rows", broken)
    with pytest.raises(RuntimeError):
        load_demo(contacts=100, companies=10, deals=0, tickets=10, now=NOW, workflows=False)
    assert record_model("contact").select().count() == 0
    assert record_model("company").select().count() == 0


def test_sample_workflows_cover_every_schedule_kind(any_db):
    out = load_demo(contacts=200, companies=10, deals=20, tickets=20, now=NOW)
    assert out["workflows_created"] == len(sample_workflows()) and out["workflows_skipped"] == 0
    wfs = list(Workflow.select())
    assert {wf.schedule["kind"] for wf in wfs} == set(KINDS)
    assert {wf.status for wf in wfs} == {"active", "draft", "paused"}
    assert {wf.object_type.name for wf in wfs} >= {"contact", "deal", "ticket"}
    used = {s["type"] for wf in wfs for s in wf.actions}
    used |= {s["type"] for wf in wfs for b in wf.actions if b["type"] == "branch" for s in b["then"] + b["else"]}
    assert used >= {"set_property", "create_task", "notify", "delay", "branch", "add_to_list", "webhook"}
    for wf in wfs:
        for step in wf.actions:
            if step["type"] == "webhook":  # the demo never calls out
                assert urlparse(step["url"]).hostname == "127.0.0.1" and wf.status == "draft"
    assert all(wf.next_run_at is not None for wf in wfs if wf.status == "active")
    again = load_demo(contacts=10, companies=0, deals=0, tickets=0, now=NOW)
    assert (again["workflows_created"], again["workflows_skipped"]) == (0, len(wfs))
    assert Workflow.select().count() == len(wfs)
    assert record_model("contact").select().count() == 210


def test_rerun_keeps_an_edited_sample_workflow(sqlite_db):
    load_demo(contacts=0, companies=0, deals=0, tickets=0, now=NOW)
    Workflow.update(status="paused").where(Workflow.name == "Daily new-lead triage").execute()
    load_demo(contacts=0, companies=0, deals=0, tickets=0, now=NOW)
    assert Workflow.get(Workflow.name == "Daily new-lead triage").status == "paused"


@pytest.mark.parametrize("bad", [-1, "10", True])
def test_counts_must_be_whole_numbers(sqlite_db, bad):
    with pytest.raises(RotaError, match="--contacts: expected a whole number"):
        load_demo(contacts=bad, now=NOW, workflows=False)


def test_demo_records_are_associated(any_db):
    from models.associations import linked_ids
    from models.criteria import count_matching
    from models.schema import AssociationLink

    out = load_demo(contacts=200, companies=20, deals=30, tickets=40, workflows=False, now=NOW)
    assert out["links"] == AssociationLink.select().count() > 0
    contacts = record_model("contact")
    linked = [c.id for c in contacts.select(contacts.id) if linked_ids("contact", "company", c.id)]
    assert 140 <= len(linked) <= 180  # 8 in 10 contacts work at a company
    deals = record_model("deal")
    for d in deals.select(deals.id):
        assert len(linked_ids("deal", "company", d.id)) == 1 and 1 <= len(linked_ids("deal", "contacts", d.id)) <= 2
    big = [[{"association": "company", "property": "num_employees", "operator": "gt", "value": 500}]]
    assert 0 < count_matching("contact", big, now=NOW, tz="UTC") < len(linked)


def test_sample_workflow_files_are_import_fixtures(any_db):
    from engine.demo import DATA
    from engine.workflows import export_workflow, import_workflow_file

    files = sorted((DATA / "workflows").glob("*.json"))
    assert len(files) == len(sample_workflows()) >= 7
    for path in files:
        wf = import_workflow_file(path, actor="test", now=NOW)
        body = json.loads(path.read_text(encoding="utf-8"))
        assert export_workflow(wf.name)["criteria"] == body["criteria"]
