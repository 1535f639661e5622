"""The static tables, the schema version and the migration path.

Per-object-type record tables are built at run time from property definitions
(models/objects.py, models/store/object_types.py); everything else is declared here.

Tables that grow with enrollments (``enrollment``, ``history_event``) are kept narrow:
integer keys, integer instants, short codes. The dashboard reads per-day counts from
``enrollment_daily`` (a rollup the engine maintains in the run transaction), never by
scanning enrollments.
"""
from __future__ import annotations

from collections.abc import Callable

import peewee as pw

from models.db import db
from models.enums import IN_PROGRESS_STATES, EnrollmentState, RunKind, RunStatus, WorkflowStatus
from models.errors import RotaError
from models.fields import InstantField, JSONText

SCHEMA_VERSION = 7


class LooseForeignKey(pw.ForeignKeyField):
    """A reference the schema does not enforce, for the two tables that grow by millions
    of rows a run (enrollment, history_event).

    Checking two parent rows per inserted row halved the set-based enrollment rate
    (measured: ~0.9M against ~0.45M rows/s on SQLite). What makes enrollment exactly-once
    stays a constraint (the unique (run, record) key); rows go with their workflow in
    ``engine.workflows.delete_workflow``, set-based.
    """

    def __init__(self, model, **kwargs):
        kwargs.setdefault("index", False)
        super().__init__(model, _deferred=True, **kwargs)


class Base(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(Base):
    version = pw.IntegerField()


class ObjectType(Base):
    name = pw.CharField(max_length=63, unique=True)  # internal name: contact, company, …
    label = pw.CharField(max_length=120)
    plural = pw.CharField(max_length=120)
    builtin = pw.BooleanField(default=False)
    table_name = pw.CharField(max_length=80, unique=True)
    created_at = InstantField()


class PropertyDef(Base):
    object_type = pw.ForeignKeyField(ObjectType, backref="properties", on_delete="CASCADE")
    name = pw.CharField(max_length=63)
    label = pw.CharField(max_length=120)
    type = pw.CharField(max_length=16)  # string number bool date datetime enumeration
    options = JSONText(null=True)  # enumeration: [{"name": …, "label": …}, …]
    required = pw.BooleanField(default=False)
    builtin = pw.BooleanField(default=False)
    position = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("object_type", "name"), True),)


class Workflow(Base):
    name = pw.CharField(max_length=200, unique=True)
    object_type = pw.ForeignKeyField(ObjectType, on_delete="RESTRICT")
    status = pw.CharField(max_length=16, default=WorkflowStatus.DRAFT)  # models.enums.WorkflowStatus
    schedule = JSONText()
    criteria = JSONText(default=list)
    suppression = JSONText(default=list)
    unenrollment = JSONText(default=list)
    actions = JSONText(default=list)
    settings = JSONText(default=dict)
    next_run_at = InstantField(null=True, index=True)  # the engine's next scheduled instant
    last_scheduled_for = InstantField(null=True)  # newest instant run or recorded
    version = pw.IntegerField(default=1)
    created_at = InstantField()
    updated_at = InstantField()


class Run(Base):
    """One occurrence of a workflow: exactly one row per (workflow, scheduled instant)."""

    workflow = pw.ForeignKeyField(Workflow, backref="runs", on_delete="CASCADE", index=False)
    scheduled_for = InstantField(null=True)  # null for a manual enrollment
    kind = pw.CharField(max_length=10, default=RunKind.SCHEDULED)  # models.enums.RunKind
    status = pw.CharField(max_length=10, default=RunStatus.RUNNING)  # models.enums.RunStatus
    started_at = InstantField(null=True)
    finished_at = InstantField(null=True)
    matched = pw.IntegerField(default=0)
    enrolled = pw.IntegerField(default=0)
    suppressed = pw.IntegerField(default=0)
    # Kept by the executor in the transactions that record step outcomes, never by
    # scanning history: in_progress + completed = enrolled (completed: finished for any
    # reason: through the last step, stopped by a failure, or unenrolled).
    steps_succeeded = pw.IntegerField(default=0)
    steps_failed = pw.IntegerField(default=0)
    in_progress = pw.IntegerField(default=0)
    completed = pw.IntegerField(default=0)
    skipped_in_progress = pw.IntegerField(default=0)  # matched, but still in this workflow (overlap)
    engine_id = pw.CharField(max_length=80, null=True)
    detail = pw.TextField(null=True)

    class Meta:
        indexes = (
            (("workflow", "scheduled_for"), True),
            (("workflow", "id"), False),  # newest runs of one workflow without a backward scan
        )


class Enrollment(Base):
    """A record in a run. Narrow on purpose: tens of millions of rows."""

    run = LooseForeignKey(Run)
    workflow = LooseForeignKey(Workflow)
    record_id = pw.BigIntegerField()
    manual = pw.BooleanField(default=False)
    enrolled_at = InstantField()
    state = pw.CharField(max_length=10, default=EnrollmentState.ACTIVE)  # models.enums.EnrollmentState
    step = pw.IntegerField(default=0)  # pointer into the action list (path for branches in detail)
    next_step_at = InstantField(null=True)  # when the next step is due; null when finished
    path = pw.TextField(null=True)  # position inside nested branches, JSON
    claimed_by = pw.CharField(max_length=80, null=True)
    claimed_until = InstantField(null=True)
    # 0: the workflow's one lane, where a record has at most one enrollment in progress
    # (overlap skip_in_progress or replace). A run id: a lane of its own, for an
    # enrollment that runs alongside another on purpose (overlap allow, or a manual
    # enrollment forced while one is in progress). See the unique index below.
    lane = pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])

    class Meta:
        # Besides the due-step and in-progress ones: a record's enrollments in one
        # workflow are found run by run through it (one run per occurrence, so few probes).
        indexes = ((("run", "record_id"), True),)


# Only enrollments with a step still to run are ever looked up by due time: a partial
# index keeps finished ones (the vast majority) out of it and speeds up bulk enrollment.
Enrollment.add_index(Enrollment.index(Enrollment.next_step_at, where=Enrollment.next_step_at.is_null(False)))
# Enrollments in progress (active or waiting), by workflow, record and lane; finished
# rows stay out of it. Unique (schema 7): in lane 0 a record has at most one enrollment
# in progress per workflow, so a run's ``INSERT OR IGNORE … SELECT`` leaves out the
# records still in progress as part of the insert itself (engine/run.py, overlap
# skip_in_progress), and the overlap tests probe it by (workflow, record).
# The same text in the index and in every query that should use it: SQLite matches a
# partial index's condition textually.
IN_PROGRESS_SQL = '"state" IN (' + ", ".join(f"'{state}'" for state in IN_PROGRESS_STATES) + ")"
IN_PROGRESS_WHERE = pw.SQL(IN_PROGRESS_SQL)
Enrollment.add_index(Enrollment.index(Enrollment.workflow, Enrollment.record_id, Enrollment.lane, unique=True,
                                      where=IN_PROGRESS_WHERE))


class EnrollmentDaily(Base):
    """Per workflow and UTC day: enrollments counted in the run transaction."""

    workflow = pw.ForeignKeyField(Workflow, on_delete="CASCADE", index=False)
    day = pw.DateField()
    enrolled = pw.BigIntegerField(default=0)
    suppressed = pw.BigIntegerField(default=0)
    runs = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("workflow", "day"), True),)


class HistoryEvent(Base):
    """Everything that happened besides the enrollment rows themselves."""

    workflow = pw.ForeignKeyField(Workflow, on_delete="CASCADE", index=False)
    at = InstantField()
    type = pw.CharField(max_length=20)
    record_id = pw.BigIntegerField(null=True)
    run = LooseForeignKey(Run, null=True)
    enrollment = LooseForeignKey(Enrollment, null=True)
    scheduled_for = InstantField(null=True)
    step = pw.IntegerField(null=True)
    detail = pw.TextField(null=True)

    class Meta:
        indexes = (
            (("workflow", "at"), False),
            (("workflow", "record_id", "at"), False),
            (("workflow", "type", "at"), False),
        )


class HistoryGroup(Base):
    """Step events of many enrollments at once (schema 4).

    One row per (run, step, outcome, instant) and contiguous range of enrollment ids:
    the enrollments ``first``..``last`` of ``run`` all had this event. A set-based step
    over a million enrollments writes a handful of these instead of a million
    ``history_event`` rows; the per-record rows are derived when read
    (engine/history.py). Where the detail differs per record (a templated value, a
    task title), ``varies`` is set and ``history_value`` holds each record's part.
    """

    workflow = pw.ForeignKeyField(Workflow, on_delete="CASCADE", index=False)
    run = LooseForeignKey(Run)
    at = InstantField()
    type = pw.CharField(max_length=20)
    step = pw.IntegerField(null=True)
    detail = pw.TextField(null=True)
    first = pw.BigIntegerField()
    last = pw.BigIntegerField()
    count = pw.IntegerField()
    varies = pw.BooleanField(default=False)
    seq = pw.BigIntegerField(default=0)  # the newest history_event id when written: one order for both

    class Meta:
        indexes = (
            (("workflow", "at"), False),
            (("run", "first"), False),
        )


class HistoryValue(Base):
    """The per-record part of a ``history_group`` row's detail (JSON object, merged
    over the group's detail), for steps whose detail differs per record."""

    group = pw.ForeignKeyField(HistoryGroup, on_delete="CASCADE", index=False)
    enrollment = pw.BigIntegerField()
    detail = pw.TextField()

    class Meta:
        primary_key = pw.CompositeKey("group", "enrollment")


class SkipNote(Base):
    """A record a run left out because it was still in the workflow (overlap
    skip_in_progress; schema 7), shown in history as a ``skipped_in_progress`` event
    at the run's instant (engine/history.py). Two integers in the key's b-tree alone
    (``WITHOUT ROWID`` on SQLite): a run can skip a large share of its records, and a
    ``history_event`` row, with its three indexes, cost a tenth of the run's time."""

    run = LooseForeignKey(Run)
    record_id = pw.BigIntegerField()

    class Meta:
        table_name = "run_skip"
        primary_key = pw.CompositeKey("run", "record_id")


class StaticList(Base):
    name = pw.CharField(max_length=200, unique=True)
    object_type = pw.ForeignKeyField(ObjectType, on_delete="CASCADE")
    created_at = InstantField()


class ListMember(Base):
    list = pw.ForeignKeyField(StaticList, backref="members", on_delete="CASCADE", index=False)
    record_id = pw.BigIntegerField()
    added_at = InstantField()

    class Meta:
        indexes = ((("list", "record_id"), True),)


class AssociationDef(Base):
    """A kind of link between records of two types, e.g. contact → company.

    ``name`` is how the ``from_type`` side calls it ("company"), ``inverse`` how the
    ``to_type`` side does ("contacts"). ``cardinality`` is ``many_to_one`` (each from
    record links at most one to record) or ``many_to_many``.
    """

    name = pw.CharField(max_length=63)
    label = pw.CharField(max_length=120)
    from_type = pw.ForeignKeyField(ObjectType, on_delete="CASCADE", index=False)
    to_type = pw.ForeignKeyField(ObjectType, on_delete="CASCADE")
    cardinality = pw.CharField(max_length=16)
    inverse = pw.CharField(max_length=63)
    inverse_label = pw.CharField(max_length=120)
    builtin = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("from_type", "name"), True), (("to_type", "inverse"), True))


class AssociationLink(Base):
    """One link: record ``from_id`` (of the association's from type) → ``to_id``.

    Both directions are index seeks: (association, from_id, to_id) is the unique key,
    (association, to_id, from_id) serves the criteria compiler's semi-joins.
    """

    association = pw.ForeignKeyField(AssociationDef, on_delete="CASCADE", index=False)
    from_id = pw.BigIntegerField()
    to_id = pw.BigIntegerField()

    class Meta:
        indexes = ((("association", "from_id", "to_id"), True), (("association", "to_id", "from_id"), False))


class RecordView(Base):
    """The records screen's columns per object type, as the operator chose them."""

    object_type = pw.ForeignKeyField(ObjectType, on_delete="CASCADE", unique=True)
    columns = JSONText()  # property names in display order


class Task(Base):
    workflow = pw.ForeignKeyField(Workflow, null=True, on_delete="SET NULL")
    object_type = pw.ForeignKeyField(ObjectType, on_delete="CASCADE")
    record_id = pw.BigIntegerField(null=True)
    title = pw.TextField()
    due_date = pw.DateField(null=True)
    owner = pw.CharField(max_length=200, null=True)
    done = pw.BooleanField(default=False)
    created_at = InstantField()


class Notification(Base):
    operator = pw.CharField(max_length=200, index=True)
    message = pw.TextField()
    workflow = pw.ForeignKeyField(Workflow, null=True, on_delete="SET NULL")
    record_id = pw.BigIntegerField(null=True)
    read = pw.BooleanField(default=False)
    created_at = InstantField()


class AuditEntry(Base):
    at = InstantField(index=True)
    actor = pw.CharField(max_length=200)
    workflow = pw.ForeignKeyField(Workflow, null=True, on_delete="SET NULL")
    workflow_name = pw.CharField(max_length=200)
    action = pw.CharField(max_length=200)  # created, activated, paused, schedule_changed,criteria_changed, …
    diff = pw.TextField(null=True)


class WorkflowVersion(Base):
    workflow = pw.ForeignKeyField(Workflow, on_delete="CASCADE", index=False)
    version = pw.IntegerField()
    body = JSONText()
    at = InstantField()
    actor = pw.CharField(max_length=200)

    class Meta:
        indexes = ((("workflow", "version"), True),)


class EngineLease(Base):
    """Heartbeats and leases (models/store/claims.py): ``engine:<id>`` per running
    engine, and ``store`` (SQLite: the one engine that runs work)."""

    name = pw.CharField(max_length=120, primary_key=True)
    claimed_by = pw.CharField(max_length=80, null=True)
    claimed_until = InstantField(null=True)
    heartbeat = InstantField(null=True)
    info = pw.TextField(null=True)


STATIC_MODELS: list[type[Base]] = [
    SchemaVersion,
    ObjectType,
    PropertyDef,
    Workflow,
    Run,
    Enrollment,
    EnrollmentDaily,
    HistoryEvent,
    HistoryGroup,
    HistoryValue,
    SkipNote,
    StaticList,
    ListMember,
    AssociationDef,
    AssociationLink,
    RecordView,
    Task,
    Notification,
    AuditEntry,
    WorkflowVersion,
    EngineLease,
]

def _add_associations() -> None:
    """Version 2: the association tables and the records screen's columns (the built-in associations are seeded by
    ``models.builtin_types.install_builtin_types``, which the bootstrap runs after this)."""
    db.create_tables([AssociationDef, AssociationLink, RecordView], safe=True)


def _lease_vocabulary() -> None:
    """Version 3: engine_lease speaks the claims' vocabulary (claimed_by / claimed_until)."""
    t = EngineLease._meta.table_name
    db.execute_sql(f'ALTER TABLE "{t}" RENAME COLUMN "holder" TO "claimed_by"')
    db.execute_sql(f'ALTER TABLE "{t}" RENAME COLUMN "until" TO "claimed_until"')


def _grouped_history() -> None:
    """Version 4: grouped step history (history_group, history_value)."""
    db.create_tables([HistoryGroup, HistoryValue], safe=True)


def _run_counters() -> None:
    """Version 5: per-run step counters. Existing runs get in_progress / completed from
    their enrollments once; their step counts start at 0 (history before this version is
    not recounted)."""
    have = {c.name for c in db.get_columns("run")}
    for col in ("steps_succeeded", "steps_failed", "in_progress", "completed"):
        if col in have:  # already there (a database created at this version, set back by hand)
            continue
        db.execute_sql(f'ALTER TABLE "run" ADD COLUMN "{col}" INTEGER NOT NULL DEFAULT 0')
    db.execute_sql(
        'UPDATE "run" SET "in_progress" = (SELECT COUNT(*) FROM "enrollment" AS e WHERE e."run_id" = "run"."id" '
        'AND e."state" IN (\'active\', \'waiting\')), "completed" = (SELECT COUNT(*) FROM "enrollment" AS e '
        'WHERE e."run_id" = "run"."id" AND e."state" NOT IN (\'active\', \'waiting\'))')


def _overlap() -> None:
    """Version 6: run.skipped_in_progress and the partial index on enrollments in progress."""
    t = Run._meta.table_name
    if "skipped_in_progress" not in {c.name for c in db.get_columns(t)}:  # idempotent, as 2 and 4 are
        db.execute_sql(f'ALTER TABLE "{t}" ADD COLUMN "skipped_in_progress" INTEGER NOT NULL DEFAULT 0')
    e = Enrollment._meta.table_name  # the index as version 6 had it (version 7 makes it unique, with the lane)
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{e}_workflow_id_record_id" ON "{e}" ("workflow_id", "record_id") '
                   f'WHERE {IN_PROGRESS_SQL}')


def _lanes() -> None:
    """Version 7: enrollment.lane, the unique index of enrollments in progress, and the
    skip notes (run_skip). An enrollment in progress that runs alongside an older one of
    the same record (overlap allow, a forced manual enrollment) moves to its own lane,
    its run id, before the index is made unique."""
    t = Enrollment._meta.table_name
    if "lane" not in {c.name for c in db.get_columns(t)}:
        db.execute_sql(f'ALTER TABLE "{t}" ADD COLUMN "lane" INTEGER NOT NULL DEFAULT 0')
    db.execute_sql(
        f'UPDATE "{t}" SET "lane" = "run_id" WHERE {IN_PROGRESS_SQL} AND EXISTS (SELECT 1 FROM "{t}" AS "older" '
        f'WHERE "older"."workflow_id" = "{t}"."workflow_id" AND "older"."record_id" = "{t}"."record_id" '
        f'AND "older".{IN_PROGRESS_SQL} AND "older"."id" < "{t}"."id")')
    db.execute_sql(f'DROP INDEX IF EXISTS "{t}_workflow_id_record_id"')
    db.create_tables([Enrollment, SkipNote], safe=True)  # the new index and table only (IF NOT EXISTS)


# Migration N brings a schema at version N-1 to version N. Each runs in a transaction.
MIGRATIONS: dict[int, Callable[[], None]] = {2: _add_associations, 3: _lease_vocabulary, 4: _grouped_history,
                                                 5: _run_counters, 6: _overlap, 7: _lanes}


def current_version() -> int | None:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return None
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else None


def _create_initial() -> None:
    db.create_tables(STATIC_MODELS, safe=True)
    SchemaVersion.delete().execute()
    SchemaVersion.create(version=SCHEMA_VERSION)


def ensure_schema(*, without_rowid: bool) -> bool:
    """Create a fresh schema, upgrade an older one, refuse a newer one.

    ``without_rowid``: the database keeps a table in its key's b-tree alone (SQLite's
    ``WITHOUT ROWID``, which history_value uses; PostgreSQL has no such clause). The
    store's dialect says which (``models.store.dialect.Dialect.without_rowid``).

    Returns True when the tables were created just now: the caller
    (``models.bootstrap``) then seeds the built-in object types in the same transaction.
    """
    HistoryValue._meta.without_rowid = without_rowid
    SkipNote._meta.without_rowid = without_rowid
    with db.atomic():
        version = current_version()
        if version is None:
            _create_initial()
            return True
        if version > SCHEMA_VERSION:
            raise RotaError(
                f"this database has schema version {version}, newer than this Rota understands "
                f"({SCHEMA_VERSION}): upgrade Rota to open it"
            )
        while version < SCHEMA_VERSION:
            step = MIGRATIONS.get(version + 1)
            if step is None:
                raise RotaError(f"no migration from schema version {version} to {version + 1}")
            step()
            version += 1
            SchemaVersion.update(version=version).execute()
    return False
