"""The shapes of action steps (SPEC §9): one definition and validation, shared by the
workflow editor, workflow files and the executor; and the masking of webhook secrets.

Masking: every webhook header value is a secret except a short list of known plain
headers (``Content-Type``, ``Accept``, ``User-Agent``), and so is every URL query value
whose key looks like one (``token``, ``key``, ``secret``, ``sig``, ``password``,
``auth`` …). Whatever shows a step — history, export, the editor, the audit log —
shows ``***`` in their place; re-importing a masked export puts the stored values back.
"""
from __future__ import annotations

import re
import string
from datetime import time
from typing import Any
from urllib.parse import urlsplit

from engine.identity import check_recipients
from engine.steps.templates import template_prop
from engine.webhook import (
    MASK,
    allow_hosts_error,
    is_secret_query_key,
    mask_url,
    query_pairs,
    unmask_url,
)
from models.criteria import validate_criteria
from models.errors import RotaError
from models.objects import coerce_value, find_prop, get_props, to_json_value
from models.settings import load_settings

STEP_TYPES = {
    "set_property": "Set property value",
    "copy_property": "Copy property value",
    "create_task": "Create task",
    "notify": "Send internal notification",
    "delay": "Delay",
    "branch": "If/then branch",
    "add_to_list": "Add to static list",
    "remove_from_list": "Remove from static list",
    "webhook": "Send webhook",
    "send_email": "Send e-mail to record",
}
DELAY_UNITS = ("minutes", "hours", "days")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEBHOOK_METHODS = ("POST", "PUT", "PATCH")
PLAIN_HEADERS = frozenset({"content-type", "accept", "user-agent"})  # the only header values shown
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def is_secret_header(name: str) -> bool:
    """Whether a header's value is masked: all but Content-Type, Accept, User-Agent."""
    return name.strip().lower() not in PLAIN_HEADERS


class _Where:
    """Names the step being validated: 'actions step 3 (branch), then step 1 (notify)'."""

    def __init__(self, trail: str):
        self.trail = trail

    def error(self, message: str) -> RotaError:
        return RotaError(f"{self.trail}: {message}")


def template_fields(text: str) -> list[str]:
    """The {property} names a template string uses."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise RotaError(f"template {text!r} is malformed: {exc} (write {{{{ and }}}} for literal braces)") from None
    if "" in fields:
        raise RotaError(f"template {text!r} has an empty {{}}; name a property, e.g. {{firstname}}")
    return fields


def _check_template(where: _Where, type_name: str, field: str, text: Any, required: bool = True) -> str:
    if text is None and not required:
        return ""
    if not isinstance(text, str) or (required and not text.strip()):
        raise where.error(f"{field} must be non-empty text")
    try:
        names = template_fields(text)
    except RotaError as exc:
        raise where.error(f"{field}: {exc}") from None
    for name in names:
        if template_prop(type_name, name) is None:
            raise where.error(f'{field} uses {{{name}}}, which is not a property of {type_name} '
                              f'(write {{{{ and }}}} for literal braces)')
    return text


def _positive_int(where: _Where, field: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum and value > maximum):
        bound = f" from {minimum} to {maximum}" if maximum else f", {minimum} or more"
        raise where.error(f"{field} must be a whole number{bound}")
    return value


def _prop(where: _Where, type_name: str, field: str, key: Any):
    prop = find_prop(type_name, key) if isinstance(key, str) else None
    if prop is None:
        known = ", ".join(get_props(type_name))
        raise where.error(f'{field} "{key}" is not a property of {type_name} (known: {known})')
    return prop


def _only(where: _Where, step: dict, allowed: set[str]) -> None:
    extra = sorted(set(step) - allowed - {"type"})
    if extra:
        raise where.error(f'unknown field "{extra[0]}" (known: {", ".join(sorted(allowed))})')


def _validate_step(step: Any, type_name: str, where: _Where) -> dict:
    if not isinstance(step, dict) or step.get("type") not in STEP_TYPES:
        got = step.get("type") if isinstance(step, dict) else step
        raise where.error(f'unknown step type "{got}"; use one of {", ".join(STEP_TYPES)}')
    kind = step["type"]
    out: dict[str, Any] = {"type": kind}
    if kind == "set_property":
        _only(where, step, {"property", "value"})
        prop = _prop(where, type_name, "property", step.get("property"))
        if prop.name in ("createdate",):
            raise where.error("createdate cannot be set")
        value = step.get("value")
        out["property"] = prop.name
        if prop.type == "string" and isinstance(value, str):
            out["value"] = _check_template(where, type_name, "value", value, required=False)
        else:
            try:
                out["value"] = to_json_value(prop, coerce_value(prop, value))
            except ValueError as exc:
                raise where.error(f"value for {prop.name}: {exc}") from None
    elif kind == "copy_property":
        _only(where, step, {"from", "to"})
        src = _prop(where, type_name, "from", step.get("from"))
        dst = _prop(where, type_name, "to", step.get("to"))
        if src.name == dst.name:
            raise where.error("from and to are the same property")
        if dst.type != "string" and dst.type != src.type:
            raise where.error(f"cannot copy {src.name} ({src.type}) into {dst.name} ({dst.type}); types must match, "
                              "or copy into a text property")
        if dst.type == "enumeration" and set(src.option_names) - set(dst.option_names):
            raise where.error(f"{dst.name} lacks some options of {src.name}")
        out.update({"from": src.name, "to": dst.name})
    elif kind == "create_task":
        _only(where, step, {"title", "due_in_days", "owner"})
        out["title"] = _check_template(where, type_name, "title", step.get("title"))
        out["due_in_days"] = _positive_int(where, "due_in_days", step.get("due_in_days", 0), maximum=3650)
        if step.get("owner") not in (None, ""):
            out["owner"] = _check_template(where, type_name, "owner", step.get("owner"))
    elif kind == "notify":
        _only(where, step, {"to", "message", "email"})
        to = step.get("to")
        if not isinstance(to, list) or not to or not all(isinstance(t, str) and t.strip() for t in to):
            raise where.error('to must be a non-empty list of operator names, e.g. ["alice"]')
        try:  # the roster in the settings (engine.identity), when one is set
            out["to"] = check_recipients([t.strip() for t in to])
        except RotaError as exc:
            raise where.error(f"to: {exc}") from None
        out["message"] = _check_template(where, type_name, "message", step.get("message"))
        if step.get("email"):
            emails = step["email"]
            if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
                raise where.error('email must be a list of addresses, e.g. ["ops@example.com"]')
            out["email"] = [e.strip() for e in emails]
    elif kind == "delay":
        _only(where, step, {"minutes", "hours", "days", "until"})
        given = [u for u in (*DELAY_UNITS, "until") if u in step]
        if len(given) != 1:
            raise where.error('give exactly one of minutes, hours, days or until, e.g. {"type": "delay", "days": 2}')
        unit = given[0]
        if unit == "until":
            until = step["until"]
            if not isinstance(until, dict) or set(until) - {"weekday", "time"} or "time" not in until:
                raise where.error('until must be {"weekday": "mon…sun", "time": "HH:MM"} (weekday optional)')
            if "weekday" in until and until["weekday"] not in WEEKDAYS:
                raise where.error(f'until.weekday "{until["weekday"]}" is unknown; use one of {", ".join(WEEKDAYS)}')
            if not isinstance(until["time"], str) or not _TIME_RE.match(until["time"]):
                raise where.error(f'until.time "{until["time"]}" is not a time; use HH:MM from 00:00 to 23:59')
            out["until"] = {k: until[k] for k in ("weekday", "time") if k in until}
        else:
            out[unit] = _positive_int(where, unit, step[unit], minimum=1, maximum=100_000)
    elif kind == "branch":
        _only(where, step, {"criteria", "then", "else"})
        out["criteria"] = validate_criteria(step.get("criteria") or [], type_name, where=f"{where.trail} criteria")
        if not out["criteria"]:
            raise where.error("a branch needs criteria")
        for arm in ("then", "else"):
            steps = step.get(arm) or []
            if not isinstance(steps, list):
                raise where.error(f"{arm} must be a list of steps")
            out[arm] = [_validate_step(s, type_name, _Where(f"{where.trail}, {arm} step {i} ({_kind(s)})"))
                        for i, s in enumerate(steps, 1)]
    elif kind in ("add_to_list", "remove_from_list"):
        _only(where, step, {"list"})
        name = step.get("list")
        if not isinstance(name, str) or not name.strip():
            raise where.error("list must name a static list")
        out["list"] = name.strip()
    elif kind == "webhook":
        _only(where, step, {"url", "headers", "timeout_s", "retries", "method"})
        out["url"] = _check_url(where, type_name, step.get("url"))
        method = step.get("method", "POST")
        if not isinstance(method, str) or method.strip().upper() not in WEBHOOK_METHODS:
            raise where.error(f'method "{method}" is not supported; use one of {", ".join(WEBHOOK_METHODS)}')
        if "method" in step:
            out["method"] = method.strip().upper()
        headers = step.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise where.error('headers must be an object of text values, e.g. {"Authorization": "Bearer …"}')
        for k, v in headers.items():
            if v == MASK:
                raise where.error(f'header "{k}" is masked ({MASK}); give its real value')
            if "\n" in v or "\r" in v:
                raise where.error(f'header "{k}" must be on one line')
            if not _HEADER_NAME.match(k):
                raise where.error(f'header name "{k}" is not valid; use letters, digits and "-"')
            _check_template(where, type_name, f'headers["{k}"]', v, required=False)
        out["headers"] = dict(headers)
        timeout = step.get("timeout_s", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
            raise where.error("timeout_s must be a number of seconds above 0 and at most 300")
        out["timeout_s"] = timeout
        out["retries"] = _positive_int(where, "retries", step.get("retries", 3), maximum=10)
    elif kind == "send_email":
        _only(where, step, {"to_property", "subject", "body"})
        prop = _prop(where, type_name, "to_property", step.get("to_property", "email"))
        if prop.type != "string":
            raise where.error(f"to_property {prop.name} is a {prop.type} property; name a text property "
                              "holding an e-mail address")
        out["to_property"] = prop.name
        out["subject"] = _check_template(where, type_name, "subject", step.get("subject"))
        if "\n" in out["subject"] or "\r" in out["subject"]:
            raise where.error("subject must be on one line")
        out["body"] = _check_template(where, type_name, "body", step.get("body"))
    return out


def _check_url(where: _Where, type_name: str, url: Any) -> str:
    """A webhook URL template: http(s), no credentials, placeholders only after the host,
    and (when the settings list any) a host in ``webhook_allow_hosts``."""
    if not isinstance(url, str) or not url.strip():
        raise where.error("url must be an http:// or https:// address")
    url = url.strip()
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise where.error(f'url "{mask_url(url)}" is not a valid address: {exc}') from None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise where.error(f'url "{mask_url(url)}" must be an http:// or https:// address')
    if "@" in parsed.netloc:
        raise where.error('url must not hold a user name or password ("user:pass@host"); send credentials in '
                          'headers instead, e.g. {"Authorization": "Basic …"} or {"X-Api-Key": "…"}')
    if "{" in parsed.netloc or "}" in parsed.netloc:
        raise where.error("url: {placeholders} may be used in the path and query only, not in the host")
    if any(c.isspace() for c in url):
        raise where.error("url must not contain spaces; write %20 (values filled from {placeholders} are "
                          "encoded for you)")
    for key, value in query_pairs(parsed.query) if parsed.query else []:
        if value == MASK and is_secret_query_key(key):
            raise where.error(f'url query "{key}" is masked ({MASK}); give its real value')
    _check_template(where, type_name, "url", url)
    error = allow_hosts_error(url, load_settings().webhook_allow_hosts)
    if error:
        raise where.error(f"url: {error}")
    return url


def _kind(step: Any) -> str:
    return step.get("type", "?") if isinstance(step, dict) else "?"


def validate_actions(actions: Any, type_name: str) -> list[dict]:
    """The normalized step list, or a RotaError naming the step and the field to fix."""
    if not isinstance(actions, list):
        raise RotaError("actions: expected a list of steps")
    return [_validate_step(s, type_name, _Where(f"actions step {i} ({_kind(s)})")) for i, s in enumerate(actions, 1)]


def _walk(actions: list[dict]):
    for step in actions:
        yield step
        if step.get("type") == "branch":
            yield from _walk(step.get("then") or [])
            yield from _walk(step.get("else") or [])


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if is_secret_header(k) and v else v) for k, v in (headers or {}).items()}


def mask_step(step: dict) -> dict:
    """A copy of one step with its webhook secrets (headers, URL query values) masked."""
    out = dict(step)
    if out.get("type") == "webhook":
        out["headers"] = mask_headers(out.get("headers") or {})
        out["url"] = mask_url(out.get("url"))
    return out


def mask_actions(actions: list[dict]) -> list[dict]:
    """A deep copy with every secret webhook header and URL query value replaced by ***."""
    def mask(step: dict) -> dict:
        out = mask_step(step)
        if out.get("type") == "branch":
            out["then"] = [mask(s) for s in out.get("then") or []]
            out["else"] = [mask(s) for s in out.get("else") or []]
        return out
    return [mask(s) for s in actions if isinstance(s, dict)] if isinstance(actions, list) else actions


def unmask_actions(actions: list, previous: list[dict]) -> list:
    """Put back secrets an exported (masked) body left as ***, from the stored version.

    A masked URL is matched to the stored URL it was masked from; a header by webhook
    URL and header name. A masked value with no stored counterpart stays masked and
    validation then asks for the real value.
    """
    hooks = [s for s in _walk(previous or []) if s.get("type") == "webhook"]
    urls = [s.get("url") for s in hooks]
    known = {(s.get("url"), k): v for s in hooks for k, v in (s.get("headers") or {}).items()}

    def unmask(step):
        if not isinstance(step, dict):
            return step
        out = dict(step)
        if out.get("type") == "webhook":
            out["url"] = unmask_url(out.get("url"), urls)
        if out.get("type") == "webhook" and isinstance(out.get("headers"), dict):
            out["headers"] = {k: (known.get((out.get("url"), k), v) if v == MASK else v)
                              for k, v in out["headers"].items()}
        if out.get("type") == "branch":
            for arm in ("then", "else"):
                if isinstance(out.get(arm), list):
                    out[arm] = [unmask(s) for s in out[arm]]
        return out
    return [unmask(s) for s in actions]


def _count(n, one: str, many: str | None = None) -> str:
    """ "1 day", "2 days", "0 retries"."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def describe_step(step: dict) -> str:
    """One line for lists and history: 'Set Lifecycle Stage to customer'."""
    kind = step.get("type")
    if kind == "set_property":
        return f"Set {step['property']} to {step.get('value')!r}"
    if kind == "copy_property":
        return f"Copy {step['from']} to {step['to']}"
    if kind == "create_task":
        return f"Create task \"{step['title']}\" due in {_count(step['due_in_days'], 'day')}"
    if kind == "notify":
        return f"Notify {', '.join(step['to'])}: {step['message']}"
    if kind == "delay":
        if "until" in step:
            u = step["until"]
            return f"Delay until {u.get('weekday', 'the next').capitalize()} {u['time']}"
        unit = next(u for u in DELAY_UNITS if u in step)
        return f"Delay {_count(step[unit], unit.removesuffix('s'))}"
    if kind == "branch":
        return f"If/then branch ({len(step.get('then') or [])} then, {len(step.get('else') or [])} else)"
    if kind in ("add_to_list", "remove_from_list"):
        return f"{'Add to' if kind == 'add_to_list' else 'Remove from'} list \"{step['list']}\""
    if kind == "webhook":
        return (f"{step.get('method') or 'POST'} {mask_url(step['url'])} "
                f"(timeout {step['timeout_s']} s, {_count(step['retries'], 'retry', 'retries')})")
    if kind == "send_email":
        return f"E-mail the record's {step['to_property']}: \"{step['subject']}\""
    return str(kind)


def parse_time(text: str) -> time:
    m = _TIME_RE.match(text)
    if not m:
        raise RotaError(f'"{text}" is not a time; use HH:MM')
    return time(int(m.group(1)), int(m.group(2)))
