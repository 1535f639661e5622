"""Fixtures for running the real ``rota`` command in-process."""
from __future__ import annotations

from pathlib import Path

import pytest

from models import db as dbmod
from tui.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def run(sqlite_url, capsys):
    """Run ``rota --db <fresh file> ARGS…``; returns (exit code, stdout, stderr)."""
    def _run(*args: str):
        code = main(["--db", sqlite_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    yield _run
    dbmod.close_database()
