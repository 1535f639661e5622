"""CSV import of records, and the bulk insert that import and demo data share.

An import is all or nothing: every row is converted (``coerce_value``) and inserted in
batches inside ONE transaction, so a bad value on line 90,000 leaves the database
exactly as it was. The file is streamed; only one batch of rows is in memory.

Headers are matched to property names or labels ignoring case and surrounding spaces,
so a CRM export with "First Name", "Email", "Lifecycle Stage", "Create Date" imports as
contacts without a mapping step. Columns that match no property are reported and
skipped, never fatal (exports carry many columns Rota has no use for); a file where no
column matches is an error, since it is almost certainly the wrong file or type.

An import only ever creates records: there is no upsert. An ``id`` or "Record ID"
column is not a property, so it is reported as an unknown column and ignored; importing
the same file twice creates the records twice.
"""
from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from models.association_import import association_columns
from models.errors import RotaError
from models.objects import Prop, coerce_value, get_props, get_type
from models.settings import load_settings
from models.store.dialect import write_transaction
from models.store.importer import insert_rows
from models.text import shorten
from models.timeutil import out_of_range, to_micros, utcnow, zone

BATCH_ROWS = 2000
DELIMITERS = (",", ";", "\t")
# A CSV field may be large (notes, descriptions); the stdlib default of 128 KiB is too tight.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class ImportResult:
    """What an import did: for the summary line and the unknown-columns warning."""

    type_name: str
    count: int
    path: Path
    columns: list[str] = field(default_factory=list)  # property names, in file order
    unknown_columns: list[str] = field(default_factory=list)  # headers as written in the file


# ----------------------------------------------------------------------- bulk insert


def _db_converter(prop_type: str) -> Callable[[Any], Any]:
    """Python value → what the driver stores, matching the model's field conversions.

    Done here rather than through Peewee model instances because per-row model
    machinery costs more than the insert itself at a million rows.
    """
    if prop_type == "datetime":
        return lambda v: None if v is None else (v if isinstance(v, int) else to_micros(v))
    if prop_type == "date":
        return lambda v: v.isoformat() if isinstance(v, (date, datetime)) else v
    return lambda v: v


def bulk_insert(type_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                batch_rows: int = BATCH_ROWS, on_batch: Callable[[int], None] | None = None) -> int:
    """Insert driver-ready rows (instants as integer micros, dates ISO text) into a record table.

    The SQL (executemany on SQLite, COPY on PostgreSQL) is in models/store/importer.py.
    The caller owns the transaction. ``on_batch(rows_so_far)`` runs after every batch.
    Returns the number of rows inserted.
    """
    return insert_rows(get_type(type_name).table_name, columns, rows, batch_rows=batch_rows, on_batch=on_batch)


# ------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is, for a progress bar (terminal or the app's ProgressBar).

    ``rows`` counts rows inserted so far; ``bytes_read`` / ``total_bytes`` measure the
    file (the row count of a CSV file is unknown until its end, its size is not).
    """

    rows: int
    bytes_read: int
    total_bytes: int
    elapsed_s: float
    done: bool = False

    @property
    def fraction(self) -> float | None:
        if self.done:
            return 1.0
        return min(self.bytes_read / self.total_bytes, 1.0) if self.total_bytes else None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left, from the share of the file read so far (None until it is known)."""
        fraction = self.fraction
        if not fraction or self.elapsed_s <= 0:
            return None
        return max(self.elapsed_s * (1 - fraction) / fraction, 0.0)


ProgressCallback = Callable[[ImportProgress], None]


class ImportCancelled(RotaError):
    """The import was cancelled (``cancel`` set or ctrl+c): nothing was imported."""


# ------------------------------------------------------------------------- CSV files


def _strip_or_none(raw: str) -> str | None:
    return raw.strip() or None


def _coercer(prop: Prop, tz_name: str) -> Callable[[str], Any]:
    return lambda raw: coerce_value(prop, raw, tz_name)


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file, judged by its header line.

    European spreadsheet exports use ``;`` and some tools write tabs; the header line
    is the most reliable sample (values may contain commas, headers rarely do).
    csv.Sniffer guesses wrong on one-column or very regular files, so count instead.
    """
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(path: Path):
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise RotaError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RotaError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise RotaError(f"cannot read {path}: {exc.strerror}") from None
    return handle


class _NulWatch:
    """The file's lines, noting whether any held a NUL byte (checked per line in C, so
    the rows themselves are only searched once a NUL has been seen)."""

    def __init__(self, handle):
        self.handle = handle
        self.seen = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        if "\x00" in line:
            self.seen = True
        return line


def _refuse_nul(path: Path, line: int, header: list[str], row: list[str]) -> None:
    """A NUL byte is refused: SQLite would store it and PostgreSQL cannot."""
    for i, value in enumerate(row):
        if "\x00" in value:
            title = header[i].strip() if i < len(header) else f"column {i + 1}"
            offset = value.index("\x00") + 1
            raise RotaError(f'{path}: line {line}, column "{title}": a NUL byte (\\x00) at character '
                            f'{offset}; remove it from the file')
    raise RotaError(f"{path}: line {line}: a NUL byte (\\x00); remove it from the file")


def _match_header(type_name: str, header: list[str]) -> tuple[list[tuple[int, Prop]], list[str]]:
    """(column index, property) for every known column, and the unknown headers."""
    props = list(get_props(type_name).values())
    by_key: dict[str, Prop] = {}
    for p in props:  # names win over labels when one property's label is another's name
        by_key.setdefault(p.label.strip().lower(), p)
    for p in props:
        by_key[p.name.lower()] = p
    known: list[tuple[int, Prop]] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(header):
        title = raw.strip()
        prop = by_key.get(title.lower()) if title else None
        if prop is None:
            unknown.append(title or f"(column {i + 1}, no header)")
            continue
        if prop.name in seen:
            raise RotaError(f'line 1: columns "{seen[prop.name]}" and "{title}" both mean the property '
                            f'{prop.name}; remove one of them')
        seen[prop.name] = title
        known.append((i, prop))
    return known, unknown


def import_csv(type_name: str, path: str | Path, *, tz_name: str | None = None,
               now: datetime | None = None, batch_rows: int = BATCH_ROWS,
               progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> ImportResult:
    """Import every row of a CSV file as a new record of ``type_name``; all or nothing.

    ``tz_name`` reads date-times without an offset (default: the settings' time zone).
    Records without a "Create Date" value get ``now``; ``updated_at`` is always ``now``.
    Raises RotaError naming the file line and column of the first bad value, with the
    database unchanged.

    ``progress(ImportProgress)`` is called after every batch and once at the end (from
    the importing thread: an app posts it to its UI thread). Setting ``cancel`` (from
    any thread) stops the import at the next batch with ImportCancelled; the
    transaction is rolled back, so the database is as it was.
    """
    path = Path(path)
    otype = get_type(type_name)  # unknown type: one-line error before touching the file
    type_name = otype.name
    if tz_name is None:
        tz_name = load_settings().timezone
    zone(tz_name)  # a bad --timezone is reported before reading, not on the first naive date-time
    now_micros = to_micros(now or utcnow())
    with _open_csv(path) as handle:
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise RotaError(f"{path}: not UTF-8 text; save the file as CSV UTF-8") from None
        if not first.strip():
            raise RotaError(f"{path}: the file is empty; the first line must name the columns")
        handle.seek(0)
        nul = _NulWatch(handle)
        reader = csv.reader(nul, delimiter=_sniff_delimiter(first))
        try:
            header = next(reader)
        except csv.Error as exc:
            raise RotaError(f"{path}: line 1: {exc}") from None
        if nul.seen:
            _refuse_nul(path, 1, header, header)
        known, unknown = _match_header(type_name, header)
        links = association_columns(type_name, header, unknown)  # company, company.domain, …
        unknown = [u for u in unknown if not links.claims(u)]
        if not known:
            shown = ", ".join(f'"{h}"' for h in header[:6])
            raise RotaError(f"{path}: no column matches a {type_name} property (headers: {shown}); "
                            f"check the object type")
        missing = [p.name for p in get_props(type_name).values()
                   if p.required and p.name not in {k.name for _, k in known}]
        if missing:
            raise RotaError(f'{path}: line 1: no column for the required property "{missing[0]}"')

        props = [p for _, p in known]
        names = [p.name for p in props]
        extra: list[str] = []  # createdate / updated_at filled in when the file lacks them
        if "createdate" not in names:
            extra.append("createdate")
        if "updated_at" not in names:
            extra.append("updated_at")
        # Per column: text → Python value → driver value. Text columns (most of a CRM
        # export) take a fast path with coerce_value's exact meaning: trimmed, "" unknown.
        plan = [(i, prop, _strip_or_none if prop.type == "string" else _coercer(prop, tz_name),
                 _db_converter(prop.type)) for i, prop in known]
        width = len(header)
        ci = names.index("createdate") if "createdate" in names else None
        ui = names.index("updated_at") if "updated_at" in names else None

        def rows():
            line_end = reader.line_num
            while True:
                start = line_end + 1  # the record's first physical line (quoted fields span lines)
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise RotaError(f"{path}: line {reader.line_num}: {exc}") from None
                except UnicodeDecodeError:
                    raise RotaError(f"{path}: line {start}: not UTF-8 text; save the file as CSV UTF-8") from None
                line_end = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                if nul.seen:
                    _refuse_nul(path, start, header, row)
                if len(row) != width:
                    raise RotaError(f"{path}: line {start}: {len(row)} values, but the header has {width} "
                                    f"columns")
                out = []
                for i, prop, parse, conv in plan:
                    try:
                        value = parse(row[i])
                    except ValueError as exc:
                        raise RotaError(f'{path}: line {start}, column "{header[i].strip()}": '
                                        f'{shorten(str(exc), 200)}') from None
                    except OverflowError:
                        raise RotaError(f'{path}: line {start}, column "{header[i].strip()}": '
                                        f'{out_of_range(row[i])}') from None
                    if value is None and prop.required:
                        raise RotaError(f'{path}: line {start}, column "{header[i].strip()}": a value is '
                                        f'required')
                    out.append(conv(value))
                if ci is not None and out[ci] is None:
                    out[ci] = now_micros
                if ui is not None and out[ui] is None:
                    out[ui] = now_micros
                out.extend(now_micros for _ in extra)
                links.read(row, start, path)
                yield out

        total_bytes = path.stat().st_size if path.is_file() else 0
        started = time.monotonic()

        def on_batch(done: int) -> None:
            if cancel is not None and cancel.is_set():
                raise ImportCancelled(f"import of {path} cancelled: nothing was imported")
            if progress is not None:
                progress(ImportProgress(rows=done, bytes_read=handle.buffer.tell(), total_bytes=total_bytes,
                                        elapsed_s=time.monotonic() - started))

        with write_transaction():
            links.begin()
            count = bulk_insert(type_name, names + extra, rows(), batch_rows=batch_rows, on_batch=on_batch)
            links.finish()
    if progress is not None:
        progress(ImportProgress(rows=count, bytes_read=total_bytes, total_bytes=total_bytes,
                                elapsed_s=time.monotonic() - started, done=True))
    return ImportResult(type_name=type_name, count=count, path=path, columns=names, unknown_columns=unknown)
