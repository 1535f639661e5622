"""``rota serve [--host 127.0.0.1] [--port 8750] [--token]``: the full app in a browser.

textual-serve runs one ``rota`` app process per browser tab and streams its screen over
a websocket (aiohttp). Rota adds one thing: who may connect.

- On a loopback address (127.0.0.1, ::1, localhost) the app is served as is, like a
  terminal on this machine.
- On any other address a token is required: a random one is generated, printed once
  (as the URL to open), and checked on EVERY request: the page, its static files,
  downloads and the websocket. The browser presents it as ``?token=…`` on the first
  visit; the page then sets an HttpOnly, SameSite=Strict cookie so the websocket and
  assets carry it. A request without it gets 403 and never reaches the app.
- ``--token`` asks for the same on loopback (a shared machine's other users can reach
  loopback ports).
"""
from __future__ import annotations

import argparse
import hmac
import ipaddress
import secrets
import shlex
import sys

from models.errors import RotaError
from tui.commandline.common import db_option, open_db, whole_number
from tui.commandline.output import say

COOKIE = "rota_token"
DEFAULT_PORT = 8750


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve", help="serve the full app in a browser (loopback by default; a token for any other host)",
        description="Serve the full Rota app in a web browser through textual-serve. It listens on "
                    "127.0.0.1 by default; any other --host requires a token, generated and printed once "
                    "as the URL to open, and checked on every request and websocket.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=whole_number(1, 65535), default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT})")
    p.add_argument("--token", action="store_true", help="require a token on loopback too")
    p.add_argument("--no-engine", action="store_true", help="serve the app without its engine thread")
    db_option(p)
    p.set_defaults(func=cmd_serve)


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def app_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each browser session: this same rota."""
    parts = [sys.executable, "-m", "tui.cli"]
    db = getattr(args, "db", None)
    if db:
        parts += ["--db", db]
    if args.no_engine:
        parts.append("--no-engine")
    return " ".join(shlex.quote(p) for p in parts)


def token_ok(request, token: str) -> bool:
    """Whether an aiohttp request carries ``token`` (query or cookie), compared in constant time."""
    given = request.query.get("token") or request.cookies.get(COOKIE) or ""
    return hmac.compare_digest(given.encode(), token.encode())


def make_server(command: str, host: str, port: int, token: str | None):
    """A textual-serve Server whose aiohttp app refuses requests without ``token``."""
    from aiohttp import web
    from textual_serve.server import Server

    servers: list = []

    @web.middleware
    async def require_token(request, handler):
        if token is not None and not token_ok(request, token):
            return web.Response(status=403, text="rota serve: this address needs the token printed when "
                                                 "the server started (open the URL with ?token=…)\n")
        if request.path == "/" and servers:
            # The page's asset and websocket URLs are built from public_url: use the address
            # the browser used (listening on 0.0.0.0 must not send it to ws://0.0.0.0). The
            # index handler reads it without awaiting, so requests cannot interleave here.
            servers[0].public_url = f"{request.scheme}://{request.host}"
        response = await handler(request)
        if token is not None and request.query.get("token") and isinstance(response, web.Response):
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response

    class RotaServer(Server):
        def initialize_logging(self) -> None:  # textual-serve's rich log is for its own demos
            pass

        async def on_startup(self, app) -> None:
            pass

        async def _make_app(self):
            app = await super()._make_app()
            app.middlewares.append(require_token)
            return app

    host_for_url = f"[{host}]" if ":" in host and not host.startswith("[") else host
    server = RotaServer(command, host=host, port=port, title="Rota", public_url=f"http://{host_for_url}:{port}")
    servers.append(server)
    return server


def cmd_serve(args: argparse.Namespace) -> int:
    open_db(args)  # a missing or bad database fails here, in one line, not in every browser tab
    host = args.host.strip()
    if not host:
        raise RotaError("--host is empty: give an address such as 127.0.0.1")
    token = secrets.token_urlsafe(24) if (args.token or not is_loopback(host)) else None
    server = make_server(app_command(args), host, args.port, token)
    url = server.public_url + "/"
    if token is None:
        say(f"serving Rota on {url} (loopback only); Ctrl-C to stop", err=True)
    else:
        say(f"serving Rota on {url} (token required); open {url}?token={token}", err=True)
        say("the token is shown only now; keep it private", err=True)
    try:
        server.serve()
    except OSError as exc:
        raise RotaError(f"cannot listen on {host}:{args.port}: {exc.strerror or exc}") from None
    return 0

