"""Real local servers for the step tests: a tiny SMTP server and an HTTP endpoint.

Both listen on 127.0.0.1 on a free port, run in daemon threads and record what they
receive, so webhook and e-mail steps are tested over real sockets (Python 3.11 has no
``smtpd``; this speaks just enough SMTP for ``smtplib``).
"""
from __future__ import annotations

import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _SMTPHandler(socketserver.StreamRequestHandler):
    def _send(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self) -> None:
        server: SMTPServer = self.server  # type: ignore[assignment]
        self._send("220 localhost test SMTP")
        sender, rcpts = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._send("250 localhost")
            elif verb == "MAIL":
                if server.refuse:
                    self._send("451 try again later")
                    continue
                sender, rcpts = line.split(":", 1)[1].strip().strip("<>"), []
                self._send("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                self._send("250 OK")
            elif verb == "DATA":
                self._send("354 end with .")
                lines = []
                while True:
                    data = self.rfile.readline().decode("utf-8", "replace")
                    if data in (".\r\n", ".\n", ""):
                        break
                    lines.append(data[1:] if data.startswith("..") else data)
                with server.lock:
                    server.messages.append({"from": sender, "to": list(rcpts), "data": "".join(lines)})
                self._send("250 queued")
            elif verb == "RSET":
                sender, rcpts = None, []
                self._send("250 OK")
            elif verb == "NOOP":
                self._send("250 OK")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            else:
                self._send("502 not implemented")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.refuse = False  # answer MAIL with 451 (a temporary failure)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> SMTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _HTTPHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        server: HTTPServer = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with server.lock:
            status, delay, extra = server.next_response()
            server.requests.append({"path": self.path, "headers": dict(self.headers.items()), "method": self.command,
                                    "body": json.loads(body or b"null"), "status": status})
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_PUT = do_POST
    do_PATCH = do_POST
    do_GET = do_POST


class HTTPServer(ThreadingHTTPServer):
    """Answers requests with the statuses in ``script`` (then ``default``); a
    (status, seconds) pair answers after a delay, to trigger client timeouts, and a
    (status, seconds, {header: value}) triple adds headers (a redirect's Location)."""

    daemon_threads = True

    def __init__(self, script: list | None = None, default: int = 200):
        super().__init__(("127.0.0.1", 0), _HTTPHandler)
        self.requests: list[dict] = []
        self.script = list(script or [])
        self.default = default
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def next_response(self) -> tuple[int, float, dict]:
        item = self.script.pop(0) if self.script else self.default
        if not isinstance(item, tuple):
            return item, 0.0, {}
        return (item[0], item[1], item[2] if len(item) > 2 else {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def __enter__(self) -> HTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
