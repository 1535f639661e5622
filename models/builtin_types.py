"""The four built-in object types (contact, company, deal, ticket), their properties
and associations, and installing them in a database (the bootstrap does, after the
schema is current; idempotent, so a migration's new built-in properties are seeded too).
"""
from __future__ import annotations

from models.objects import get_props, get_type, invalidate_cache
from models.schema import AssociationDef, ObjectType, PropertyDef
from models.store.object_types import add_property, create_type


def _opts(*names: str) -> list[dict]:
    return [{"name": n, "label": n.replace("_", " ").title()} for n in names]


_OWN = ("owner", "Owner", "string")
BUILTIN_TYPES: dict[str, dict] = {
    "contact": {
        "label": "Contact",
        "plural": "Contacts",
        "properties": [
            ("firstname", "First Name", "string"),
            ("lastname", "Last Name", "string"),
            ("email", "Email", "string"),
            ("phone", "Phone", "string"),
            ("city", "City", "string"),
            ("country", "Country", "string"),
            ("jobtitle", "Job Title", "string"),
            _OWN,
            ("lifecycle_stage", "Lifecycle Stage", "enumeration", _opts(
                "subscriber", "lead", "marketing_qualified_lead", "sales_qualified_lead",
                "opportunity", "customer", "evangelist", "other")),
            ("last_activity_date", "Last Activity Date", "datetime"),
            ("email_opt_out", "Email Opt-Out", "bool"),  # send_email steps skip these records
        ],
    },
    "company": {
        "label": "Company",
        "plural": "Companies",
        "properties": [
            ("name", "Name", "string"),
            ("domain", "Domain", "string"),
            ("city", "City", "string"),
            ("country", "Country", "string"),
            _OWN,
            ("industry", "Industry", "enumeration", _opts(
                "software", "retail", "manufacturing", "finance", "healthcare", "education",
                "media", "logistics", "energy", "consulting")),
            ("num_employees", "Number of Employees", "number"),
            ("annual_revenue", "Annual Revenue", "number"),
        ],
    },
    "deal": {
        "label": "Deal",
        "plural": "Deals",
        "properties": [
            ("dealname", "Deal Name", "string"),
            _OWN,
            ("pipeline", "Pipeline", "string"),
            ("dealstage", "Deal Stage", "enumeration", _opts(
                "appointment_scheduled", "qualified_to_buy", "presentation_scheduled",
                "decision_maker_bought_in", "contract_sent", "closed_won", "closed_lost")),
            ("amount", "Amount", "number"),
            ("closedate", "Close Date", "date"),
        ],
    },
    "ticket": {
        "label": "Ticket",
        "plural": "Tickets",
        "properties": [
            ("subject", "Subject", "string"),
            _OWN,
            ("status", "Status", "enumeration", _opts("new", "waiting_on_contact", "waiting_on_us", "closed")),
            ("priority", "Priority", "enumeration", _opts("low", "medium", "high", "urgent")),
        ],
    },
}


# (from type, name, label, to type, cardinality, inverse name, inverse label)
BUILTIN_ASSOCIATIONS = [
    ("contact", "company", "Company", "company", "many_to_one", "contacts", "Contacts"),
    ("deal", "contacts", "Contacts", "contact", "many_to_many", "deals", "Deals"),
    ("deal", "company", "Company", "company", "many_to_one", "deals", "Deals"),
    ("ticket", "contact", "Contact", "contact", "many_to_one", "tickets", "Tickets"),
]


def install_builtin_types() -> None:
    """The four built-in types and their associations (idempotent)."""
    for name, spec in BUILTIN_TYPES.items():
        if ObjectType.get_or_none(ObjectType.name == name) is None:
            create_type(name, spec["label"], spec["plural"], spec["properties"], builtin=True)
            continue
        # A database made by an older release lacks the built-in properties added since
        # (e.g. contact.email_opt_out): add each one, definition and column together.
        have = set(get_props(name))
        for prop in spec["properties"]:
            if prop[0] not in have:
                add_property(name, prop[0], prop[1], prop[2], prop[3] if len(prop) > 3 else None,
                             prop[4] if len(prop) > 4 else False)
                PropertyDef.update(builtin=True).where(
                    PropertyDef.object_type == get_type(name), PropertyDef.name == prop[0]).execute()
                invalidate_cache()
    for from_name, name, label, to_name, cardinality, inverse, inverse_label in BUILTIN_ASSOCIATIONS:
        source = get_type(from_name)
        if AssociationDef.get_or_none(AssociationDef.from_type == source, AssociationDef.name == name) is None:
            AssociationDef.create(name=name, label=label, from_type=source, to_type=get_type(to_name),
                                  cardinality=cardinality, inverse=inverse, inverse_label=inverse_label, builtin=True)
