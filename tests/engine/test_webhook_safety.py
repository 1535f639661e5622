"""Webhooks that cannot leak (issue 11 item 2), against real local servers on 127.0.0.1:
no redirects, honoured methods, no credentials in URLs, every secret masked wherever a
step is shown, and the settings' allow-list of hosts."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine import workflows as wfs
from engine.clock import FakeClock
from engine.engine import Engine
from engine.history import history
from engine.steps.shapes import describe_step, mask_actions, validate_actions
from engine.webhook import WebhookRequest, send
from models.errors import RotaError
from models.objects import create_record
from models.schema import AuditEntry, Enrollment, HistoryEvent
from models.timeutil import UTC
from tests.engine.servers import HTTPServer
from tests.engine.test_actions import make_workflow

T0 = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)


def _run(sqlite_url, at=T0 + timedelta(minutes=1)):
    engine = Engine(sqlite_url, clock=FakeClock(at), engine_id="t")
    engine.run_pending()


def _events(kind):
    return [json.loads(e.detail) for e in HistoryEvent.select().where(HistoryEvent.type == kind)]


def test_a_redirect_is_a_failure_naming_the_location_and_is_never_followed(sqlite_db, sqlite_url):
    create_record("contact", {"firstname": "Ann"}, now=T0)
    with HTTPServer() as other, HTTPServer() as hook:
        hook.script = [(302, 0, {"Location": other.url + "?token=SUPERSECRET&x=1"})]
        make_workflow([{"type": "webhook", "url": hook.url,
                        "headers": {"Authorization": "Bearer s3cr3t", "X-Api-Key": "k3y"}, "retries": 3}])
        _run(sqlite_url)
        assert len(hook.requests) == 1 and other.requests == []  # nothing went to the Location
    failed = _events("step_failed")
    assert len(failed) == 1 and not _events("step_succeeded") and not _events("step_retry")
    error = failed[0]["error"]
    assert "HTTP 302 redirect to " + other.url + "?token=***&x=1" in error and "not followed" in error
    assert "SUPERSECRET" not in json.dumps(failed) and Enrollment.get().state == "failed"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "post"])
def test_method_is_honoured(sqlite_db, sqlite_url, method):
    create_record("contact", {"firstname": "Ann"}, now=T0)
    with HTTPServer() as hook:
        make_workflow([{"type": "webhook", "url": hook.url, "method": method}])
        _run(sqlite_url)
        assert [r["method"] for r in hook.requests] == [method.upper()]
        assert hook.requests[0]["body"]["record"]["firstname"] == "Ann"
    assert describe_step(validate_actions([{"type": "webhook", "url": hook.url, "method": method}],
                                          "contact")[0]).startswith(method.upper() + " ")


@pytest.mark.parametrize("method", ["GET", "DELETE", "", 7])
def test_other_methods_are_refused_when_saved(sqlite_db, method):
    with pytest.raises(RotaError, match=r"actions step 1 \(webhook\): method .* use one of POST, PUT, PATCH"):
        validate_actions([{"type": "webhook", "url": "http://127.0.0.1/x", "method": method}], "contact")


def test_credentials_in_the_url_are_refused_with_a_pointer_to_headers(sqlite_db):
    for url in ("http://user:pass@127.0.0.1/x", "https://token@127.0.0.1/x"):
        with pytest.raises(RotaError, match=r"user name or password .* send credentials in headers"):
            validate_actions([{"type": "webhook", "url": url}], "contact")


def test_every_header_and_secret_query_value_is_masked_where_shown_and_kept_on_reimport(sqlite_db, sqlite_url):
    rid = create_record("contact", {"firstname": "Ann"}, now=T0)
    with HTTPServer() as hook:
        url = hook.url + "?token=SUPERSECRET1&api_key=SUPERSECRET2&sig=SUPERSECRET4&id={id}&mode=live"
        headers = {"X-Webhook-Sig": "SUPERSECRET3", "Content-Type": "application/json", "Accept": "*/*",
                   "User-Agent": "rota-test", "X-Tenant": "acme"}
        make_workflow([{"type": "webhook", "url": url, "headers": headers}], name="hook")
        masked_url = hook.url + "?token=***&api_key=***&sig=***&id={id}&mode=live"
        masked_headers = {"X-Webhook-Sig": "***", "Content-Type": "application/json", "Accept": "*/*",
                          "User-Agent": "rota-test", "X-Tenant": "***"}

        exported = wfs.export_workflow("hook")
        step = exported["actions"][0]
        assert step["url"] == masked_url and step["headers"] == masked_headers
        assert "SUPERSECRET" not in json.dumps(exported)
        assert "SUPERSECRET" not in "".join(a.diff or "" for a in AuditEntry.select())

        _run(sqlite_url)
        assert hook.requests[0]["path"] == f"/hook?token=SUPERSECRET1&api_key=SUPERSECRET2&sig=SUPERSECRET4" \
                                           f"&id={rid}&mode=live"
        assert hook.requests[0]["headers"]["X-Webhook-Sig"] == "SUPERSECRET3"
    shown = history("hook", limit=100)
    assert shown and "SUPERSECRET" not in json.dumps(shown, default=str)
    assert "SUPERSECRET" not in "".join(e.detail or "" for e in HistoryEvent.select())
    done = _events("step_succeeded")[0]
    assert done["headers"] == masked_headers and "token=***" in done["url"] and f"id={rid}" in done["url"]

    wfs.save_workflow(exported, actor="t", now=T0)  # re-import the masked export: real values kept
    stored = wfs.workflow_body(wfs.get_workflow("hook"))["actions"][0]
    assert stored["url"] == url and stored["headers"] == headers
    with pytest.raises(RotaError, match=r'url query "token" is masked'):
        wfs.save_workflow({**exported, "name": "fresh"}, actor="t", now=T0)  # no stored secret to restore


def test_mask_actions_reaches_into_branches(sqlite_db):
    actions = [{"type": "branch", "criteria": [], "then": [
        {"type": "webhook", "url": "http://h/x?password=p&q=1", "headers": {"Authorization": "a"}}]}]
    masked = mask_actions(actions)[0]["then"][0]
    assert masked == {"type": "webhook", "url": "http://h/x?password=***&q=1", "headers": {"Authorization": "***"}}


def test_allow_hosts_limits_where_webhooks_may_go(sqlite_db, sqlite_url, monkeypatch):
    create_record("contact", {"firstname": "Ann"}, now=T0)
    monkeypatch.setenv("ROTA_WEBHOOK_ALLOW_HOSTS", "hooks.example.com, *.internal.example")
    with pytest.raises(RotaError, match=r'url: host "127.0.0.1" is not in the settings\' webhook_allow_hosts'):
        validate_actions([{"type": "webhook", "url": "http://127.0.0.1:9/x"}], "contact")
    for ok in ("https://hooks.example.com/x", "http://a.internal.example:8080/x"):
        validate_actions([{"type": "webhook", "url": ok}], "contact")
    with pytest.raises(RotaError, match="not in the settings"):
        validate_actions([{"type": "webhook", "url": "http://internal.example/x"}], "contact")

    with HTTPServer() as hook:
        monkeypatch.setenv("ROTA_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
        make_workflow([{"type": "webhook", "url": hook.url, "retries": 3}])
        # The list is narrowed after the save: the request is refused at send time, for good.
        monkeypatch.setenv("ROTA_WEBHOOK_ALLOW_HOSTS", f"localhost:{hook.server_address[1]}")
        _run(sqlite_url)
        assert hook.requests == []
    failed = _events("step_failed")
    assert len(failed) == 1 and "not in the settings' webhook_allow_hosts" in failed[0]["error"]


def test_send_checks_the_allow_list_and_port(sqlite_db):
    with HTTPServer() as hook:
        port = hook.server_address[1]
        req = WebhookRequest(url=hook.url, method="POST", headers={}, payload={}, timeout_s=5, key="k")
        assert send(req, [f"127.0.0.1:{port + 1}"]).error.startswith('host "127.0.0.1" is not')
        assert send(req, [f"127.0.0.1:{port}"]).ok and len(hook.requests) == 1
