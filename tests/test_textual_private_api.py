"""tui/app.py overrides Textual's private ``App._handle_exception`` (so an unhandled
error is logged and the app exits with one line instead of painting a traceback).

``textual`` is therefore allowed a compatible range in pyproject.toml, and this test is
the guard: it fails when a Textual release changes the method or the private state the
override relies on, so the override is re-read against the new code before upgrading.
tests/constraints.txt pins the version the snapshots were taken with.
"""
import hashlib
import inspect
import re

import textual.app
from textual.app import App

# sha256 of ``inspect.getsource(App._handle_exception)`` in the reviewed version.
REVIEWED = {"baea2e7f88e7ac52e1f66886fe613f74b201a8857a670fc06306dded15d37bee"}


def test_textuals_handle_exception_is_the_reviewed_one():
    source = inspect.getsource(App._handle_exception)
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest in REVIEWED, (
        f"textual {textual.__version__ if hasattr(textual, '__version__') else '?'} changed "
        f"App._handle_exception; re-check RotaApp._handle_exception in tui/app.py, then add {digest}")


def test_the_private_state_the_override_uses_exists():
    source = inspect.getsource(textual.app.App)
    for pattern in (r"self\._exception\b", r"self\._exception_event\b", r"self\._return_code\b"):
        assert re.search(pattern, source), pattern
    assert callable(getattr(App, "_close_messages_no_wait", None))  # from MessagePump
    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]


def test_rota_app_still_overrides_it():
    from tui.app import RotaApp

    assert RotaApp._handle_exception is not App._handle_exception
