"""The step dialog's parts for issue 11/13: the template preview against a real record,
the webhook method and masked URL secrets, and the send_email step — driven by keys."""
from __future__ import annotations

from datetime import datetime

from models.objects import create_record
from models.timeutil import UTC
from tests.tui.test_editor import EditorHost, choose, replace_text, type_text

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def _wait_preview(pilot, text: str) -> str:
    for _ in range(100):
        await pilot.pause(0.05)
        shown = str(pilot.app.screen.query_one("#sd-preview").render())
        if text in shown:
            return shown
    return str(pilot.app.screen.query_one("#sd-preview").render())


async def test_preview_renders_the_field_against_a_real_record(sqlite_db):
    from tui.screens.step_dialog import StepDialog

    rid = create_record("contact", {"firstname": "Zoë", "email": "z+1@x.io"}, now=NOW)
    app = EditorHost(lambda: StepDialog("contact"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(pilot, "Create t")
        await pilot.press("tab")
        await type_text(pilot, "Call {firstname} [b]now[/b]")
        shown = await _wait_preview(pilot, "Call Zoë")
        assert shown == f"Preview (contact {rid}): Call Zoë [b]now[/b]"  # record text, never markup
    assert app.result == "not dismissed"


async def test_webhook_method_and_masked_url_secret_round_trip(sqlite_db):
    from tui.screens.step_dialog import StepDialog

    create_record("contact", {"firstname": "Ann", "email": "a+b@x.io"}, now=NOW)
    step = {"type": "webhook", "url": "https://example.com/h?token=T0P&e={email}", "method": "PUT",
            "headers": {"Authorization": "Bearer s3cret"}, "timeout_s": 5, "retries": 1}
    app = EditorHost(lambda: StepDialog("contact", step))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        url = app.screen.query_one("#f-url").value
        assert url == "https://example.com/h?token=***&e={email}"
        shown = await _wait_preview(pilot, "a%2Bb%40x.io")
        assert "token=***" in shown and "T0P" not in shown
        await pilot.press("tab", "tab", "tab", "tab")  # headers, timeout, retries, method
        assert app.focused.id == "f-method"
        await choose(pilot, "PATCH")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == {**step, "method": "PATCH"}  # the URL secret kept, never shown


async def test_send_email_step_by_keys(sqlite_db):
    from tui.screens.step_dialog import StepDialog

    app = EditorHost(lambda: StepDialog("contact"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(pilot, "Send e-m")
        await pilot.press("tab", "tab")  # "To property" is the e-mail already
        await type_text(pilot, "Renewal, {firstname}")
        await pilot.press("tab")
        await type_text(pilot, "Dear {nope}")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "not dismissed"
        assert "body uses {nope}" in str(app.screen.query_one("#sd-error").render())
        await replace_text(pilot, "Dear {firstname}")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == {"type": "send_email", "to_property": "email", "subject": "Renewal, {firstname}",
                          "body": "Dear {firstname}"}
