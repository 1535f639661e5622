"""Field types shared by the static and the per-object-type tables."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import peewee as pw

from models.timeutil import from_micros, to_micros


class InstantField(pw.BigIntegerField):
    """An aware UTC datetime stored as integer microseconds since the epoch."""

    def db_value(self, value):
        if value is None or isinstance(value, int):
            return value
        if isinstance(value, datetime):
            return to_micros(value)
        return super().db_value(value)

    def python_value(self, value):
        return from_micros(value) if value is not None else None

    if TYPE_CHECKING:  # what a row's attribute holds, for the type checker (peewee's accessor does it)
        def __get__(self, instance: Any, owner: Any) -> Any: ...

        def __set__(self, instance: Any, value: datetime | int | None) -> None: ...


class JSONText(pw.TextField):
    """JSON kept as text: portable across SQLite and PostgreSQL, stable on export."""

    def db_value(self, value):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=False)

    def python_value(self, value):
        if value is None:
            return None
        return json.loads(value)

    if TYPE_CHECKING:
        def __get__(self, instance: Any, owner: Any) -> Any: ...

        def __set__(self, instance: Any, value: Any) -> None: ...
