"""``{property}`` templates: one language for every text field of a step.

The rules, in one place (the set-based SQL version of templates follows them):

- ``{name}`` is a property of the workflow's object type, by internal name or label
  (``{firstname}``, ``{First Name}``), or ``{id}``, the record's id; ``{{`` and ``}}``
  are literal braces.
- A placeholder that names no property is refused when the workflow is saved
  (``shapes.validate_actions`` names the step and the field).
- A value renders as text: enumerations by their label, booleans ``true``/``false``,
  whole numbers without ``.0``, instants as ``YYYY-MM-DD HH:MM`` in the workflow's
  zone, dates ISO. An unknown (empty) value renders as empty text.
- Where the text becomes part of a URL (the webhook ``url``), each value is
  percent-encoded (``quote(value, safe="")``), so a value can never add a path
  segment, a query parameter or change the host.

A template is compiled once per step and type (property look-ups are queries) and
filled per record.
"""
from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from models.objects import Prop, find_prop
from models.store.records_sample import sample_record

Parts = list[tuple[str, Prop | None, bool]]


def display_value(prop: Prop | None, value: Any, tz: ZoneInfo) -> str:
    """A stored value as text for templates and copies into text properties."""
    if value is None or prop is None:
        return ""
    if prop.type == "enumeration":
        return prop.option_label(value)
    if prop.type == "bool":
        return "true" if value else "false"
    if prop.type == "number":
        return str(int(value)) if float(value).is_integer() else str(value)
    if prop.type == "datetime":
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if prop.type == "date":
        return value.isoformat()
    return str(value)


def placeholders(text: str) -> list[str]:
    """The ``{…}`` names in ``text``, in order; ValueError when the braces are malformed."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


ID_PROP = Prop("id", "Record ID", "number", builtin=True)


def template_prop(type_name: str, name: str) -> Prop | None:
    """What a placeholder names: ``id`` (the record id), else a property by name or label."""
    if name.strip().lower() == "id":
        return ID_PROP
    return find_prop(type_name, name)


def compile_template(text: str, type_name: str) -> Parts:
    """``text`` as (literal, property, has_field) parts: properties looked up once,
    not once per record (a lookup is a query; a batch renders thousands)."""
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        parts.append((literal, template_prop(type_name, name) if name else None, bool(name)))
    return parts


def url_value(text: str) -> str:
    """How a value is written into a URL: every reserved character percent-encoded."""
    return quote(text, safe="")


def fill(parts: Parts, record: dict, tz: ZoneInfo, encode: Callable[[str], str] | None = None) -> str:
    out = []
    for literal, prop, has_field in parts:
        out.append(literal)
        if has_field and prop is not None:
            value = display_value(prop, record.get(prop.name), tz)
            out.append(encode(value) if encode is not None else value)
    return "".join(out)


def render(text: str, record: dict, type_name: str, tz: ZoneInfo) -> str:
    """Fill ``{property}`` (name or label) from the record; unknown or empty → ""."""
    return fill(compile_template(text, type_name), record, tz)


def render_url(text: str, record: dict, type_name: str, tz: ZoneInfo) -> str:
    """A URL template filled with percent-encoded values."""
    return fill(compile_template(text, type_name), record, tz, url_value)


def preview(text: str, type_name: str, tz: ZoneInfo, *, url: bool = False) -> tuple[str, int | None]:
    """``text`` rendered against a real record of ``type_name`` (the newest one), for the step editor: (rendered text, record id), or the text as it
    stands and None when the type has no records yet or the template is malformed."""
    try:
        parts = compile_template(text, type_name)
    except ValueError:
        return text, None
    record = sample_record(type_name)
    if record is None:
        return text, None
    return fill(parts, record, tz, url_value if url else None), record.get("id")
