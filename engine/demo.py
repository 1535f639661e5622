"""Demo data: realistic contacts, companies, deals and tickets, and sample workflows.

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

import math
import random
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterator

from engine.workflows import save_workflow
from models.db import db, is_postgres
from models.errors import RotaError
from models.importer import bulk_insert
from models.objects import get_type
from models.schema import Workflow
from models.timeutil import UTC, to_micros, utcnow

CHUNK_ROWS = 20_000  # rows generated per step: bounds memory whatever the total
BATCH_ROWS = 10_000  # rows per executemany / execute_values call
REINDEX_MIN_ROWS = 50_000  # below this, dropping and rebuilding indexes costs more than it saves
DAY_US = 86_400 * 1_000_000
OWNERS = ("alice", "bob", "carmen", "dmitri", "emma", "farid")
OWNER_WEIGHTS = (24, 20, 18, 14, 14, 10)


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


def _t(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


COUNTRIES: tuple[Country, ...] = (
    Country("United States", 22, "+1", "com", _t("gmail.com|outlook.com|yahoo.com|icloud.com"), "Inc.",
            _t("New York|San Francisco|Chicago|Austin|Seattle|Boston|Denver|Atlanta|Portland|Miami"),
            _t("James|Mary|Michael|Jennifer|David|Linda|Chris|Jessica|Daniel|Ashley|Tyler|Megan|Brandon|Emily"),
            _t("Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Rodriguez|Martinez|Taylor|Anderson|"
               "Thomas|Moore")),
    Country("United Kingdom", 10, "+44", "co.uk", _t("gmail.com|outlook.com|btinternet.com|yahoo.co.uk"), "Ltd",
            _t("London|Manchester|Edinburgh|Bristol|Leeds|Glasgow|Cardiff"),
            _t("Oliver|Amelia|Harry|Isla|George|Olivia|Jack|Emily|Charlotte|Thomas|Sophie|William"),
            _t("Smith|Jones|Taylor|Brown|Williams|Wilson|Evans|Thomas|Roberts|Walker|Wright|Hughes")),
    Country("Germany", 10, "+49", "de", _t("gmail.com|web.de|gmx.de|t-online.de"), "GmbH",
            _t("Berlin|Munich|Hamburg|Cologne|Frankfurt|Stuttgart|Leipzig"),
            _t("Lukas|Anna|Jonas|Lea|Felix|Hannah|Maximilian|Lena|Paul|Julia|Jürgen|Sabine"),
            _t("Müller|Schmidt|Schneider|Fischer|Weber|Becker|Wagner|Hoffmann|Koch|Krause|Schäfer|Richter")),
    Country("France", 8, "+33", "fr", _t("gmail.com|orange.fr|free.fr|laposte.net"), "SAS",
            _t("Paris|Lyon|Marseille|Toulouse|Nantes|Bordeaux|Lille"),
            _t("Camille|Louis|Chloé|Hugo|Léa|Gabriel|Manon|Jules|Inès|Arthur|Élodie|Théo"),
            _t("Martin|Bernard|Dubois|Thomas|Robert|Petit|Durand|Leroy|Moreau|Lefèvre|Girard|Fournier")),
    Country("Sweden", 6, "+46", "se", _t("gmail.com|outlook.com|telia.com|hotmail.se"), "AB",
            _t("Stockholm|Gothenburg|Malmö|Uppsala|Linköping|Umeå"),
            _t("Erik|Anna|Lars|Maria|Karl|Sara|Johan|Emma|Björn|Elin|Oskar|Ingrid"),
            _t("Andersson|Johansson|Karlsson|Nilsson|Eriksson|Larsson|Lindqvist|Olsson|Persson|Svensson|"
               "Lindberg|Åberg")),
    Country("Spain", 6, "+34", "es", _t("gmail.com|hotmail.es|yahoo.es|telefonica.net"), "S.L.",
            _t("Madrid|Barcelona|Valencia|Seville|Bilbao|Málaga"),
            _t("Lucía|Hugo|Martina|Pablo|Sofía|Álvaro|Carmen|Javier|Elena|Diego|Laura|Sergio"),
            _t("García|Fernández|González|Rodríguez|López|Martínez|Sánchez|Pérez|Gómez|Ruiz|Díaz|Moreno")),
    Country("Italy", 5, "+39", "it", _t("gmail.com|libero.it|virgilio.it|hotmail.it"), "S.r.l.",
            _t("Milan|Rome|Turin|Bologna|Florence|Naples"),
            _t("Giulia|Francesco|Chiara|Alessandro|Sofia|Lorenzo|Giorgia|Matteo|Aurora|Andrea|Elisa|Marco"),
            _t("Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Colombo|Ricci|Marino|Greco|Bruno|Gallo")),
    Country("Netherlands", 5, "+31", "nl", _t("gmail.com|ziggo.nl|kpnmail.nl|outlook.com"), "B.V.",
            _t("Amsterdam|Rotterdam|Utrecht|Eindhoven|The Hague|Groningen"),
            _t("Daan|Emma|Sem|Julia|Lucas|Sophie|Milan|Tess|Levi|Anna|Bram|Fleur"),
            _t("de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Visser|Smit|Meijer|de Boer|Mulder|Bos")),
    Country("India", 9, "+91", "in", _t("gmail.com|yahoo.co.in|rediffmail.com|outlook.com"), "Pvt Ltd",
            _t("Bengaluru|Mumbai|Delhi|Hyderabad|Pune|Chennai|Kolkata"),
            _t("Aarav|Priya|Vivaan|Ananya|Arjun|Diya|Rohan|Kavya|Ishaan|Sneha|Rahul|Pooja"),
            _t("Sharma|Patel|Singh|Kumar|Gupta|Reddy|Iyer|Nair|Mehta|Joshi|Rao|Das")),
    Country("Japan", 5, "+81", "jp", _t("gmail.com|yahoo.co.jp|docomo.ne.jp|outlook.jp"), "K.K.",
            _t("Tokyo|Osaka|Yokohama|Fukuoka|Sapporo|Kyoto"),
            _t("Haruto|Yui|Sota|Hina|Ren|Sakura|Kenji|Aoi|Takumi|Yuna|Hiroshi|Mei"),
            _t("Sato|Suzuki|Takahashi|Tanaka|Watanabe|Ito|Yamamoto|Nakamura|Kobayashi|Kato|Yoshida|Yamada")),
    Country("Brazil", 6, "+55", "com.br", _t("gmail.com|hotmail.com|uol.com.br|bol.com.br"), "Ltda.",
            _t("São Paulo|Rio de Janeiro|Belo Horizonte|Curitiba|Porto Alegre|Recife"),
            _t("Miguel|Alice|Arthur|Helena|Davi|Laura|Gabriel|Valentina|João|Beatriz|Rafael|Larissa"),
            _t("Silva|Santos|Oliveira|Souza|Rodrigues|Ferreira|Alves|Pereira|Lima|Gomes|Costa|Ribeiro")),
    Country("Nigeria", 3, "+234", "ng", _t("gmail.com|yahoo.com|outlook.com"), "Ltd",
            _t("Lagos|Abuja|Ibadan|Port Harcourt|Kano"),
            _t("Chinedu|Ngozi|Oluwaseun|Aisha|Emeka|Funmilayo|Tunde|Chiamaka|Ibrahim|Adaeze|Segun|Zainab"),
            _t("Okafor|Adeyemi|Okonkwo|Bello|Eze|Adebayo|Nwosu|Ibrahim|Okeke|Balogun|Obi|Yusuf")),
    Country("Poland", 5, "+48", "pl", _t("gmail.com|wp.pl|onet.pl|interia.pl"), "Sp. z o.o.",
            _t("Warsaw|Kraków|Wrocław|Gdańsk|Poznań|Łódź"),
            _t("Jakub|Zuzanna|Antoni|Julia|Jan|Maja|Szymon|Hanna|Filip|Lena|Kacper|Alicja"),
            _t("Nowak|Kowalski|Wiśniewski|Wójcik|Kowalczyk|Kamiński|Lewandowski|Zieliński|Szymański|"
               "Woźniak|Dąbrowski|Kozłowski")),
)
_COUNTRY_CUM = tuple(sum(c.weight for c in COUNTRIES[: i + 1]) for i in range(len(COUNTRIES)))

JOB_TITLES = _t(
    "Account Executive|Marketing Manager|CEO|CTO|CFO|Head of Operations|Software Engineer|Product Manager|"
    "Sales Director|Customer Success Manager|Procurement Manager|HR Business Partner|Data Analyst|"
    "Office Manager|Founder|VP Marketing|IT Manager|Consultant|Designer|Finance Controller")
# Lifecycle stages with the skew of a real funnel; None = never set (unknown).
STAGES = ("subscriber", "lead", "marketing_qualified_lead", "sales_qualified_lead", "opportunity", "customer",
          "evangelist", "other", None)
STAGE_WEIGHTS = (30, 25, 12, 8, 6, 10, 1, 2, 6)

NAME_HEADS = _t("Nordic|Blue|Bright|Iron|Silver|North|Summit|Green|Atlas|Polar|Harbor|Cedar|Lumen|Vertex|Oak|"
                "Swift|Red|Alder|Granite|Copper|Clear|Pine|Falcon|Aurora")
NAME_TAILS = _t("peak|field|wave|stone|bridge|line|works|labs|point|gate|forge|path|leaf|river|sky|grid")
INDUSTRY_WORD = {
    "software": "Software", "retail": "Retail", "manufacturing": "Industries", "finance": "Capital",
    "healthcare": "Health", "education": "Learning", "media": "Media", "logistics": "Logistics",
    "energy": "Energy", "consulting": "Partners",
}
INDUSTRIES = tuple(INDUSTRY_WORD)
INDUSTRY_WEIGHTS = (22, 12, 14, 10, 9, 6, 6, 8, 5, 8)

PRODUCTS = _t("Annual licence|Enterprise plan|Onboarding package|Support renewal|Expansion seats|Pilot project|"
              "Data migration|Premium support|Training days|Platform upgrade")
PIPELINES = ("Sales", "Renewals", "Partners")
PIPELINE_WEIGHTS = (70, 20, 10)
DEAL_STAGES = ("appointment_scheduled", "qualified_to_buy", "presentation_scheduled", "decision_maker_bought_in",
               "contract_sent", "closed_won", "closed_lost")
DEAL_STAGE_WEIGHTS = (14, 14, 12, 10, 10, 22, 18)

TICKET_SUBJECTS = _t(
    "Cannot log in|Invoice {month} shows the wrong amount|Export to CSV fails|Request: single sign-on|"
    "Password reset email not arriving|Dashboard is slow|Webhook returns 500|Change billing address|"
    "Feature request: dark mode|Data import stuck at 90%|Add a user to our account|Cancel subscription|"
    "API rate limit questions|Wrong time zone in reports|Two-factor code rejected")
MONTHS = _t("January|February|March|April|May|June|July|August|September|October|November|December")
TICKET_STATUSES = ("new", "waiting_on_contact", "waiting_on_us", "closed")
TICKET_STATUS_WEIGHTS = (15, 15, 20, 50)
PRIORITIES = ("low", "medium", "high", "urgent")
PRIORITY_WEIGHTS = (30, 45, 20, 5)


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
    if is_postgres():
        rows = db.execute_sql(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary AND NOT x.indisunique",
            (f'"{table}"',)).fetchall()
    else:
        rows = db.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,)).fetchall()
        rows = [r for r in rows if not r[1].lstrip().upper().startswith("CREATE UNIQUE")]
    return [(r[0], r[1]) for r in rows]


def _load(type_name: str, columns: tuple[str, ...], rows: Iterator[tuple], n: int,
          on_batch: Callable[[int], None] | None = None) -> int:
    """Bulk-insert ``n`` generated rows, rebuilding secondary indexes once for a big load."""
    if n <= 0:
        return 0
    table = get_type(type_name).table_name
    existing = db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    indexes = _secondary_indexes(table) if n >= REINDEX_MIN_ROWS and n >= existing else []
    for name, _ in indexes:
        db.execute_sql(f'DROP INDEX "{name}"')
    count = bulk_insert(type_name, columns, rows, batch_rows=BATCH_ROWS, on_batch=on_batch)
    for _, sql in indexes:
        db.execute_sql(sql)
    return count


# --------------------------------------------------------------------- workflows


def sample_workflows() -> list[dict]:
    """One sample workflow of every schedule kind, with realistic criteria and actions.

    Time zones are left out so each takes the operator's own (the settings' zone). The
    webhook example posts only to a local placeholder and stays a draft, so the demo
    never calls out.
    """
    return [
        {
            "name": "Friday customer check-in",
            "object_type": "contact",
            "status": "active",
            "schedule": {"kind": "weekly", "weekdays": ["fri"], "time": "08:00"},
            "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]},
                          {"property": "createdate", "operator": "more_than_days_ago", "value": 30}]],
            "suppression": [[{"property": "email", "operator": "unknown"}]],
            "actions": [{"type": "create_task", "title": "Call {firstname} {lastname}", "due_in_days": 2,
                         "owner": "{owner}"}],
            "settings": {"campaign": "Customer care"},
        },
        {
            "name": "Daily new-lead triage",
            "object_type": "contact",
            "status": "active",
            "schedule": {"kind": "daily", "time": "07:30"},
            "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead"]},
                          {"property": "createdate", "operator": "in_last_days", "value": 1}]],
            "suppression": [[{"property": "email", "operator": "contains", "value": "@example."}]],
            "actions": [
                {"type": "branch",
                 "criteria": [[{"property": "country", "operator": "is_any_of",
                                "value": ["Sweden", "Germany", "Netherlands", "Poland"]}]],
                 "then": [{"type": "set_property", "property": "owner", "value": "carmen"}],
                 "else": [{"type": "set_property", "property": "owner", "value": "bob"}]},
                {"type": "notify", "to": ["alice"], "message": "New lead {firstname} {lastname} ({city})"},
                {"type": "add_to_list", "list": "New leads"},
            ],
        },
        {
            "name": "Re-engage quiet subscribers",
            "object_type": "contact",
            "status": "paused",
            "schedule": {"kind": "monthly_days", "days": [1, 15], "time": "09:00"},
            "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["subscriber"]},
                          {"property": "last_activity_date", "operator": "more_than_days_ago", "value": 180}]],
            "unenrollment": [[{"property": "last_activity_date", "operator": "in_last_days", "value": 7}]],
            "actions": [
                {"type": "add_to_list", "list": "Win-back campaign"},
                {"type": "delay", "days": 3},
                {"type": "set_property", "property": "lifecycle_stage", "value": "other"},
            ],
            "settings": {"campaign": "Win-back"},
        },
        {
            "name": "Month-end open deals review",
            "object_type": "deal",
            "status": "active",
            "schedule": {"kind": "monthly_flexible", "flex": {"ordinal": "last", "day": "weekday"}, "time": "15:00"},
            "criteria": [[{"property": "dealstage", "operator": "is_none_of", "value": ["closed_won", "closed_lost"]},
                          {"property": "closedate", "operator": "in_next_days", "value": 10},
                          {"property": "amount", "operator": "gte", "value": 5000}]],
            "actions": [
                {"type": "notify", "to": ["alice", "dmitri"], "message": "{dealname} closes {closedate}"},
                {"type": "create_task", "title": "Update forecast for {dealname}", "due_in_days": 1,
                 "owner": "{owner}"},
            ],
        },
        {
            "name": "First-Monday stale ticket sweep",
            "object_type": "ticket",
            "status": "draft",
            "schedule": {"kind": "monthly_flexible", "flex": {"ordinal": "first", "day": "mon"}, "time": "08:00"},
            "criteria": [[{"property": "status", "operator": "is_any_of", "value": ["waiting_on_contact"]},
                          {"property": "updated_at", "operator": "more_than_days_ago", "value": 14}]],
            "actions": [{"type": "set_property", "property": "status", "value": "closed"},
                        {"type": "remove_from_list", "list": "Open escalations"}],
        },
        {
            "name": "Customer anniversary",
            "object_type": "contact",
            "status": "active",
            "schedule": {"kind": "yearly", "month": 1, "day": 15, "time": "10:00"},
            "criteria": [[{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer", "evangelist"]},
                          {"property": "createdate", "operator": "more_than_days_ago", "value": 365}]],
            "suppression": [[{"property": "owner", "operator": "unknown"}]],
            "actions": [{"type": "create_task", "title": "Send {firstname} an anniversary note",
                         "due_in_days": 5, "owner": "{owner}"}],
            "settings": {"pause_dates": ["2027-01-01"], "campaign": "Customer anniversary"},
        },
        {
            "name": "Urgent ticket escalation (cron)",
            "object_type": "ticket",
            "status": "draft",
            "schedule": {"kind": "cron", "cron": "*/30 8-17 * * 1-5"},
            "criteria": [[{"property": "priority", "operator": "is_any_of", "value": ["urgent", "high"]},
                          {"property": "status", "operator": "is_any_of", "value": ["new", "waiting_on_us"]}]],
            "actions": [
                {"type": "notify", "to": ["emma"], "message": "Escalated: {subject}"},
                {"type": "webhook", "url": "http://127.0.0.1:9/rota-demo-hook",
                 "headers": {"Authorization": "Bearer demo-placeholder"}, "timeout_s": 5, "retries": 1},
            ],
        },
    ]


def _save_samples(now: datetime) -> tuple[int, int]:
    """Save the sample workflows that do not exist yet; returns (created, skipped)."""
    created = skipped = 0
    for body in sample_workflows():
        if Workflow.get_or_none(Workflow.name == body["name"]) is not None:
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
    with db.atomic():
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
            out[key] = _load(type_name, columns, gen(rng, n, now_us), n, report)
    out["workflows_created"], out["workflows_skipped"] = _save_samples(now) if workflows else (0, 0)
    out["seconds"] = time.perf_counter() - started
    return out
