"""Values as text, in SQL: the expressions that render record values for templates
and copies into text columns (used by the set-based steps, engine/steps/run_set.py).
"""
from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime as _dt
from zoneinfo import ZoneInfo

from models.db import is_postgres


def _p() -> str:
    return "%s" if is_postgres() else "?"


# ------------------------------------------------------ values as text, in SQL
#
# Templates and copies into text run in SQL; these build the expressions, rendering
# each type exactly as ``engine.steps.templates.display_value`` does. Where a value
# cannot be printed exactly so (a number Python would write with more digits than
# the database, an instant outside the zone table), the expression is NULL and the
# caller takes the per-record path for that group (``GUARDED`` types).

GUARDED = frozenset({"number", "datetime"})
# str.strip()'s whitespace, for TRIM: coerce_value strips text before storing it.
_WS = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_DT_LO = 946_684_800 * 1_000_000 - 3_155_760_000 * 1_000_000  # 1900-01-01 (approx. bound, guarded)
_DT_HI = 4_102_444_800 * 1_000_000  # 2100-01-01


def mark() -> str:
    return _p()


def literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def concat(parts: list[str]) -> str:
    return "(" + " || ".join(parts) + ")"


def strip_to_null(expr: str) -> str:
    fn = "btrim" if is_postgres() else "trim"
    return f"NULLIF({fn}({expr}, {literal(_WS)}), '')"


def _number_text(col: str) -> str:
    if is_postgres():
        return (f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 9e18 THEN CAST(CAST({col} AS bigint) AS text) "
                f"WHEN abs({col}) < 1e15 THEN CAST({col} AS text) ELSE NULL END")
    fmt15, fmt16 = "printf('%.15g', " + col + ")", "printf('%.16g', " + col + ")"
    return (f"CASE WHEN {col} = CAST({col} AS INTEGER) AND abs({col}) < 9e18 THEN CAST(CAST({col} AS INTEGER) AS TEXT) "
            f"WHEN abs({col}) < 1e15 AND CAST({fmt15} AS REAL) = {col} THEN {fmt15} "
            f"WHEN abs({col}) < 1e15 AND CAST({fmt16} AS REAL) = {col} THEN {fmt16} ELSE NULL END")


def _offsets(tz_name: str, lo_us: int, hi_us: int) -> list[tuple[int, int]] | None:
    """(from_us, offset_us) segments of the zone over [lo, hi], from Python's zone
    data (SQLite has none); None outside 1900–2100."""
    if lo_us < _DT_LO or hi_us >= _DT_HI:
        return None
    tz = ZoneInfo(tz_name)

    def off(sec: int) -> int:
        offset = _dt.fromtimestamp(sec, UTC).astimezone(tz).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    lo, hi = lo_us // 1_000_000, hi_us // 1_000_000 + 1
    segs = [(lo, off(lo))]
    day = 86_400
    t = lo
    while t < hi:
        nxt = min(t + day, hi)
        if off(nxt) != segs[-1][1]:
            a, b = t, nxt  # off(a) == current, off(b) differs: find the first second that differs
            while b - a > 1:
                mid = (a + b) // 2
                if off(mid) == segs[-1][1]:
                    a = mid
                else:
                    b = mid
            segs.append((b, off(b)))
        t = nxt
    return [(s * 1_000_000, o * 1_000_000) for s, o in segs]


def display(prop, col: str, tz_name: str, value_range: tuple[int, int] | None) -> str | None:
    """A property's value as template text (never NULL but where guarded; see above),
    or None when this database cannot render that type exactly at all."""
    pg = is_postgres()
    t = prop.type
    if t == "string":
        return f"COALESCE({col}, '')"
    if t == "enumeration":
        whens = " ".join(f"WHEN {literal(n)} THEN {literal(lbl)}" for n, lbl in prop.options)
        return f"COALESCE(CASE {col} {whens} ELSE {col} END, '')" if whens else f"COALESCE({col}, '')"
    if t == "bool":
        return f"CASE WHEN {col} IS NULL THEN '' WHEN {col} THEN 'true' ELSE 'false' END"
    if t == "number":
        return f"CASE WHEN {col} IS NULL THEN '' ELSE ({_number_text(col)}) END"
    if t == "date":
        return f"COALESCE(to_char({col}, 'YYYY-MM-DD'), '')" if pg else f"COALESCE({col}, '')"
    if t == "datetime":
        if pg:
            local = (f"(TIMESTAMP '1970-01-01' + {col} * INTERVAL '1 microsecond') AT TIME ZONE 'UTC' "
                     f"AT TIME ZONE {literal(tz_name)}")
            return (f"CASE WHEN {col} IS NULL THEN '' WHEN {col} < {_DT_LO} OR {col} >= {_DT_HI} THEN NULL "
                    f"ELSE to_char({local}, 'YYYY-MM-DD HH24:MI') END")
        if value_range is None:
            return "''"  # every value in the group is NULL
        segs = _offsets(tz_name, *value_range)
        if segs is None:
            return None
        off = str(segs[0][1]) if len(segs) == 1 else \
            "CASE " + " ".join(f"WHEN {col} < {segs[i + 1][0]} THEN {segs[i][1]}" for i in range(len(segs) - 1)) \
            + f" ELSE {segs[-1][1]} END"
        local = f"({col} + {off})"
        secs = f"(({local} - ((({local}) % 1000000) + 1000000) % 1000000) / 1000000)"
        return (f"CASE WHEN {col} IS NULL THEN '' WHEN {col} < {_DT_LO} OR {col} >= {_DT_HI} THEN NULL "
                f"ELSE strftime('%Y-%m-%d %H:%M', {secs}, 'unixepoch') END")
    return None


def json_value(prop, col: str) -> str | None:
    """A property's value as ``to_json_value`` gives it, as an SQL JSON value; None
    when this needs the per-record path (instants)."""
    pg = is_postgres()
    t = prop.type
    if t in ("string", "enumeration"):
        return col
    if t == "date":
        return f"to_char({col}, 'YYYY-MM-DD')" if pg else col
    if t == "bool":
        return f"to_jsonb({col})" if pg else \
            f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') ELSE json('false') END"
    if t == "number":
        if pg:
            return (f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} = trunc({col}) AND abs({col}) < 9e18 "
                    f"THEN to_jsonb(CAST({col} AS bigint)) ELSE to_jsonb({col}) END")
        return f"CASE WHEN {col} IS NULL THEN NULL ELSE json({_number_text(col)}) END"
    return None


def json_object(pairs: dict[str, str]) -> str:
    args = ", ".join(f"{literal(k)}, {v}" for k, v in pairs.items())
    return f"CAST(json_build_object({args}) AS text)" if is_postgres() else f"json_object({args})"


def json_merge(body: dict, pairs: dict[str, str]) -> str:
    """``body`` (a constant) with ``pairs`` (SQL text expressions) added, as JSON text."""
    base = literal(json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str))
    if is_postgres():
        args = ", ".join(f"{literal(k)}, {v}" for k, v in pairs.items())
        return f"CAST(CAST({base} AS jsonb) || jsonb_build_object({args}) AS text)"
    args = ", ".join(f"{literal('$.' + k)}, {v}" for k, v in pairs.items())
    return f"json_set({base}, {args})"
