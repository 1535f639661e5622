"""The shapes of action steps (SPEC §9): one definition and validation, shared by the
workflow editor, workflow files and the executor; and the masking of header secrets.
"""
from __future__ import annotations

import re
import string
from datetime import time
from typing import Any
from urllib.parse import urlparse

from models.criteria import validate_criteria
from models.errors import RotaError
from models.objects import coerce_value, find_prop, get_props, to_json_value

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
}
DELAY_UNITS = ("minutes", "hours", "days")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MASK = "***"
_SECRET_HEADER = re.compile(r"(auth|token|secret|key|password|passwd|cookie|signature|credential)", re.I)
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def is_secret_header(name: str) -> bool:
    return bool(_SECRET_HEADER.search(name))


class _Where:
    """Names the step being validated: 'actions step 3 (branch), then step 1 (notify)'."""

    def __init__(self, trail: str):
        self.trail = trail

    def error(self, message: str) -> RotaError:
        return RotaError(f"{self.trail}: {message}")


def template_fields(text: str) -> list[str]:
    """The {property} names a template string uses."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except ValueError as exc:
        raise RotaError(f"template {text!r} is malformed: {exc}") from None


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
        if find_prop(type_name, name) is None:
            raise where.error(f'{field} uses {{{name}}}, which is not a property of {type_name}')
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
        out["to"] = [t.strip() for t in to]
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
        try:
            out["criteria"] = validate_criteria(step.get("criteria") or [], type_name, where=f"{where.trail} criteria")
        except RotaError:
            raise
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
        url = step.get("url")
        parsed = urlparse(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise where.error(f'url "{url}" must be an http:// or https:// address')
        out["url"] = url.strip()
        headers = step.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise where.error('headers must be an object of text values, e.g. {"Authorization": "Bearer …"}')
        for k, v in headers.items():
            if v == MASK:
                raise where.error(f'header "{k}" is masked ({MASK}); give its real value')
            if "\n" in k or "\n" in v or "\r" in k or "\r" in v:
                raise where.error(f'header "{k}" must be on one line')
        out["headers"] = dict(headers)
        timeout = step.get("timeout_s", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
            raise where.error("timeout_s must be a number of seconds above 0 and at most 300")
        out["timeout_s"] = timeout
        out["retries"] = _positive_int(where, "retries", step.get("retries", 3), maximum=10)
    return out


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


def mask_actions(actions: list[dict]) -> list[dict]:
    """A deep copy with every secret webhook header value replaced by ***."""
    def mask(step: dict) -> dict:
        out = dict(step)
        if out.get("type") == "webhook":
            out["headers"] = mask_headers(out.get("headers") or {})
        if out.get("type") == "branch":
            out["then"] = [mask(s) for s in out.get("then") or []]
            out["else"] = [mask(s) for s in out.get("else") or []]
        return out
    return [mask(s) for s in actions if isinstance(s, dict)] if isinstance(actions, list) else actions


def unmask_actions(actions: list, previous: list[dict]) -> list:
    """Put back secrets an exported (masked) body left as ***, from the stored version.

    A header is matched by webhook URL and header name; a masked value with no stored
    counterpart stays masked and validation then asks for the real value.
    """
    known = {(s.get("url"), k): v for s in _walk(previous or []) if s.get("type") == "webhook"
             for k, v in (s.get("headers") or {}).items()}

    def unmask(step):
        if not isinstance(step, dict):
            return step
        out = dict(step)
        if out.get("type") == "webhook" and isinstance(out.get("headers"), dict):
            out["headers"] = {k: (known.get((out.get("url"), k), v) if v == MASK else v)
                              for k, v in out["headers"].items()}
        if out.get("type") == "branch":
            for arm in ("then", "else"):
                if isinstance(out.get(arm), list):
                    out[arm] = [unmask(s) for s in out[arm]]
        return out
    return [unmask(s) for s in actions]


def describe_step(step: dict) -> str:
    """One line for lists and history: 'Set Lifecycle Stage to customer'."""
    kind = step.get("type")
    if kind == "set_property":
        return f"Set {step['property']} to {step.get('value')!r}"
    if kind == "copy_property":
        return f"Copy {step['from']} to {step['to']}"
    if kind == "create_task":
        return f"Create task \"{step['title']}\" due in {step['due_in_days']} days"
    if kind == "notify":
        return f"Notify {', '.join(step['to'])}: {step['message']}"
    if kind == "delay":
        if "until" in step:
            u = step["until"]
            return f"Delay until {u.get('weekday', 'the next').capitalize()} {u['time']}"
        unit = next(u for u in DELAY_UNITS if u in step)
        return f"Delay {step[unit]} {unit}"
    if kind == "branch":
        return f"If/then branch ({len(step.get('then') or [])} then, {len(step.get('else') or [])} else)"
    if kind in ("add_to_list", "remove_from_list"):
        return f"{'Add to' if kind == 'add_to_list' else 'Remove from'} list \"{step['list']}\""
    if kind == "webhook":
        return f"POST {step['url']} (timeout {step['timeout_s']} s, {step['retries']} retries)"
    return str(kind)


def parse_time(text: str) -> time:
    m = _TIME_RE.match(text)
    if not m:
        raise RotaError(f'"{text}" is not a time; use HH:MM')
    return time(int(m.group(1)), int(m.group(2)))
