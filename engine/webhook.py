"""The webhook step's HTTP side: one POST, its outcome, and the retry schedule.

Kept apart from the executor so that the network is touched in one place, outside any
database transaction (an HTTP call never holds SQLite's write lock or a PostgreSQL row
lock). Retries never sleep: the executor re-schedules the enrollment at
``backoff(attempt)`` from now and records a ``step_retry`` event, so a slow endpoint
never blocks the engine thread.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta

USER_AGENT = "Rota-webhook/1"
BACKOFF_BASE_S = 10.0  # first retry after 10 s, then 20 s, 40 s … (exponential)
BACKOFF_CAP_S = 3600.0
# Client errors that say "try again later"; any other 4xx is final (retrying cannot help).
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


@dataclass
class WebhookResult:
    ok: bool
    retryable: bool
    status: int | None = None
    error: str = ""
    elapsed_ms: int = 0
    extra: dict = field(default_factory=dict)


def backoff(attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): 10 s · 2^(attempt-1)."""
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1)))


def idempotency_key(enrollment_id: int, path: str) -> str:
    """Stable per enrollment and step, so a receiver can drop the duplicate that
    at-least-once delivery allows (a crash after the POST, before the commit)."""
    return f"rota-{enrollment_id}-{path}"


def post_json(url: str, payload: dict, headers: dict[str, str], timeout_s: float,
              method: str = "POST") -> WebhookResult:
    """Send ``payload`` as JSON; 2xx is success. Never raises for network trouble."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    request = urllib.request.Request(url, data=body, headers=all_headers, method=method or "POST")
    started = time.monotonic()

    def ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - operator-given URL
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        retryable = status >= 500 or status in RETRYABLE_4XX
        return WebhookResult(False, retryable, status, f"HTTP {status} {exc.reason}", ms())
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        text = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else str(reason)
        return WebhookResult(False, True, None, text or type(exc).__name__, ms())
    if 200 <= status < 300:
        return WebhookResult(True, False, status, "", ms())
    return WebhookResult(False, status >= 500, status, f"HTTP {status}", ms())
