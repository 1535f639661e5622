"""Text that crosses the boundary to a person or from a file: shown safely, read safely.

``printable`` is THE escaping helper: every place that puts stored text on a terminal
(the CLI's tables and messages, the app's widgets) passes it through here, so a record
value or workflow name holding ``ESC]0;…BEL`` shows as ``\\x1b]0;…\\x07`` instead of
retitling the terminal. ``shorten`` keeps an echoed value from turning a one-line
error into a screenful. ``loads_json`` parses JSON with the limits a hostile or broken
file needs (depth, number size, no NaN), raising RotaError in words.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from models.errors import RotaError

# C0 controls, DEL, C1 controls, and the bidirectional overrides/isolates that can make
# text read differently from what it is ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any, *, keep_lines: bool = False) -> str:
    """``value`` as text with every control character escaped (``\\x1b``, ``\\x00``, ``\\u202e``).

    Newlines and tabs are escaped too (a table cell or a one-line message stays one
    line) unless ``keep_lines``, for multi-line text areas. Backslashes are left alone,
    so paths and ordinary text read as typed.
    """
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_KEEP_LINES if keep_lines else _UNSAFE
    return pattern.sub(_escape, text) if pattern.search(text) else text


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut in the middle to at most ``limit`` characters (``abc…xyz``), for echoing
    user input inside an error message."""
    if len(text) <= limit:
        return text
    keep = max(limit - 1, 2)
    head = keep - keep // 3
    return f"{text[:head]}…{text[-(keep - head):]} ({len(text):,} characters)"


# -------------------------------------------------------------------------- JSON input

MAX_JSON_DEPTH = 64  # a workflow file nests a branch in ~4 levels; 64 allows 15 deep branches
MAX_INT_DIGITS = 19  # every integer Rota stores fits in 64 bits
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
INT64_MAX = 2**63 - 1


def _json_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in ``text`` (strings skipped), without recursion."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _int(token: str) -> int:
    if len(token.lstrip("-")) > MAX_INT_DIGITS or not -INT64_MAX - 1 <= int(token) <= INT64_MAX:
        raise RotaError(f"the number {shorten(token, 30)} is too large: numbers must fit in 64 bits")
    return int(token)


def _float(token: str) -> float:
    if len(token) > 40:
        raise RotaError(f"the number {shorten(token, 30)} has too many digits")
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise RotaError(f"the number {shorten(token, 30)} is too large")
    return value


def _constant(token: str):
    raise RotaError(f"{token} is not a number JSON allows; write a number or null")


def loads_json(text: str, source: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON ``text`` from ``source`` (a file name or option, for the message).

    Refuses nesting deeper than ``max_depth`` (Python's parser would overflow its stack
    near 1,000 and the validators recurse), integers past 64 bits, infinite floats and
    NaN, each with a one-line RotaError that names ``source``.
    """
    depth = _json_depth(text)
    if depth > max_depth:
        raise RotaError(f"{source}: nested {depth} levels deep; at most {max_depth} levels are allowed")
    try:
        return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise RotaError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RotaError as exc:
        raise RotaError(f"{source}: {exc}") from None
    except RecursionError:  # a depth the scan above missed (it cannot, but never a traceback)
        raise RotaError(f"{source}: nested too deeply") from None


def read_text_file(path, what: str = "file") -> str:
    """A UTF-8 text file's content, or a RotaError naming the file and what to fix."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise RotaError(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise RotaError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RotaError(f"{path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                        f"save the {what} as UTF-8") from None


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def dumps_json(value: Any, *, indent: int | None = 2) -> str:
    """JSON for a terminal or a file: UTF-8 text kept readable, but every control
    character escaped (``json`` escapes C0 itself; C1, DEL and bidi controls become
    ``\\u009b``-style escapes here), so printing it is as safe as ``printable``.
    The text parses back to exactly the same value."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _JSON_UNSAFE.search(text) else text
