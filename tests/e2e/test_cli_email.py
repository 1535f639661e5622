"""End to end through ``rota``: contacts from a CSV (one opted out, one without an
address), a workflow file with a send_email step, ``rota engine --once`` delivering to a
real aiosmtpd server on 127.0.0.1, and ``rota history --json`` saying what happened."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from models.timeutil import UTC
from tests.engine.test_email_smtp import SMTPTestServer


def test_send_email_through_the_cli(run, tmp_path, monkeypatch):
    csv = tmp_path / "contacts.csv"
    csv.write_text("First Name,Email,Email Opt-Out\nAnn,ann@example.com,false\nOut,out@example.com,true\n"
                   "Nob,,false\n", encoding="utf-8")
    assert run("import", "contact", str(csv))[0] == 0
    past = (datetime.now(UTC) - timedelta(minutes=3)).strftime("%H:%M")
    body = {"name": "Renewals", "object_type": "contact", "status": "active",
            "schedule": {"kind": "daily", "time": past, "timezone": "UTC"},
            "actions": [{"type": "send_email", "to_property": "email", "subject": "Renewal, {firstname}",
                         "body": "Dear {firstname}, your plan renews on the 28th."}]}
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(body), encoding="utf-8")
    with SMTPTestServer() as server:
        monkeypatch.setenv("ROTA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROTA_SMTP_PORT", str(server.port))
        monkeypatch.setenv("ROTA_SMTP_PASSWORD", "pw-never-shown")
        code, out, err = run("workflow", "import", str(wf))
        assert code == 0, err
        # Today's run time has passed: enroll now, as a manual run would, then let the engine send.
        for rid in (1, 2, 3):
            assert run("enroll", "Renewals", str(rid))[0] == 0
        code, out, err = run("engine", "--once")
        assert code == 0, err
    assert [m["to"] for m in server.messages] == [["ann@example.com"]]
    assert server.messages[0]["msg"]["Subject"] == "Renewal, Ann"
    code, out, _ = run("history", "Renewals", "--json")
    assert code == 0 and "pw-never-shown" not in out
    events = json.loads(out)
    events = events if isinstance(events, list) else events.get("events", [])
    skipped = sorted(e["detail"]["reason"] for e in events if e["type"] == "step_skipped")
    assert skipped == ["no e-mail address (email is empty)", "opted out (email_opt_out is true)"]
    assert [e["type"] for e in events if e["type"] == "step_succeeded"] == ["step_succeeded"]
