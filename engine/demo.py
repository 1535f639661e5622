"""Demo data: realistic contacts, companies, deals and tickets, and sample workflows.

The data tables (names, cities, industries, …) and the sample workflows are files in
``engine/demo_data/``; this module is the logic that turns them into rows.

The point is to see Rota at the scale it is meant for, so a million contacts must load
in well under a minute. That rules out per-record ``create_record``: rows are generated
column-wise from a seeded ``random.Random`` (the same seed and ``now`` give the same data),
already in driver form (instants as integer microseconds, dates as ISO text), and go
in through ``models.importer.bulk_insert`` in large batches inside ONE transaction.
For a large load, the record table's secondary indexes are dropped first and rebuilt
afterwards, inside the same transaction: building an index once over sorted data is far
cheaper than maintaining it row by row.

Running the demo again adds more records; sample workflows that exist already (by
name) are left alone, so re-running never fails and never overwrites an operator's
edits.
"""
from __future__ import annotations

import json
import math
import random
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from engine.workflows import save_workflow
from models.associations import associations_of
from models.errors import RotaError
from models.importer import bulk_insert
from models.objects import get_type
from models.store import bulk_load
from models.store.dialect import write_transaction
from models.store.workflows import find_by_name
from models.timeutil import UTC, to_micros, utcnow

CHUNK_ROWS = 20_000  # rows generated per step: bounds memory whatever the total
BATCH_ROWS = 10_000  # rows per executemany / execute_values call
REINDEX_MIN_ROWS = 50_000  # below this, dropping and rebuilding indexes costs more than it saves
DAY_US = 86_400 * 1_000_000
DATA = Path(__file__).with_name("demo_data")


@dataclass(frozen=True)
class Country:
    name: str
    weight: int
    phone: str
    tld: str
    free_mail: tuple[str, ...]
    legal: str
    cities: tuple[str, ...]
    first: tuple[str, ...]
    last: tuple[str, ...]


def _data(name: str) -> dict:
    """One of the demo's data files (engine/demo_data/NAME.json)."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def _pairs(rows) -> tuple[tuple, tuple]:
    """[[value, weight], …] → (values, weights)."""
    return tuple(r[0] for r in rows), tuple(r[1] for r in rows)


_PEOPLE, _COMPANIES, _DEALS, _TICKETS = (_data(n) for n in ("people", "companies", "deals", "tickets"))
OWNERS, OWNER_WEIGHTS = _pairs(_PEOPLE["owners"])
COUNTRIES: tuple[Country, ...] = tuple(
    Country(c["name"], c["weight"], c["phone"], c["tld"], tuple(c["free_mail"]), c["legal"], tuple(c["cities"]),
            tuple(c["first"]), tuple(c["last"])) for c in _PEOPLE["countries"])
_COUNTRY_CUM = tuple(sum(c.weight for c in COUNTRIES[: i + 1]) for i in range(len(COUNTRIES)))
JOB_TITLES = tuple(_PEOPLE["job_titles"])
# Lifecycle stages with the skew of a real funnel; None = never set (unknown).
STAGES, STAGE_WEIGHTS = _pairs(_PEOPLE["lifecycle_stages"])
NAME_HEADS = tuple(_COMPANIES["name_heads"])
NAME_TAILS = tuple(_COMPANIES["name_tails"])
INDUSTRY_WORD = {k: word for k, word, _ in _COMPANIES["industries"]}
INDUSTRIES = tuple(INDUSTRY_WORD)
INDUSTRY_WEIGHTS = tuple(w for _, _, w in _COMPANIES["industries"])
PRODUCTS = tuple(_DEALS["products"])
PIPELINES, PIPELINE_WEIGHTS = _pairs(_DEALS["pipelines"])
DEAL_STAGES, DEAL_STAGE_WEIGHTS = _pairs(_DEALS["stages"])
TICKET_SUBJECTS = tuple(_TICKETS["subjects"])
MONTHS = tuple(_TICKETS["months"])
TICKET_STATUSES, TICKET_STATUS_WEIGHTS = _pairs(_TICKETS["statuses"])
PRIORITIES, PRIORITY_WEIGHTS = _pairs(_TICKETS["priorities"])


def _cum(weights) -> tuple[int, ...]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


def _slug(text: str) -> str:
    """ASCII for an email address: "Åberg" → "aberg", "de Jong" → "dejong"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum())


# Precomputed once: the per-row loop then only indexes tuples.
_FIRST_SLUGS = tuple(tuple(_slug(n) for n in c.first) for c in COUNTRIES)
_LAST_SLUGS = tuple(tuple(_slug(n) for n in c.last) for c in COUNTRIES)


def _company_name(rng: random.Random, country: Country, industry: str) -> tuple[str, str]:
    """("Nordicpeak Logistics AB", "nordicpeak.se")."""
    core = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS)
    name = f"{core} {INDUSTRY_WORD[industry]} {country.legal}" if rng.random() < 0.6 else f"{core} {country.legal}"
    return name, f"{core.lower()}.{country.tld}"


# --------------------------------------------------------------------- generators
# Each yields driver-ready tuples in the order of its *_COLUMNS.

CONTACT_COLUMNS = ("firstname", "lastname", "email", "phone", "city", "country", "jobtitle", "owner",
                   "lifecycle_stage", "last_activity_date", "createdate", "updated_at")


def contact_rows(rng: random.Random, n: int, now_us: int) -> Iterator[tuple]:
    """Contacts created over the last 3 years (more of them recently), most with a later activity."""
    span = 3 * 365 * DAY_US
    company_domains = [f"{_slug(h + t)}" for h in NAME_HEADS for t in NAME_TAILS]
    ncountry = len(COUNTRIES)
    done = 0
    while done < n:
        k = min(CHUNK_ROWS, n - done)
        done += k
        countries = rng.choices(range(ncountry), cum_weights=_COUNTRY_CUM, k=k)
        stages = rng.choices(STAGES, cum_weights=_cum(STAGE_WEIGHTS), k=k)
        titles = rng.choices(JOB_TITLES, k=k)
        owners = rng.choices(OWNERS, cum_weights=_cum(OWNER_WEIGHTS), k=k)
        rand = rng.random
        for i in range(k):
            ci = countries[i]
            c = COUNTRIES[ci]
            fi = int(rand() * len(c.first))
            li = int(rand() * len(c.last))
            first, last = c.first[fi], c.last[li]
            r = rand()
            if r < 0.45:  # work address at a company domain
                domain = f"{company_domains[int(rand() * len(company_domains))]}.{c.tld}"
                local = f"{_FIRST_SLUGS[ci][fi]}.{_LAST_SLUGS[ci][li]}"
            elif r < 0.9:  # personal address with a number, as people pick them
                domain = c.free_mail[int(rand() * len(c.free_mail))]
                local = f"{_FIRST_SLUGS[ci][fi]}{_LAST_SLUGS[ci][li]}{int(rand() * 1000)}"
            else:
                domain = c.free_mail[int(rand() * len(c.free_mail))]
                local = f"{_FIRST_SLUGS[ci][fi][0]}{_LAST_SLUGS[ci][li]}{int(rand() * 100)}"
            created = now_us - int(span * rand() ** 1.4)
            active = created + int((now_us - created) * (1.0 - rand() ** 2)) if rand() < 0.85 else None
            yield (
                first, last, f"{local}@{domain}",
                f"{c.phone} {int(rand() * 900_000_000) + 100_000_000}" if rand() < 0.8 else None,
                c.cities[int(rand() * len(c.cities))], c.name,
                titles[i] if rand() < 0.9 else None, owners[i], stages[i],
                active, created, active or created,
            )


COMPANY_COLUMNS = ("name", "domain", "city", "country", "owner", "industry", "num_employees", "annual_revenue",
                   "createdate", "updated_at")


def company_rows(rng: random.Random, n: int, now_us: int) -> Iterator[tuple]:
    """Companies from 2 to ~6,000 employees (log-uniform), revenue in line with their size."""
    span = 5 * 365 * DAY_US
    for _ in range(n):
        c = COUNTRIES[rng.choices(range(len(COUNTRIES)), cum_weights=_COUNTRY_CUM)[0]]
        industry = rng.choices(INDUSTRIES, cum_weights=_cum(INDUSTRY_WEIGHTS))[0]
        name, domain = _company_name(rng, c, industry)
        employees = int(10 ** (rng.random() * 3.5 + 0.3))
        revenue = round(employees * rng.uniform(60_000, 260_000), -3)
        created = now_us - int(span * rng.random())
        yield (name, domain, rng.choice(c.cities), c.name, rng.choices(OWNERS, cum_weights=_cum(OWNER_WEIGHTS))[0],
               industry, float(employees), float(revenue), created, created + int((now_us - created) * rng.random()))


DEAL_COLUMNS = ("dealname", "owner", "pipeline", "dealstage", "amount", "closedate", "createdate", "updated_at")


def deal_rows(rng: random.Random, n: int, now_us: int) -> Iterator[tuple]:
    """Deals over 2 years; closed ones closed in the past, open ones expected to close soon."""
    span = 2 * 365 * DAY_US
    now = datetime.fromtimestamp(now_us / 1e6, UTC)
    for _ in range(n):
        c = COUNTRIES[rng.choices(range(len(COUNTRIES)), cum_weights=_COUNTRY_CUM)[0]]
        industry = rng.choices(INDUSTRIES, cum_weights=_cum(INDUSTRY_WEIGHTS))[0]
        company, _ = _company_name(rng, c, industry)
        stage = rng.choices(DEAL_STAGES, cum_weights=_cum(DEAL_STAGE_WEIGHTS))[0]
        created = now_us - int(span * rng.random())
        cycle = int(rng.uniform(14, 120) * DAY_US)
        close_us = created + cycle
        if stage.startswith("closed"):
            close_us = min(close_us, now_us)
        elif close_us < now_us:  # an open deal whose date passed gets pushed out, as reps do
            close_us = now_us + int(rng.uniform(3, 60) * DAY_US)
        amount = round(math.exp(rng.gauss(9.0, 1.0)), -2) or 100.0
        closedate = (now + timedelta(microseconds=close_us - now_us)).date().isoformat()
        yield (f"{company} – {rng.choice(PRODUCTS)}", rng.choices(OWNERS, cum_weights=_cum(OWNER_WEIGHTS))[0],
               rng.choices(PIPELINES, cum_weights=_cum(PIPELINE_WEIGHTS))[0], stage, float(amount), closedate,
               created, min(now_us, created + int(cycle * rng.random())))


TICKET_COLUMNS = ("subject", "owner", "status", "priority", "createdate", "updated_at")


def ticket_rows(rng: random.Random, n: int, now_us: int) -> Iterator[tuple]:
    """Support tickets over the last year, half of them closed."""
    span = 365 * DAY_US
    for _ in range(n):
        subject = rng.choice(TICKET_SUBJECTS).replace("{month}", rng.choice(MONTHS))
        created = now_us - int(span * rng.random() ** 1.2)
        yield (subject, rng.choices(OWNERS, cum_weights=_cum(OWNER_WEIGHTS))[0],
               rng.choices(TICKET_STATUSES, cum_weights=_cum(TICKET_STATUS_WEIGHTS))[0],
               rng.choices(PRIORITIES, cum_weights=_cum(PRIORITY_WEIGHTS))[0],
               created, created + int((now_us - created) * rng.random()))


# ----------------------------------------------------------------------- indexes


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's plain (non-unique, non-key) indexes."""
    return bulk_load.secondary_indexes(table)


def _load(type_name: str, columns: tuple[str, ...], rows: Iterator[tuple], n: int,
          on_batch: Callable[[int], None] | None = None) -> int:
    """Bulk-insert ``n`` generated rows, rebuilding secondary indexes once for a big load."""
    if n <= 0:
        return 0
    table = get_type(type_name).table_name
    existing = bulk_load.row_count(table)
    indexes = _secondary_indexes(table) if n >= REINDEX_MIN_ROWS and n >= existing else []
    for name, _ in indexes:
        bulk_load.drop_index(name)
    count = bulk_insert(type_name, columns, rows, batch_rows=BATCH_ROWS, on_batch=on_batch)
    for _, sql in indexes:
        bulk_load.create_index(sql)
    return count


# ------------------------------------------------------------------ associations

# (from type, association, to type, share of from records linked (of 10), multiplier)
# The other record is picked by arithmetic on the id, in SQL: set-based at any size,
# and the same data for the same seed.
DEMO_LINKS = (
    ("contact", "company", "company", 8, 7919),
    ("deal", "company", "company", 10, 104729),
    ("deal", "contacts", "contact", 10, 15485863),
    ("deal", "contacts", "contact", 3, 32452843),  # a second contact on some deals
    ("ticket", "contact", "contact", 9, 49979687),
)


def _max_id(type_name: str) -> int:
    table = get_type(type_name).table_name
    return bulk_load.max_id(table)


def _link_demo(added: dict[str, tuple[int, int]]) -> int:
    """Link the records added now: contacts to companies, deals to a company and one or
    two contacts, tickets to a contact (INSERT … SELECT, one statement per kind)."""
    total = 0
    for from_type, name, to_type, share, mult in DEMO_LINKS:
        (lo, n), (to_lo, to_n) = added[from_type], added[to_type]
        if not n or not to_n:
            continue
        assoc = associations_of(from_type)[name]
        table = get_type(from_type).table_name
        total += bulk_load.link_by_arithmetic(assoc.id, table, after_id=lo, share=share, to_first=to_lo + 1,
                                              to_count=to_n, multiplier=mult)
    return total


# --------------------------------------------------------------------- workflows


def sample_workflows() -> list[dict]:
    """One sample workflow of every schedule kind, with realistic criteria and actions,
    read from engine/demo_data/workflows/ (SPEC §9 files: ``rota workflow import`` takes
    them as they are, and the tests use them as import fixtures).

    Time zones are left out so each takes the operator's own (the settings' zone). The
    webhook example posts only to a local placeholder and stays a draft, so the demo
    never calls out.
    """
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((DATA / "workflows").glob("*.json"))]


def _save_samples(now: datetime) -> tuple[int, int]:
    """Save the sample workflows that do not exist yet; returns (created, skipped)."""
    created = skipped = 0
    for body in sample_workflows():
        if find_by_name(body["name"]) is not None:
            skipped += 1
            continue
        save_workflow(body, actor="demo", now=now, mode="create")
        created += 1
    return created, skipped


# --------------------------------------------------------------------------- entry


def load_demo(*, contacts: int = 5000, companies: int = 500, deals: int = 800, tickets: int = 600,
              seed: int = 42, now: datetime | None = None, workflows: bool = True,
              progress: Callable[[str], None] | None = None,
              on_rows: Callable[[int, int], None] | None = None) -> dict:
    """Add demo records (and the sample workflows) to the open database.

    All records go in one transaction: an interrupted load leaves nothing behind.
    Returns the counts added, the workflows created / skipped and the seconds taken.
    ``on_rows(rows_done, rows_total)`` is called after every inserted batch (a progress bar).
    """
    for label, n in (("contacts", contacts), ("companies", companies), ("deals", deals), ("tickets", tickets)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise RotaError(f"--{label}: expected a whole number, 0 or more")
    started = time.perf_counter()
    now = now or utcnow()
    now_us = to_micros(now)
    rng = random.Random(seed)
    out: dict = {}
    total = contacts + companies + deals + tickets
    with write_transaction():
        first: dict[str, tuple[int, int]] = {}  # type → (largest id before, how many added)
        for type_name, key, columns, gen, n in (
            ("contact", "contacts", CONTACT_COLUMNS, contact_rows, contacts),
            ("company", "companies", COMPANY_COLUMNS, company_rows, companies),
            ("deal", "deals", DEAL_COLUMNS, deal_rows, deals),
            ("ticket", "tickets", TICKET_COLUMNS, ticket_rows, tickets),
        ):
            if progress and n:
                progress(f"adding {n:,} {key}…")
            base = sum(out.get(k, 0) for k in ("contacts", "companies", "deals", "tickets"))
            report = None if on_rows is None else (lambda done, base=base: on_rows(base + done, total))
            before = _max_id(type_name)
            out[key] = _load(type_name, columns, gen(rng, n, now_us), n, report)
            first[type_name] = (before, out[key])
        if progress:
            progress("linking contacts, companies, deals and tickets…")
        out["links"] = _link_demo(first)
    out["workflows_created"], out["workflows_skipped"] = _save_samples(now) if workflows else (0, 0)
    out["seconds"] = time.perf_counter() - started
    return out
