"""Rota's log file: private (0600, in a 0700 directory) and rotated by size.

The log holds workflow names, record ids and error details, so other users of the
machine must not read it; an engine that runs for months must not fill the disk.
"""
from __future__ import annotations

import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024  # rotate at 5 MiB …
BACKUPS = 3  # … keeping rota.log.1 … rota.log.3 (20 MiB at most)


class PrivateRotatingFile(RotatingFileHandler):
    """A ``RotatingFileHandler`` whose files are created 0600 (an existing file too is
    made 0600 when opened), whatever the umask."""

    def __init__(self, path: str | Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")

    def _open(self):  # the stdlib hook that opens the stream
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)
