"""``rota import`` draws a progress line (bar, rows/s, ETA) when stderr is a terminal,
nothing when it is not, and ctrl+c leaves the database as it was (exit 130)."""
from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import DATA
from tui.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _big_csv(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("Email,First Name,Last Name,Create Date\n")
        for i in range(rows):
            f.write(f"p{i}@example.com,Person {i},Family {i % 977},2024-01-{i % 28 + 1:02d}T10:00\n")
    return path


def _contacts(db: str) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*) FROM rec_contact").fetchone()[0]
    finally:
        con.close()


def _spawn_with_tty_stderr(argv: list[str]) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="100")
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    return proc, master


def _read_until(master: int, proc: subprocess.Popen, want: bytes | None, timeout: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            data += chunk
            if want is not None and want in data:
                break
        elif proc.poll() is not None:
            break
    return data


def _seeded(tmp_path: Path) -> str:
    db = str(tmp_path / "rota.db")
    assert main(["--db", db, "import", "contact", str(DATA / "crm_contacts_export.csv")]) == 0
    return db


def test_progress_on_a_terminal_and_nothing_when_piped(tmp_path, capsys):
    db = _seeded(tmp_path)
    big = _big_csv(tmp_path, 60_000)
    proc, master = _spawn_with_tty_stderr(["--db", db, "import", "contact", str(big)])
    tty = _read_until(master, proc, None, 120).decode("utf-8", "replace")
    out = proc.stdout.read().decode()
    assert proc.wait(timeout=60) == 0, tty
    os.close(master)
    assert out.startswith("imported 60,000 contacts")
    assert "\r" in tty and "rows/s" in tty and "importing [" in tty and "%" in tty, tty
    assert "ETA" in tty or "100%" in tty
    assert tty.rstrip(" \r\n").endswith(("\r", "")) and "rows/s" not in tty.rsplit("\r", 1)[-1]  # line cleared
    capsys.readouterr()
    assert main(["--db", db, "import", "contact", str(big)]) == 0  # stderr is not a terminal here
    assert "rows/s" not in capsys.readouterr().err


def test_ctrl_c_leaves_the_database_as_it_was(tmp_path):
    db = _seeded(tmp_path)
    before = _contacts(db)
    big = _big_csv(tmp_path, 600_000)
    proc, master = _spawn_with_tty_stderr(["--db", db, "import", "contact", str(big)])
    seen = _read_until(master, proc, b"rows/s", 120)
    assert b"rows/s" in seen, seen
    proc.send_signal(signal.SIGINT)
    rest = _read_until(master, proc, None, 60)
    code = proc.wait(timeout=60)
    os.close(master)
    message = (seen + rest).decode("utf-8", "replace")
    assert code == 130, message
    assert f"import of {big} interrupted: nothing was imported" in message
    assert "Traceback" not in message
    assert _contacts(db) == before


def test_demo_draws_progress_with_eta_on_a_terminal(tmp_path):
    db = str(tmp_path / "demo.db")
    proc, master = _spawn_with_tty_stderr(["--db", db, "demo", "--contacts", "60000", "--no-workflows"])
    tty = _read_until(master, proc, None, 180).decode("utf-8", "replace")
    out = proc.stdout.read().decode()
    assert proc.wait(timeout=60) == 0, tty
    os.close(master)
    assert out.startswith("added 60,000 contacts")
    assert "demo [" in tty and "rows/s" in tty and "%" in tty, tty


def test_progress_line_fits_80_columns():
    from models.importer import ImportProgress
    from tui.commandline.progress import progress_line

    line = progress_line(ImportProgress(rows=1_000_000, bytes_read=40, total_bytes=100, elapsed_s=8.0))
    assert len(line) <= 79 and "40%" in line and "125,000 rows/s" in line and "ETA 0:12" in line


def test_ticker_shows_elapsed_time_for_long_work_and_nothing_for_quick_work():
    import io

    from tui.commandline.progress import Ticker

    slow = io.StringIO()
    with Ticker("counting", slow, delay=0.2, force=True):
        time.sleep(0.9)
    text = slow.getvalue()
    assert "\rcounting… 0:00" in text or "\rcounting… 0:01" in text, text
    assert text.endswith("\r")  # the line is cleared at the end
    quick = io.StringIO()
    with Ticker("counting", quick, delay=0.5, force=True):
        pass
    assert quick.getvalue() == ""
    piped = io.StringIO()  # not a terminal and not forced: nothing
    with Ticker("counting", piped, delay=0.0):
        time.sleep(0.3)
    assert piped.getvalue() == ""
