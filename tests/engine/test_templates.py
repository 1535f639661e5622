"""One template language in every text field (issue 11 item 1): rendering rules,
save-time refusal of unknown placeholders naming the step and field, the editor's
preview against a real record, and every templated field end to end through the
engine, with a real local HTTP server."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from engine.clock import FakeClock
from engine.engine import Engine
from engine.steps.shapes import validate_actions
from engine.steps.templates import preview, render, render_url
from models.errors import RotaError
from models.objects import create_record, get_record
from models.schema import HistoryEvent, Notification, Task
from models.timeutil import UTC, zone
from tests.engine.servers import HTTPServer
from tests.engine.test_actions import make_workflow

T0 = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)


def test_values_render_as_text_and_unknown_values_render_empty(sqlite_db):
    rid = create_record("contact", {"firstname": "Ann", "lifecycle_stage": "customer"}, now=T0)
    rec = get_record("contact", rid)
    tz = zone("Europe/Stockholm")
    assert render("{firstname} {lastname}|{Lifecycle Stage}|{id}", rec, "contact", tz) == f"Ann |Customer|{rid}"
    assert render("{createdate}", rec, "contact", tz) == "2026-03-02 08:59"  # in the workflow's zone
    assert render("{{literal}} {firstname}", rec, "contact", tz) == "{literal} Ann"


def test_url_values_are_percent_encoded_so_they_cannot_change_the_url(sqlite_db):
    rid = create_record("contact", {"firstname": "A&b=c/../?x", "email": "a+b@x.com"}, now=T0)
    url = render_url("http://127.0.0.1/rt?email={email}&n={firstname}", get_record("contact", rid), "contact",
                     zone("UTC"))
    assert url == "http://127.0.0.1/rt?email=a%2Bb%40x.com&n=A%26b%3Dc%2F..%2F%3Fx"
    assert parse_qs(urlsplit(url).query) == {"email": ["a+b@x.com"], "n": ["A&b=c/../?x"]}


@pytest.mark.parametrize("step, field", [
    ({"type": "webhook", "url": "http://127.0.0.1/live?id={idd}"}, "url"),
    ({"type": "webhook", "url": "http://127.0.0.1/x", "headers": {"X-Who": "{nope}"}}, 'headers["X-Who"]'),
    ({"type": "notify", "to": ["olga"], "message": "Hi {nope}"}, "message"),
    ({"type": "create_task", "title": "Call {nope}"}, "title"),
    ({"type": "create_task", "title": "Call", "owner": "{nope}"}, "owner"),
    ({"type": "set_property", "property": "city", "value": "{nope} town"}, "value"),
    ({"type": "send_email", "to_property": "email", "subject": "Hi {nope}", "body": "x"}, "subject"),
    ({"type": "send_email", "to_property": "email", "subject": "Hi", "body": "Dear {nope}"}, "body"),
])
def test_unknown_placeholders_are_refused_naming_step_and_field(sqlite_db, step, field):
    with pytest.raises(RotaError) as err:
        validate_actions([{"type": "delay", "days": 1}, step], "contact")
    message = str(err.value)
    assert message.startswith(f"actions step 2 ({step['type']}): {field} uses {{")
    assert "not a property of contact" in message


def test_malformed_and_empty_placeholders_are_refused(sqlite_db):
    with pytest.raises(RotaError, match=r"actions step 1 \(notify\): message: .*malformed"):
        validate_actions([{"type": "notify", "to": ["o"], "message": "Hi {firstname"}], "contact")
    with pytest.raises(RotaError, match=r"empty \{\}"):
        validate_actions([{"type": "create_task", "title": "Call {}"}], "contact")
    with pytest.raises(RotaError, match="path and query only"):
        validate_actions([{"type": "webhook", "url": "http://{city}.example.com/x"}], "contact")


def test_preview_renders_against_a_real_record(sqlite_db):
    assert preview("Call {firstname}", "contact", zone("UTC")) == ("Call {firstname}", None)  # no records yet
    create_record("contact", {"firstname": "Old"}, now=T0)
    rid = create_record("contact", {"firstname": "Zoë", "email": "z@x.io"}, now=T0)
    assert preview("Call {firstname}", "contact", zone("UTC")) == ("Call Zoë", rid)
    assert preview("http://h/x?e={email}", "contact", zone("UTC"), url=True) == ("http://h/x?e=z%40x.io", rid)
    assert preview("bad {", "contact", zone("UTC")) == ("bad {", None)


def test_every_text_field_is_filled_end_to_end(sqlite_db, sqlite_url):
    rid = create_record("contact", {"firstname": "Ann Lee", "email": "ann+1@x.com", "owner": "olga"}, now=T0)
    with HTTPServer() as http:
        make_workflow([
            {"type": "set_property", "property": "jobtitle", "value": "Lead of {firstname}"},
            {"type": "create_task", "title": "Call {firstname}", "owner": "{owner}"},
            {"type": "notify", "to": ["olga"], "message": "{firstname} <{email}>"},
            {"type": "webhook", "url": http.url + "?id={id}&email={email}",
             "headers": {"X-Record": "{firstname}", "Authorization": "Bearer k-{id}"}},
        ])
        engine = Engine(sqlite_url, clock=FakeClock(T0 + timedelta(minutes=1)), engine_id="t")
        engine.run_pending()
        assert len(http.requests) == 1
        req = http.requests[0]
    assert get_record("contact", rid)["jobtitle"] == "Lead of Ann Lee"
    assert Task.get().title == "Call Ann Lee" and Task.get().owner == "olga"
    assert Notification.get().message == "Ann Lee <ann+1@x.com>"
    assert req["path"] == f"/hook?id={rid}&email=ann%2B1%40x.com"
    assert req["headers"]["X-Record"] == "Ann Lee" and req["headers"]["Authorization"] == f"Bearer k-{rid}"
    hook = json.loads(HistoryEvent.select().where(HistoryEvent.type == "step_succeeded")
                      .order_by(HistoryEvent.id.desc()).first().detail)
    assert hook["url"].endswith(f"/hook?id={rid}&email=ann%2B1%40x.com")  # the address really called
    assert hook["headers"] == {"X-Record": "***", "Authorization": "***"}
