"""The log file (``rota engine`` and every command): created 0600, rotated by size."""
from __future__ import annotations

import logging
import os
import stat

from engine.logfile import PrivateRotatingFile


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_log_file_is_private_and_rotates_by_size(tmp_path):
    old = os.umask(0o022)  # a typical umask would make it world-readable
    try:
        path = tmp_path / "logs" / "rota.log"
        handler = PrivateRotatingFile(path, max_bytes=2000, backups=2)
        log = logging.getLogger("rota.test.logfile")
        log.propagate = False
        log.addHandler(handler)
        try:
            for i in range(200):
                log.warning("line %d %s", i, "x" * 40)
        finally:
            log.removeHandler(handler)
            handler.close()
    finally:
        os.umask(old)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["rota.log", "rota.log.1", "rota.log.2"]  # bounded: two backups, no more
    assert all(_mode(path.parent / f) == 0o600 for f in files)
    assert _mode(path.parent) == 0o700
    assert all(os.path.getsize(path.parent / f) <= 2100 for f in files)
    assert "line 199" in path.read_text(encoding="utf-8")


def test_an_existing_world_readable_log_is_made_private(tmp_path):
    path = tmp_path / "rota.log"
    path.write_text("old\n", encoding="utf-8")
    os.chmod(path, 0o644)
    handler = PrivateRotatingFile(path)
    handler.close()
    assert _mode(path) == 0o600 and path.read_text(encoding="utf-8") == "old\n"
