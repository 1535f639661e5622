"""A closed SSH session hangs up the app (SIGHUP): it must quit the way ``q`` does, with
the engine thread stopped and its lease released, so that the next ``rota`` runs the
engine at once instead of waiting in standby for the lease to run out. The real
``rota`` command runs in a real pseudo-terminal here."""
from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def _leases(path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT name, claimed_by FROM engine_lease").fetchall()
    finally:
        con.close()


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen, end = b"", time.monotonic() + timeout
    while time.monotonic() < end and needle not in seen:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_hangup_quits_the_app_and_releases_the_engine_lease(tmp_path, sig):
    path = tmp_path / "hup.db"
    assert subprocess.run([sys.executable, "-m", "tui.cli", "--db", str(path), "demo"],
                          capture_output=True, timeout=120).returncode == 0
    primary, secondary = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "--db", str(path)], stdin=secondary,
                            stdout=secondary, stderr=secondary, env=env, start_new_session=True)
    os.close(secondary)
    try:
        screen = _read_until(primary, b"Engine running", 60)
        assert b"Engine running" in screen, screen[-2000:]
        held = [row for row in _leases(path) if row[1]]
        assert held, "the engine holds the store lease while the app runs"
        proc.send_signal(sig)
        _read_until(primary, b"\x00never", 3)  # drain what the app writes as it closes
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    assert [row for row in _leases(path) if row[1]] == []  # released, not left to expire
