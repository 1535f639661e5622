"""The StrEnums of models/enums.py against the vocabularies the code validates, stores
and writes, so the two cannot drift apart: the validation lists, the schema's defaults
and the enum each field comment names, the partial index's states, every string literal compared to a status,
state or policy anywhere in engine/, models/ and tui/, and — on a real database — every
event type, run status and run kind the engine writes."""
from __future__ import annotations

import ast
import inspect
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine import history as engine_history
from engine import identity, workflows
from engine.due import MISFIRE_DETAIL, record_misfires
from engine.history import history
from engine.run_failure import write_failure
from models import schema
from models.enums import (
    FINISHED_STATES,
    IN_PROGRESS_STATES,
    STEP_COUNTERS,
    EnrollmentState,
    EventType,
    MisfirePolicy,
    NotificationTarget,
    OnStepFailure,
    Overlap,
    RunKind,
    RunStatus,
    WorkflowStatus,
)
from models.errors import RotaError
from models.objects import create_record, update_record
from models.schema import Enrollment, HistoryEvent, HistoryGroup, Run, Workflow
from models.settings import MISFIRE_POLICIES, Settings, load_settings
from models.timeutil import UTC
from tests.engine.servers import HTTPServer
from tests.engine.test_actions import T0, engine_at

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ validation lists


def test_validation_lists_are_the_enums():
    assert engine_history.EVENT_TYPES == tuple(EventType)  # the history filter, in the same order
    assert engine_history.ENROLL_TYPES == (EventType.ENROLLED, EventType.MANUAL_ENROLLED)
    assert workflows.STATUSES == tuple(WorkflowStatus)
    assert workflows.OVERLAP_POLICIES == tuple(Overlap)
    assert workflows.STEP_FAILURE_POLICIES == tuple(OnStepFailure)
    assert MISFIRE_POLICIES == tuple(MisfirePolicy)
    assert identity.EVERYONE == NotificationTarget.EVERYONE
    assert set(MISFIRE_DETAIL) == {RunStatus.MISSED, RunStatus.COALESCED}
    assert set(STEP_COUNTERS.values()) <= set(Run._meta.fields)  # counters a step event adds to


def _body(settings: dict | None = None, status: str | None = None) -> dict:
    body = {"name": "V", "object_type": "contact", "schedule": {"kind": "daily", "time": "08:00"},
            "settings": settings or {}}
    if status is not None:
        body["status"] = status
    return body


@pytest.mark.parametrize(("key", "enum", "near"), [
    ("overlap", Overlap, "skip"),
    ("on_step_failure", OnStepFailure, "stop_all"),
    ("misfire_policy", MisfirePolicy, "run_late"),
])
def test_workflow_settings_accept_exactly_the_enum(sqlite_db, key, enum, near):
    for member in enum:
        assert workflows.validate_workflow(_body({key: member.value}), default_timezone="UTC")["settings"] == \
            {key: member.value}
    with pytest.raises(RotaError) as err:
        workflows.validate_workflow(_body({key: near}), default_timezone="UTC")
    assert err.value.field == f"settings.{key}"
    assert all(member.value in str(err.value) for member in enum)  # the message offers every choice


def test_statuses_accept_exactly_the_enum(sqlite_db):
    for status in WorkflowStatus:
        assert workflows.validate_workflow(_body(status=status.value), default_timezone="UTC")["status"] == status
    assert workflows.validate_workflow(_body(), default_timezone="UTC")["status"] == WorkflowStatus.DRAFT
    with pytest.raises(RotaError, match="draft, active, paused"):
        workflows.validate_workflow(_body(status="running"), default_timezone="UTC")


def test_settings_misfire_policy_and_its_labels():
    assert Settings().misfire_policy == MisfirePolicy.RUN_ONCE_LATE
    for policy in MisfirePolicy:
        Settings(misfire_policy=policy.value).validate()
    with pytest.raises(RotaError, match="run_once_late, record_missed"):
        Settings(misfire_policy="skip").validate()
    from tui.screens.settings import POLICY_LABELS

    assert set(POLICY_LABELS) == set(MisfirePolicy)


# ------------------------------------------------------------------------- schema


def _comment(model: type, field: str) -> str:
    """The comment on ``field``'s line in the model's source."""
    line = next(ln for ln in inspect.getsource(model).splitlines() if ln.strip().startswith(f"{field} = "))
    return line.split("#", 1)[1].strip()


@pytest.mark.parametrize(("model", "field", "enum"), [
    (Workflow, "status", WorkflowStatus),
    (Run, "status", RunStatus),
    (Run, "kind", RunKind),
    (Enrollment, "state", EnrollmentState),
])
def test_schema_defaults_are_members_and_comments_name_the_enum(model, field, enum):
    assert _comment(model, field) == f"models.enums.{enum.__name__}"
    assert isinstance(getattr(model, field).default, enum)
    assert getattr(model, field).max_length >= max(len(m) for m in enum)


def test_in_progress_and_finished_states():
    assert set(IN_PROGRESS_STATES) | set(FINISHED_STATES) == set(EnrollmentState)
    assert not set(IN_PROGRESS_STATES) & set(FINISHED_STATES)
    assert IN_PROGRESS_STATES == (EnrollmentState.ACTIVE, EnrollmentState.WAITING)
    # The partial index's condition, spelled literally (SQLite matches it textually).
    words = ", ".join(f"'{s}'" for s in IN_PROGRESS_STATES)
    assert schema.IN_PROGRESS_SQL == f'"state" IN ({words})'


# ------------------------------------------------------ literals compared in the code

# A string literal compared (==, !=, in) to one of these names, or to ``.get(name)``, must
# be a word of these enums. Catches a misspelled or new word while code still spells
# strings, and every vocabulary moved to the enums.
CHECKED = {
    "overlap": set(Overlap),
    "on_step_failure": set(OnStepFailure),
    "misfire_policy": set(MisfirePolicy),
    "policy": set(MisfirePolicy),
    "state": set(EnrollmentState),
    "status": set(WorkflowStatus) | set(RunStatus),
    "last_status": set(RunStatus),
}


def _name_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value  # settings.get("overlap"), body.get("status")
    return None


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for elt in node.elts for s in _strings(elt)]
    return []


def compared_literals() -> list[tuple[str, int, str, str]]:
    """(file, line, name, literal) for each string literal compared to a checked name,
    or given as its default (``x.get("overlap") or "skip_in_progress"``)."""
    found = []
    for folder in ("engine", "models", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                pairs: list[tuple[ast.AST, ast.AST]] = []
                if isinstance(node, ast.Compare):
                    sides = [node.left, *node.comparators]
                    pairs = [(a, b) for a in sides for b in sides if a is not b]
                elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and isinstance(node.values[0], ast.Call):
                    pairs = [(node.values[0], v) for v in node.values[1:]]  # a setting's default
                for named, other in pairs:
                    name = _name_of(named)
                    if name in CHECKED:
                        found += [(str(path.relative_to(ROOT)), node.lineno, name, s) for s in _strings(other)]
    return found


def test_every_literal_compared_to_a_status_state_or_policy_is_a_member():
    found = compared_literals()
    bad = [f"{f}:{line}: {name} vs {lit!r}" for f, line, name, lit in found if lit not in CHECKED[name]]
    assert not bad, "\n".join(bad)


def test_the_literal_scan_sees_what_it_checks():
    """The scan is not vacuous: engine/run.py still spells the overlap words."""
    overlap = {lit for f, _, name, lit in compared_literals() if f == "engine/run.py" and name == "overlap"}
    assert overlap <= set(Overlap)
    if overlap:  # until engine/run.py names them through the enum
        assert Overlap.SKIP_IN_PROGRESS in overlap  # the default when the setting is absent


def test_literal_scan_catches_a_stray_word():
    tree = ast.parse('if wf.settings.get("overlap") == "skip": pass\nx = run.status in ("failed", "broken")')
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            names += [(_name_of(node.left), s) for c in node.comparators for s in _strings(c)]
    assert names == [("overlap", "skip"), ("status", "failed"), ("status", "broken")]
    assert "skip" not in CHECKED["overlap"] and "broken" not in CHECKED["status"]


# ------------------------------------------------------ what the engine really writes


def _save(name: str, actions: list, *, criteria=None, suppression=None, unenrollment=None, settings=None):
    workflows.save_workflow({
        "name": name, "object_type": "contact", "status": "active",
        "schedule": {"kind": "daily", "time": "08:00", "timezone": "UTC"},
        "criteria": criteria or [], "suppression": suppression or [], "unenrollment": unenrollment or [],
        "actions": actions, "settings": settings or {},
    }, actor="t", now=T0)


def _named(first: str) -> list:
    return [[{"property": "firstname", "operator": "eq", "value": first}]]


def test_the_engine_writes_every_event_type_and_nothing_else(sqlite_db, sqlite_url):
    """One story through the real engine that writes every event type: the history read
    back holds exactly ``EventType``, and the runs exactly ``RunStatus`` (but the
    transient ``running``) and ``RunKind``."""
    ann = create_record("contact", {"firstname": "Ann", "email": "ann@example.com"}, now=T0)
    bob = create_record("contact", {"firstname": "Bob", "email": "bob@example.com"}, now=T0)
    create_record("contact", {"firstname": "Cat"}, now=T0)  # no e-mail: suppressed by Main, skipped by Net
    dan = create_record("contact", {"firstname": "Dan", "email": "dan@example.com"}, now=T0)
    with HTTPServer(default=503) as http:
        _save("Main", [{"type": "set_property", "property": "city", "value": "X"}, {"type": "delay", "days": 1},
                       {"type": "set_property", "property": "city", "value": "Y"}],
              suppression=[[{"property": "email", "operator": "unknown"}]], unenrollment=_named("Quit"))
        _save("Paused", [{"type": "set_property", "property": "jobtitle", "value": "P"}], criteria=_named("Ann"),
              settings={"pause_dates": [T0.date().isoformat()]})
        _save("Net", [{"type": "send_email", "to_property": "email", "subject": "Hi", "body": "Hi"},
                      {"type": "webhook", "url": http.url, "retries": 1}], criteria=_named("Cat"))
        _save("Replace", [{"type": "delay", "days": 1}], criteria=_named("Ann"),
              settings={"overlap": Overlap.REPLACE.value})
        engine, clock = engine_at(sqlite_url)
        clock.set(T0 + timedelta(minutes=1))  # 08:00: every workflow runs
        engine.run_pending()
        clock.advance(10)  # the webhook's retry: 503 again, and it fails
        engine.run_pending()
        update_record("contact", bob, {"firstname": "Quit"}, now=clock.now())
        clock.set(T0 + timedelta(days=1, minutes=1))  # the next day: Ann is still in progress in Main
        engine.run_pending()
        assert len(http.requests) >= 2
    wf = Workflow.get(Workflow.name == "Main")
    at = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    record_misfires(wf, [at], RunStatus.MISSED, clock.now(), "t")
    record_misfires(wf, [at + timedelta(days=1)], RunStatus.COALESCED, clock.now(), "t")
    write_failure(wf.id, at + timedelta(days=2), "boom", clock.now(), horizon=None, engine_id="t",
                  settings=load_settings())
    from engine.runner import enroll_manual

    enroll_manual("Main", dan, now=clock.now())

    read = {row["type"] for name in ("Main", "Paused", "Net", "Replace") for row in history(name, limit=10_000)}
    assert read == set(EventType), f"not written: {set(EventType) - read}; unknown: {read - set(EventType)}"
    stored = {t for (t,) in HistoryEvent.select(HistoryEvent.type).distinct().tuples()}
    stored |= {t for (t,) in HistoryGroup.select(HistoryGroup.type).distinct().tuples()}
    assert stored <= set(EventType) - {EventType.ENROLLED, EventType.MANUAL_ENROLLED}  # those are enrollment rows
    statuses = {s for (s,) in Run.select(Run.status).distinct().tuples()}
    assert statuses == set(RunStatus) - {RunStatus.RUNNING}
    assert {k for (k,) in Run.select(Run.kind).distinct().tuples()} == set(RunKind)
    assert {s for (s,) in Enrollment.select(Enrollment.state).distinct().tuples()} <= set(EnrollmentState)
    assert Enrollment.get((Enrollment.record_id == ann) & (Enrollment.workflow == wf.id)).state == EnrollmentState.DONE


def test_only_repr_shows_a_member():
    """What rows, JSON, settings files and messages get from a member is its plain word."""
    import json
    import sqlite3

    import tomli_w

    assert json.dumps({RunStatus.FAILED: [EventType.STEP_SKIPPED]}) == '{"failed": ["step_skipped"]}'
    assert tomli_w.dumps({"misfire_policy": MisfirePolicy.RECORD_MISSED}) == 'misfire_policy = "record_missed"\n'
    assert f"{Overlap.ALLOW}" == str(Overlap.ALLOW) == "allow"
    con = sqlite3.connect(":memory:")
    assert con.execute("SELECT ?, typeof(?)", (EnrollmentState.WAITING,) * 2).fetchone() == ("waiting", "text")
    assert repr(Overlap.ALLOW) == "<Overlap.ALLOW: 'allow'>"
