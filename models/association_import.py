"""Associations filled by a CSV import (issue 13 §2), called by ``models.importer``.

A column named after an association (``company`` or its label ``Company``) holds the
other record's id; a column ``company.domain`` (or ``Company Domain``: the association's
label and a property's name or label) holds a property value that names exactly one
record, such as the company's domain. Several ids or values in one cell are separated
by ``;`` for a to-many association. A value that names no record, or more than one,
stops the import naming its line and column, like any bad value.

Links need the new records' ids: the import inserts in one transaction, with the
record table locked against other writers on PostgreSQL (SQLite's write lock already
serialises them), so the new ids are the ones above the largest id before the import,
in file order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from models.associations import Assoc, associations_of, link, resolve
from models.errors import RotaError
from models.objects import find_prop, get_type, record_model
from models.store.dialect import dialect


@dataclass
class _Column:
    index: int
    title: str
    assoc: Assoc
    by: str | None  # property of the other record; None: ids


@dataclass
class AssociationColumns:
    type_name: str
    columns: list[_Column]
    pairs: list[tuple[int, str, int]] = field(default_factory=list)  # (row in file order, association, other id)
    rows_seen: int = 0
    _cache: dict = field(default_factory=dict)
    _first: int = 0

    def claims(self, title: str) -> bool:
        return any(c.title == title for c in self.columns)

    def read(self, row: list[str], line: int, path) -> None:
        """Resolve this data row's association cells (call once per row, in file order)."""
        n = self.rows_seen
        self.rows_seen += 1
        for c in self.columns:
            cell = row[c.index].strip()
            if not cell:
                continue
            parts = [p.strip() for p in cell.split(";") if p.strip()] if c.assoc.many else [cell]
            for part in parts:
                key = (c.index, part.lower())
                if key not in self._cache:
                    try:
                        self._cache[key] = resolve(self.type_name, c.assoc.name, part, by=c.by)
                    except ValueError as exc:
                        raise RotaError(f'{path}: line {line}, column "{c.title}": {exc}') from None
                self.pairs.append((n, c.assoc.name, self._cache[key]))

    def begin(self) -> None:
        """Inside the import's transaction, before the insert: note where new ids start."""
        if not self.columns:
            return
        table = get_type(self.type_name).table_name
        dialect().lock_table(table)
        model = record_model(self.type_name)
        self._first = int(model.select(model.id).order_by(model.id.desc()).limit(1).scalar() or 0)

    def finish(self) -> int:
        """After the insert, same transaction: write the links; returns how many."""
        if not self.columns or not self.pairs:
            return 0
        model = record_model(self.type_name)
        ids = [r[0] for r in model.select(model.id).where(model.id > self._first).order_by(model.id).tuples()]
        by_assoc: dict[str, list[tuple[int, int]]] = {}
        for n, name, other in self.pairs:
            by_assoc.setdefault(name, []).append((ids[n], other))
        total = 0
        for name, pairs in by_assoc.items():
            total += link(self.type_name, name, pairs)
        return total


def association_columns(type_name: str, header: list[str], unknown: list[str]) -> AssociationColumns:
    """The association columns among the headers no property claimed."""
    assocs = associations_of(type_name)
    by_key: dict[str, Assoc] = {}
    for a in assocs.values():
        by_key[a.label.strip().lower()] = a
        by_key[a.name.lower()] = a
    columns = []
    for i, raw in enumerate(header):
        title = raw.strip()
        if title not in unknown:
            continue
        key = title.lower()
        if key in by_key:
            columns.append(_Column(i, title, by_key[key], None))
            continue
        for sep in (".", " · ", " "):
            head, _, tail = key.partition(sep)
            if tail and head in by_key and (prop := find_prop(by_key[head].other_type, tail)) is not None:
                columns.append(_Column(i, title, by_key[head], prop.name))
                break
        else:
            for label, a in by_key.items():  # "Company Domain": a label with spaces, then the property
                rest = key[len(label):].strip() if key.startswith(label + " ") else ""
                if rest and (prop := find_prop(a.other_type, rest)) is not None:
                    columns.append(_Column(i, title, a, prop.name))
                    break
    return AssociationColumns(type_name, columns)
