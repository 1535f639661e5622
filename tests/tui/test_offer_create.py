"""`rota` (the app) and a missing database file: it asks on a terminal, never creates a
file or directory unasked (issue 14 §4)."""
from __future__ import annotations

import os
import subprocess
import sys

from tui.commandline.app_cmd import offer_to_create


def test_asks_on_a_terminal_and_creates_only_on_yes(tmp_path, monkeypatch):
    target = tmp_path / "new.db"
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    questions: list[str] = []
    assert offer_to_create(str(target), ask=lambda q: questions.append(q) or "n") is False
    assert questions == [f"No database at {target}. Create it? [y/N] "] and not target.exists()
    assert offer_to_create(str(target), ask=lambda q: "y") is True


def test_missing_directory_or_no_terminal_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    assert offer_to_create(str(tmp_path / "new.db"), ask=lambda q: "y") is False
    assert "no database at" in capsys.readouterr().err
    assert offer_to_create(str(tmp_path / "no" / "dir" / "x.db"), ask=lambda q: "y") is False
    assert "no directory" in capsys.readouterr().err
    existing = tmp_path / "there.db"
    existing.write_bytes(b"")
    assert offer_to_create(str(existing)) is True
    assert offer_to_create("postgresql://postgres@127.0.0.1:5432/test") is True


def test_rota_without_a_terminal_leaves_no_file_behind(tmp_path):
    target = tmp_path / "sub" / "x.db"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-m", "tui.cli", "--db", str(target)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "no directory" in done.stderr
    assert not target.parent.exists()
