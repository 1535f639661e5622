"""``{property}`` templates: one language for every text field of a step.

A template is compiled once per step and type (property look-ups are queries) and
filled per record; an unknown or empty value renders as empty text.
"""
from __future__ import annotations

import string
from typing import Any
from zoneinfo import ZoneInfo

from models.objects import Prop, find_prop


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


def compile_template(text: str, type_name: str) -> list[tuple[str, Prop | None, bool]]:
    """``text`` as (literal, property, has_field) parts: properties looked up once,
    not once per record (a lookup is a query; a batch renders thousands)."""
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        parts.append((literal, find_prop(type_name, name) if name else None, bool(name)))
    return parts


def fill(parts: list[tuple[str, Prop | None, bool]], record: dict, tz: ZoneInfo) -> str:
    out = []
    for literal, prop, has_field in parts:
        out.append(literal)
        if has_field and prop is not None:
            out.append(display_value(prop, record.get(prop.name), tz))
    return "".join(out)


def render(text: str, record: dict, type_name: str, tz: ZoneInfo) -> str:
    """Fill ``{property}`` (name or label) from the record; unknown or empty → ""."""
    return fill(compile_template(text, type_name), record, tz)
