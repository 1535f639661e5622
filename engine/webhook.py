"""The webhook step's HTTP side: one request, its outcome, and the retry schedule.

Safety: redirects are never followed (a 3xx is a failure naming its ``Location``, so
headers holding credentials are never replayed to another address); the URL and
header values are rendered from the record before the request leaves (URL values
percent-encoded); the settings' ``webhook_allow_hosts`` is checked on every request,
not only when the workflow is saved.

Kept apart from the executor so that the network is touched in one place, outside any
database transaction (an HTTP call never holds SQLite's write lock or a PostgreSQL row
lock). Retries never sleep: the executor re-schedules the enrollment at
``backoff(attempt)`` from now and records a ``step_retry`` event, so a slow endpoint
never blocks the engine thread.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import overload
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
USER_AGENT = "Rota-webhook/1"
BACKOFF_BASE_S = 10.0  # first retry after 10 s, then 20 s, 40 s … (exponential)
BACKOFF_CAP_S = 3600.0
# Client errors that say "try again later"; any other 4xx is final (retrying cannot help).
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


_SECRET_QUERY_KEY = re.compile(
    r"(token|key|secret|sig|pass|pwd|auth|credential|session|cookie|bearer|jwt|otp|code|hash|hmac)", re.I)


def is_secret_query_key(key: str) -> bool:
    return bool(_SECRET_QUERY_KEY.search(key))


def query_pairs(query: str) -> list[tuple[str, str | None]]:
    """``a=1&b&c=`` as [("a", "1"), ("b", None), ("c", "")], raw (nothing decoded)."""
    out: list[tuple[str, str | None]] = []
    for part in query.split("&"):
        key, sep, value = part.partition("=")
        out.append((key, value if sep else None))
    return out


@overload
def mask_url(url: str) -> str: ...
@overload
def mask_url(url: None) -> None: ...
@overload
def mask_url(url: str | None) -> str | None: ...
def mask_url(url: str | None) -> str | None:
    """``url`` with the values of secret-looking query keys replaced by ***; anything
    that is not a string (a missing URL) comes back as it is."""
    if not isinstance(url, str) or "?" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pairs = [(k, MASK if v and is_secret_query_key(k) else v) for k, v in query_pairs(parts.query)]
    query = "&".join(k if v is None else f"{k}={v}" for k, v in pairs)
    return urlunsplit(parts._replace(query=query))


def url_has_mask(url: str) -> bool:
    try:
        query = urlsplit(url).query
    except ValueError:
        return False
    return any(v == MASK and is_secret_query_key(k) for k, v in query_pairs(query))


def unmask_url(url: str, known: list[str]) -> str:
    """A masked URL back to the stored one it was masked from (first match), else as is."""
    if not isinstance(url, str) or not url_has_mask(url):
        return url
    return next((old for old in known if isinstance(old, str) and mask_url(old) == url), url)


def host_allowed(host: str, port: int | None, allow: list[str]) -> bool:
    """Whether ``host[:port]`` matches an entry of ``webhook_allow_hosts``: ``example.com``
    (any port), ``example.com:8443`` (that port), ``*.example.com`` (its subdomains)."""
    host = host.lower().rstrip(".")
    for entry in allow:
        entry = entry.strip().lower()
        want_host, _, want_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if want_port and (not want_port.isdigit() or int(want_port) != port):
            continue
        if want_host.startswith("*."):
            if host.endswith(want_host[1:]) and host != want_host[2:]:
                return True
        elif host == want_host.strip("[]"):
            return True
    return False


def allow_hosts_error(url: str, allow: list[str]) -> str:
    """"" when ``url`` may be called under ``allow`` (empty: anywhere), else why not."""
    if not allow:
        return ""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f'url "{mask_url(url)}" is not a valid address'
    if host_allowed(host, port, allow):
        return ""
    return f'host "{host}" is not in the settings\' webhook_allow_hosts ({", ".join(allow)})'


@dataclass
class WebhookResult:
    ok: bool
    retryable: bool
    status: int | None = None
    error: str = ""
    elapsed_ms: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class WebhookRequest:
    """One rendered request, ready to send from any thread (no database access)."""

    url: str
    method: str
    headers: dict[str, str]
    payload: dict
    timeout_s: float
    key: str  # the Idempotency-Key

    @property
    def shown_url(self) -> str:
        return mask_url(self.url)


def prepare(step: dict, render_url: Callable[[str], str], render: Callable[[str], str], payload: dict,
            key: str) -> WebhookRequest:
    """The step's request for one record: ``render_url`` fills the URL (values
    percent-encoded), ``render`` the header values."""
    headers = {k: render(v) for k, v in (step.get("headers") or {}).items()}
    headers["Idempotency-Key"] = key
    return WebhookRequest(url=render_url(step["url"]), method=(step.get("method") or "POST").upper(),
                          headers=headers, payload=payload, timeout_s=float(step.get("timeout_s", 10)), key=key)


def send(request: WebhookRequest, allow_hosts: list[str] | None = None) -> WebhookResult:
    """Send one prepared request; never raises for network trouble."""
    refused = allow_hosts_error(request.url, list(allow_hosts or []))
    if refused:
        return WebhookResult(False, False, None, refused, 0, {"key": request.key, "url": request.shown_url})
    result = post_json(request.url, request.payload, request.headers, request.timeout_s, request.method)
    result.extra.update(key=request.key, url=request.shown_url)
    return result


def backoff(attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): 10 s · 2^(attempt-1)."""
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1)))


def idempotency_key(enrollment_id: int, path: str) -> str:
    """Stable per enrollment and step, so a receiver can drop the duplicate that
    at-least-once delivery allows (a crash after the POST, before the commit)."""
    return f"rota-{enrollment_id}-{path}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: urllib then raises the 3xx as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, payload: dict, headers: dict[str, str], timeout_s: float,
              method: str = "POST") -> WebhookResult:
    """Send ``payload`` as JSON; 2xx is success. Never raises for network trouble,
    never follows a redirect."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    request = urllib.request.Request(url, data=body, headers=all_headers, method=method or "POST")
    started = time.monotonic()

    def ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        if 300 <= status < 400:
            location = exc.headers.get("Location") if exc.headers else None
            where = f"to {mask_url(location)}" if location else "with no Location"
            exc.close()
            return WebhookResult(False, False, status,
                                 f"HTTP {status} redirect {where}; redirects are not followed "
                                 "(point the webhook at the final address)", ms(), {"location": mask_url(location)})
        retryable = status >= 500 or status in RETRYABLE_4XX
        return WebhookResult(False, retryable, status, f"HTTP {status} {exc.reason}", ms())
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        text = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else str(reason)
        return WebhookResult(False, True, None, text or type(exc).__name__, ms())
    if 200 <= status < 300:
        return WebhookResult(True, False, status, "", ms())
    return WebhookResult(False, status >= 500, status, f"HTTP {status}", ms())
