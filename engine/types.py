"""Object types as operators manage them: the type file, import and export, and the
changes that must not break a workflow (issue 13 §1).

The type file::

    {"name": "invoice", "label": "Invoice", "plural": "Invoices",
     "properties": [{"name": "total", "label": "Total", "type": "number", "required": true},
                    {"name": "state", "label": "State", "type": "enumeration",
                     "options": [{"name": "open", "label": "Open"}, {"name": "paid", "label": "Paid"}]}],
     "associations": [{"name": "company", "label": "Company", "to": "company",
                       "cardinality": "many_to_one", "inverse": "invoices"}]}

Importing creates the type, or extends it: new properties are added (a real typed
column each), labels, options and ``required`` are updated, and a changed ``type``
converts the stored values (refused, naming a record, when one would not convert).
Properties missing from the file are kept; removing one is a separate, explicit act
(``remove_property``) that is refused while a workflow uses it.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.workflows import list_workflows, validate_workflow, workflow_body
from models import associations, objects
from models.errors import RotaError
from models.objects import PROPERTY_TYPES, RESERVED
from models.store import object_types
from models.store.dialect import write_transaction
from models.store.records import count_records
from models.text import loads_json, read_text_file

TYPE_KEYS = ("name", "label", "plural", "properties", "associations")
PROPERTY_KEYS = ("name", "label", "type", "options", "required")


# ----------------------------------------------------------------------- the file


def read_type_file(path: str | Path) -> dict:
    """The type file's JSON, read with the limits a broken file needs (UTF-8, depth,
    number size), every problem a one-line RotaError naming the file."""
    path = Path(path)
    return loads_json(read_text_file(path, "type file"), str(path))


def validate_type_spec(spec: Any) -> dict:
    """The type file in normal form, or a RotaError naming the field to fix."""
    if not isinstance(spec, dict):
        raise RotaError('a type file is a JSON object: {"name", "label", "properties": [...]}')
    unknown = [k for k in spec if k not in TYPE_KEYS]
    if unknown:
        raise RotaError(f'unknown field "{unknown[0]}" (known: {", ".join(TYPE_KEYS)})')
    name = spec.get("name")
    if not isinstance(name, str) or not objects.NAME_RE.match(name.strip()):
        raise RotaError(f'name: "{name}" is not a type name; use lowercase letters, digits and _, '
                        "starting with a letter (e.g. invoice)")
    name = name.strip()
    label = spec.get("label")
    if label is not None and (not isinstance(label, str) or len(label.strip()) > 120):
        raise RotaError("label: expected text of at most 120 characters")
    plural = spec.get("plural")
    if plural is not None and (not isinstance(plural, str) or len(plural.strip()) > 120):
        raise RotaError("plural: expected text of at most 120 characters")
    raw_props = spec.get("properties", [])
    if not isinstance(raw_props, list):
        raise RotaError("properties: expected a list of properties")
    props, seen = [], set()
    for i, raw in enumerate(raw_props, 1):
        at = f"properties[{i}]"
        if not isinstance(raw, dict):
            raise RotaError(f'{at}: a property is an object with "name", "label" and "type"')
        extra = [k for k in raw if k not in PROPERTY_KEYS]
        if extra:
            raise RotaError(f'{at}: unknown field "{extra[0]}" (known: {", ".join(PROPERTY_KEYS)})')
        pname = raw.get("name")
        if not isinstance(pname, str) or not objects.NAME_RE.match(pname.strip()):
            raise RotaError(f'{at}: name "{pname}" is not valid; use lowercase letters, digits and _, '
                            "starting with a letter")
        pname = pname.strip()
        at = f"{at} ({pname})"
        if pname in RESERVED:
            raise RotaError(f"{at}: the name is reserved (Rota keeps id, createdate and updated_at itself)")
        if pname in seen:
            raise RotaError(f"{at}: the property appears twice")
        seen.add(pname)
        ptype = raw.get("type")
        if ptype not in PROPERTY_TYPES:
            raise RotaError(f'{at}: type "{ptype}" is unknown; use one of {", ".join(PROPERTY_TYPES)}')
        plabel = raw.get("label", pname.replace("_", " ").title())
        if not isinstance(plabel, str) or not plabel.strip() or len(plabel.strip()) > 120:
            raise RotaError(f"{at}: label: expected text of at most 120 characters")
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise RotaError(f"{at}: required: expected true or false")
        options = raw.get("options")
        if ptype == "enumeration":
            if not isinstance(options, list) or not options:
                raise RotaError(f'{at}: an enumeration needs "options": [{{"name", "label"}}, ...]')
            try:
                options = object_types.normalise_options(options)
            except RotaError as exc:
                raise RotaError(f"{at}: {exc}") from None
        elif options not in (None, []):
            raise RotaError(f"{at}: options apply only to an enumeration")
        props.append({"name": pname, "label": plabel.strip(), "type": ptype,
                      **({"options": options} if ptype == "enumeration" else {}), "required": required})
    out: dict[str, Any] = {"name": name, "label": (label or "").strip() or None,
                           "plural": (plural or "").strip() or None, "properties": props}
    if "associations" in spec:
        out["associations"] = spec["associations"]
    return out


# ------------------------------------------------------------------- import, export


def import_type(spec: Any) -> list[str]:
    """Create or extend a type from a type file's content; return what changed, in words.

    A file that names only some properties (or leaves out the label) changes only
    those: the Types screen adds or edits one property this way.

    All or nothing: a refused change leaves the type as it was.
    """
    clean = validate_type_spec(spec)
    name = clean["name"]
    changes: list[str] = []
    try:
        with write_transaction():
            exists = name in {t.name for t in objects.list_types()}
            if not exists:
                object_types.create_object_type(
                    name, clean["label"] or name.replace("_", " ").title(), clean["plural"],
                    [(p["name"], p["label"], p["type"], p.get("options"), p["required"]) for p in clean["properties"]])
                changes.append(f"created type {name} with {len(clean['properties'])} properties")
            else:
                changes += _extend(name, clean)
            if "associations" in clean:
                changes += _apply_associations(name, clean["associations"])
            if exists:
                _check_workflows_still_valid(name)
    finally:
        objects.invalidate_cache()  # a rolled-back change must not leave a cached column behind
    return changes


def _extend(name: str, clean: dict) -> list[str]:
    otype = objects.get_type(name)
    changes: list[str] = []
    before_label, before_plural = otype.label, otype.plural
    object_types.update_type(name, label=clean["label"], plural=clean["plural"])
    otype = objects.get_type(name)
    if (otype.label, otype.plural) != (before_label, before_plural):
        changes.append(f"renamed type {name} to {otype.label} / {otype.plural}")
    current = objects.get_props(name)
    for p in clean["properties"]:
        have = current.get(p["name"])
        if have is None:
            object_types.add_property(name, p["name"], p["label"], p["type"], p.get("options"), p["required"])
            changes.append(f"added property {p['name']} ({p['type']})")
            continue
        if have.type != p["type"]:
            if have.builtin:
                raise RotaError(f'properties ({p["name"]}): a built-in property keeps its type ({have.type})')
            object_types.change_property_type(name, p["name"], p["type"], p.get("options"))
            changes.append(f"changed property {p['name']} from {have.type} to {p['type']}")
            have = objects.get_props(name)[p["name"]]
        after = object_types.update_property(name, p["name"], label=p["label"], options=p.get("options"),
                                        required=None if have.builtin else p["required"])
        if (after.label, after.options, after.required) != (have.label, have.options, have.required):
            changes.append(f"updated property {p['name']}")
    return changes


ASSOCIATION_KEYS = ("name", "label", "to", "cardinality", "inverse", "inverse_label")


def _apply_associations(name: str, raw: Any) -> list[str]:
    """Declare the type's associations: ``[{"name", "to", "cardinality", "label",
    "inverse", "inverse_label"}]``; ones that exist already are left as they are."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        raise RotaError('associations: expected a list such as [{"name": "company", "to": "company", '
                        '"cardinality": "many_to_one"}]')
    changes = []
    for i, item in enumerate(raw, 1):
        at = f"associations[{i}]"
        if not isinstance(item, dict):
            raise RotaError(f'{at}: an association is an object with "name", "to" and "cardinality"')
        extra = [k for k in item if k not in ASSOCIATION_KEYS]
        if extra:
            raise RotaError(f'{at}: unknown field "{extra[0]}" (known: {", ".join(ASSOCIATION_KEYS)})')
        if not isinstance(item.get("to"), str):
            raise RotaError(f'{at}: "to" names the other object type, e.g. "company"')
        before = set(associations.associations_of(name))
        try:
            assoc = associations.define_association(
                name, item.get("name"), item["to"].strip(), item.get("cardinality", "many_to_one"),
                label=item.get("label"), inverse=item.get("inverse"), inverse_label=item.get("inverse_label"))
        except RotaError as exc:
            raise RotaError(f"{at}: {exc}") from None
        if assoc.name not in before:
            changes.append(f"added association {assoc.name} (to {assoc.other_type})")
    return changes


def _check_workflows_still_valid(type_name: str) -> None:
    """After a type change, every workflow on the type must still validate."""
    for wf in list_workflows():
        if wf.object_type.name != type_name:
            continue
        try:
            validate_workflow(workflow_body(wf))
        except RotaError as exc:
            raise RotaError(f'the change would break workflow "{wf.name}": {exc}') from None


def export_type(name: str) -> dict:
    spec = objects.type_spec(name)
    defined = associations.definitions_of(name)
    return {**spec, "associations": defined} if defined else spec


def type_summaries() -> list[dict]:
    """Every type for ``rota type list`` and the Types screen: name, label, plural,
    built in or not, its properties and how many records it holds."""
    out = []
    for t in objects.list_types():
        spec = objects.type_spec(t)
        out.append({"name": t.name, "label": t.label, "plural": t.plural, "builtin": bool(t.builtin),
                    "properties": spec["properties"], "records": count_records(t.name)})
    return out


# ---------------------------------------------------------------- safe removal


def _uses(body: dict, type_name: str, prop: str) -> Iterator[str]:
    """Where a workflow body refers to ``type_name.prop``: criteria filters, step fields
    and {prop} in templates."""
    own = body.get("object_type") == type_name
    assocs = associations.associations_of(body["object_type"]) if body.get("object_type") else {}

    def walk(node, where: str):
        if isinstance(node, dict):
            if own and node.get("property") == prop and "association" not in node:
                yield where
            ref = node.get("association")
            assoc = assocs.get(ref) if isinstance(ref, str) else None
            if assoc is not None and assoc.other_type == type_name and node.get("property") == prop:
                yield where
            for key in ("from", "to", "to_property"):
                if own and node.get(key) == prop:
                    yield where
            for key, value in node.items():
                yield from walk(value, f"{where}.{key}" if where else key)
        elif isinstance(node, list):
            for i, value in enumerate(node, 1):
                yield from walk(value, f"{where}[{i}]")
        elif isinstance(node, str) and own and "{" + prop + "}" in node.replace(" ", ""):
            yield where

    for key in ("criteria", "suppression", "unenrollment", "actions"):
        yield from walk(body.get(key) or [], key)


def workflows_using(type_name: str, prop: str) -> list[tuple[str, str]]:
    """(workflow name, where) for every workflow that refers to the property."""
    out = []
    for wf in list_workflows():
        where = next(_uses(workflow_body(wf), type_name, prop), None)
        if where is not None:
            out.append((wf.name, where))
    return out


def remove_property(type_name: str, prop: str) -> None:
    """Remove a custom property, its column and values; refused while a workflow uses it."""
    otype = objects.get_type(type_name)
    found = objects.find_prop(otype, prop)
    if found is None:
        raise RotaError(f'{otype.name} has no property "{prop}"')
    users = workflows_using(otype.name, found.name)
    if users:
        name, where = users[0]
        more = f" (and {len(users) - 1} more)" if len(users) > 1 else ""
        raise RotaError(f'cannot remove {otype.name}.{found.name}: workflow "{name}" uses it in {where}{more}; '
                        "change the workflow first")
    try:
        object_types.drop_property(otype.name, found.name)
    finally:
        objects.invalidate_cache()
