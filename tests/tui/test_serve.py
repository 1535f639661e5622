"""``rota serve``: the real app in real headless Chromium, and the token gate.

The browser test starts ``rota serve`` on a free loopback port, opens it in Debian's
``chromium`` driven over the DevTools protocol (aiohttp's websocket client, no extra
dependency), waits until the app has drawn, and checks three things:
- the terminal stream the page received and wrote into xterm.js holds the home
  screen's workflow list (the workflow's name, the "Name" heading);
- textual.js marked the page connected and fed bytes to the terminal;
- the screenshot is a real rendering: a PNG of the window's size whose pixels are far
  from uniform (the workflow table draws text in several colours).
The screenshot is kept next to the test's files for a person to look at.
In CI (``CI=true``) a missing Chromium fails the test instead of skipping it.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

from tests.e2e.conftest import DATA
from tui.cli import main
from tui.commandline.serve_cmd import COOKIE, is_loopback

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                  "--window-size=1280,800"]
# Installed before the page's scripts run: keeps the text of every binary websocket frame
# (the terminal output textual.js writes into xterm.js), escape sequences removed.
CAPTURE = r"""
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__rotaScreen = "";
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__rotaScreen += decoder.decode(new Uint8Array(event.data), {stream: true})
          .replace(/\x1b\[[0-9;?:]*[ -\/]*[@-~]/g, "").replace(/\x1b[\]P_^][^\x07\x1b]*(\x07|\x1b\\)/g, "");
      }
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


def _chromium() -> str | None:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # the server answers (403 is an answer)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def _serve(db: str, port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tui.cli", "--db", db, "serve", "--port", str(port), *extra],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


async def _browse(chromium: str, url: str, profile: Path, shot: Path) -> dict:
    from aiohttp import ClientSession

    browser = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            await asyncio.sleep(0.2)
        devtools_port = int(port_file.read_text().split()[0])
        async with ClientSession() as http:
            targets = []
            while not any(t.get("type") == "page" for t in targets):
                async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as resp:
                    targets = await resp.json()
            page = next(t for t in targets if t.get("type") == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                ids = iter(range(1, 1_000_000))

                async def call(method: str, **params):
                    msg_id = next(ids)
                    await ws.send_json({"id": msg_id, "method": method, "params": params})
                    while True:
                        msg = json.loads((await ws.receive()).data)
                        if msg.get("id") == msg_id:
                            assert "error" not in msg, msg
                            return msg.get("result", {})

                async def js(expression: str):
                    result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
                    return result["result"].get("value")

                await call("Page.enable")
                await call("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE)
                await call("Page.navigate", url=url)
                deadline = time.monotonic() + 90
                screen = ""
                while time.monotonic() < deadline:
                    screen = await js("window.__rotaScreen || ''") or ""
                    if "Friday customer check-in" in screen and "Name" in screen:
                        break
                    await asyncio.sleep(0.5)
                await asyncio.sleep(1.0)  # let xterm.js paint the last frame before the screenshot
                classes = await js("document.body.className")
                shot.write_bytes(base64.b64decode((await call("Page.captureScreenshot", format="png"))["data"]))
                return {"screen": screen, "classes": classes}
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=15)
        except subprocess.TimeoutExpired:
            browser.kill()


def test_rota_serve_in_headless_chromium_shows_the_workflow_list(tmp_path, capsys):
    chromium = _chromium()
    db = str(tmp_path / "rota.db")
    assert main(["--db", db, "workflow", "import", str(DATA / "workflow_spec_example.json")]) == 0
    capsys.readouterr()
    port = _free_port()
    server = _serve(db, port, "--no-engine")
    try:
        _wait_http(f"http://127.0.0.1:{port}/")
        shot = tmp_path / "rota-serve.png"
        seen = asyncio.run(_browse(chromium, f"http://127.0.0.1:{port}/", tmp_path / "profile", shot))
    finally:
        _stop(server)
    assert "Friday customer check-in" in seen["screen"], seen["screen"][-2000:]
    assert "-first-byte" in seen["classes"] and "-closed" not in seen["classes"], seen["classes"]
    width, height, rows = _png_pixels(shot.read_bytes())
    assert width == 1280 and height > 400  # the window's viewport (the height loses the headless frame)
    step = 3 if len(rows[0]) == width * 3 else 4
    pixels = [row[i:i + 3] for row in rows[::8] for i in range(0, len(row), step * 8)]
    background = max(set(pixels), key=pixels.count)
    drawn = sum(p != background for p in pixels) / len(pixels)
    assert len(set(pixels)) >= 8 and drawn > 0.02, (len(set(pixels)), drawn)
    keep = os.environ.get("ROTA_SERVE_SCREENSHOT")  # for a person to look at
    if keep:
        shutil.copyfile(shot, keep)


def test_a_request_without_the_token_is_refused(tmp_path, capsys):
    db = str(tmp_path / "rota.db")
    assert main(["--db", db, "workflow", "import", str(DATA / "workflow_spec_example.json")]) == 0
    capsys.readouterr()
    port = _free_port()
    server = _serve(db, port, "--token", "--no-engine")
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/")
        for path in ("/", "/ws", "/static/js/textual.js", "/?token=wrong"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=10)
            assert refused.value.code == 403, path
        # A websocket upgrade without the token is refused before it reaches the app.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 403")
    finally:
        _stop(server)
    err = server.stderr.read()
    token_lines = [line for line in err.splitlines() if "?token=" in line]
    assert len(token_lines) == 1, err  # printed once
    token = token_lines[0].rsplit("?token=", 1)[1].strip()
    assert len(token) >= 32 and token not in err.replace(token_lines[0], "")


def test_the_token_lets_the_page_and_its_websocket_in(tmp_path, capsys):
    db = str(tmp_path / "rota.db")
    assert main(["--db", db, "workflow", "import", str(DATA / "workflow_spec_example.json")]) == 0
    capsys.readouterr()
    port = _free_port()
    server = _serve(db, port, "--token", "--no-engine")
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/")
        deadline = time.monotonic() + 30
        token = ""
        while not token and time.monotonic() < deadline:
            line = server.stderr.readline()
            if "?token=" in line:
                token = line.rsplit("?token=", 1)[1].strip()
        with urllib.request.urlopen(f"{base}/?token={token}", timeout=10) as page:
            assert page.status == 200 and f"{COOKIE}={token}" in page.headers["Set-Cookie"]
            assert "HttpOnly" in page.headers["Set-Cookie"] and "textual-terminal" in page.read().decode()
        request = urllib.request.Request(base + "/static/js/textual.js", headers={"Cookie": f"{COOKIE}={token}"})
        with urllib.request.urlopen(request, timeout=10) as asset:
            assert asset.status == 200
    finally:
        _stop(server)


def test_loopback_needs_no_token_but_other_hosts_do():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("example.org")


def test_the_page_points_its_websocket_at_the_address_the_browser_used(tmp_path, capsys):
    db = str(tmp_path / "rota.db")
    assert main(["--db", db, "workflow", "import", str(DATA / "workflow_spec_example.json")]) == 0
    capsys.readouterr()
    port = _free_port()
    server = _serve(db, port, "--no-engine")
    try:
        _wait_http(f"http://127.0.0.1:{port}/")
        with urllib.request.urlopen(f"http://localhost:{port}/", timeout=10) as page:
            html = page.read().decode()
    finally:
        _stop(server)
    assert f'data-session-websocket-url="ws://localhost:{port}/ws"' in html
    assert f"http://localhost:{port}/static/" in html
