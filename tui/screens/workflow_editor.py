"""The workflow editor: name and object type on top, then four sections — Schedule,
Criteria, Actions, Settings — that the operator moves between with the keyboard.

The screen owns no rules about what a valid workflow is. It gathers the SPEC §9 body
from its section widgets and hands it to ``engine.workflows.save_workflow``, whose
RotaError names the field to fix ("schedule: …", "criteria group 1, filter 2 …",
"actions step 3 (webhook): …"); the screen maps that prefix back to the section and
field, switches there and marks it. Saving and counting run in thread workers so a slow
database never freezes typing; the schedule preview is pure and runs inline.

Keys (all survive SSH and tmux: no function keys, no ctrl+shift):
ctrl+s save · ctrl+t save as active (activate/resume; the review screen is the usual
way to activate, this is the shortcut) · ctrl+r or p review and publish · ctrl+n next
section, 1–4 a section (when not typing) · escape close (asks when there are unsaved
changes). Dismisses with the saved workflow's name, or None if nothing was saved.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static, TabbedContent, TabPane, Tree
from textual.worker import Worker

from engine.schedule.base import BusinessCalendar
from models.enums import WorkflowStatus
from models.errors import RotaError
from models.objects import get_props
from models.settings import load_settings
from models.store import reads
from models.timeutil import utcnow
from tui.screens.activate_dialog import ActivateDialog
from tui.screens.change_dialog import ChangeDialog
from tui.screens.confirm import ConfirmScreen, discard_or_keep
from tui.screens.editor_errors import EditorErrors
from tui.screens.filter_dialog import FilterDialog
from tui.screens.step_dialog import StepDialog
from tui.text import safe_text
from tui.widgets import WrappingFooter
from tui.widgets.actions_editor import ActionsEditor
from tui.widgets.criteria_editor import CriteriaEditor
from tui.widgets.schedule_form import ScheduleForm
from tui.widgets.settings_form import SettingsForm
from tui.workers import WorkerReports, db_read, db_write

log = logging.getLogger(__name__)

SECTIONS = ("tab-schedule", "tab-criteria", "tab-actions", "tab-settings")
COUNT_DEBOUNCE_S = 0.3


def new_workflow_body(object_type: str = "contact", timezone: str | None = None) -> dict:
    """The body a new workflow starts from: a draft, weekly on Monday 08:00 in the operator's zone."""
    return {
        "name": "", "object_type": object_type, "status": WorkflowStatus.DRAFT,
        "schedule": {"kind": "weekly", "weekdays": ["mon"], "time": "08:00",
                     "timezone": timezone or load_settings().timezone},
        "criteria": [], "suppression": [], "unenrollment": [], "actions": [], "settings": {},
    }


class WorkflowEditorScreen(EditorErrors, WorkerReports, Screen[str | None]):
    """Create (``original_name`` None) or edit a workflow given as a SPEC §9 body.

    ``types`` are the object types to offer as (label, name) pairs, read by the caller
    off the UI thread (``editor_types``); without them the screen reads them itself in
    a worker once mounted.
    """

    CSS_PATH = "workflow_editor.tcss"
    HELP_TITLE = "Workflow editor"
    AUTO_FOCUS = "#we-name"
    # Below 72 columns the top row drops its "Object" label and the schedule preview
    # narrows; from 110 the preview widens (workflow_editor.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (72, "-normal"), (110, "-wide")]

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, tooltip="Save the workflow (its status unchanged)"),
        Binding("ctrl+r", "review", "Review", priority=True, tooltip="Save, then review and publish (p too)"),
        Binding("p", "review", "Review and publish", show=False),
        Binding("ctrl+t", "activate", "Activate", priority=True,
                tooltip="Save with status active (activate or resume) without the review screen"),
        Binding("ctrl+n", "next_section", "Next", priority=True,
                tooltip="Next section: Schedule, Criteria, Actions, Settings (1-4 when not typing)"),
        Binding("1", "section(0)", "Schedule", show=False),
        Binding("2", "section(1)", "Criteria", show=False),
        Binding("3", "section(2)", "Actions", show=False),
        Binding("4", "section(3)", "Settings", show=False),
        Binding("ctrl+e", "simulate", "Simulate", priority=True, show=False,
                tooltip="Simulate: every run in a date range with projected counts"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, body: dict, original_name: str | None = None, *,
                 clock: Callable[[], datetime] | None = None,
                 types: list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        self.types = types
        settings = load_settings()
        base = new_workflow_body(body.get("object_type") or "contact", settings.timezone)
        self.body = {**base, **copy.deepcopy(body)}
        self.original_name = original_name
        self._clock = clock
        self.settings = settings
        self.saved_name: str | None = None
        """The name last saved from this editor (what the screen dismisses with)."""
        self._baseline: dict | None = None
        self._count_timer = None
        if self.body.get("name"):
            # Named already (by the create dialog, or an existing workflow): start in the
            # schedule, so a section key such as "2" is not typed over the name.
            self.AUTO_FOCUS = "#sf-freq"
        self._after_save: str | None = None
        self._saving = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        body = self.body
        # Until the types are read, the body's own type is the one choice.
        types = self.types or [(body["object_type"], body["object_type"])]
        with Horizontal(id="we-top"):
            yield Label("Name", classes="we-label")
            # Control characters in a stored name show escaped (collect_body keeps the name).
            yield Input(safe_text(body.get("name") or ""), placeholder="workflow name", compact=True, id="we-name")
            yield Label("Object", classes="we-label", id="we-type-label")
            yield Select(types, value=body["object_type"], allow_blank=False, compact=True,
                         disabled=self.original_name is not None, id="we-type")
            yield Static(self._status_text(), id="we-status")
        yield Static("", id="we-name-error")
        with TabbedContent(id="we-tabs"):
            with TabPane("1 Schedule", id="tab-schedule"):
                yield ScheduleForm(body.get("schedule"), default_timezone=self.settings.timezone,
                                   operator_timezone=self.settings.timezone, clock=self.now,
                                   calendar=self._calendar(), id="we-schedule")
            with TabPane("2 Criteria", id="tab-criteria"):
                with VerticalScroll(can_focus=False):
                    yield Static("", id="we-count")
                    yield Label("Enroll records that meet (groups are ORed, filters in a group ANDed):",
                                classes="we-hint")
                    yield CriteriaEditor(body.get("criteria"), body["object_type"],
                                         empty_text="No criteria: every record", target="the enrollment criteria",
                                         id="we-criteria")
                    yield Static("", classes="we-error", id="err-criteria")
            with TabPane("3 Actions", id="tab-actions"):
                with VerticalScroll(can_focus=False):
                    yield ActionsEditor(body.get("actions"), body["object_type"], id="we-actions")
                    yield Static("", id="we-step-detail")
                    yield Static("", classes="we-error", id="err-actions")
            with TabPane("4 Settings", id="tab-settings"):
                yield SettingsForm(body, body["object_type"], id="we-settings")
                yield Static("", classes="we-error", id="err-settings")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def now(self) -> datetime:
        """The injected clock's now (a callable or an object with ``.now()``, e.g. the app's)."""
        clock = self._clock or getattr(self.app, "clock", None)
        if clock is None:
            return utcnow()
        return clock.now() if hasattr(clock, "now") else clock()

    def _calendar(self) -> BusinessCalendar:
        try:
            return BusinessCalendar.from_settings(self.settings)
        except RotaError:
            return BusinessCalendar()

    def _status_text(self) -> str:
        return {WorkflowStatus.ACTIVE: "● active", WorkflowStatus.PAUSED: "‖ paused"}.get(self.body.get("status"), "○ draft")

    def on_mount(self) -> None:
        self.sub_title = f"Edit {safe_text(self.original_name)}" if self.original_name else "New workflow"
        if self.types is None:
            self.load_types()
        self._schedule_count()
        # Widgets settle (Select/Input initial messages) before the body counts as unchanged.
        self.call_after_refresh(self._set_baseline)

    def _set_baseline(self) -> None:
        self._baseline = self.collect_body()

    # ------------------------------------------------------------------ reading

    @property
    def object_type(self) -> str:
        return str(self.query_one("#we-type", Select).value)

    def collect_body(self) -> dict:
        """The SPEC §9 body the widgets describe now (unvalidated)."""
        settings_form = self.query_one("#we-settings", SettingsForm)
        return {
            "name": self._name_value(),
            "object_type": self.object_type,
            "status": self.body.get("status", WorkflowStatus.DRAFT),
            "schedule": self.query_one("#we-schedule", ScheduleForm).schedule_json(),
            "criteria": self.query_one("#we-criteria", CriteriaEditor).groups,
            "suppression": settings_form.suppression,
            "unenrollment": settings_form.unenrollment,
            "actions": self.query_one("#we-actions", ActionsEditor).actions,
            "settings": settings_form.settings_value(self.body.get("settings")),
        }

    @property
    def dirty(self) -> bool:
        return self._baseline is not None and self.collect_body() != self._baseline

    # ------------------------------------------------------------------ counting

    @on(Input.Submitted, "#we-name")
    def _name_submitted(self) -> None:
        """Enter on the name goes on to the section showing, as a form's next field would."""
        self._focus_section()

    @on(CriteriaEditor.Changed, "#we-criteria")
    def _criteria_changed(self) -> None:
        self.query_one("#err-criteria", Static).update("")
        self._schedule_count()

    @on(ScheduleForm.Changed)
    def _schedule_changed(self, event: ScheduleForm.Changed) -> None:
        # Day-relative filters count calendar days in the workflow's zone.
        self._schedule_count()

    @on(Select.Changed, "#we-type")
    def _type_changed(self, event: Select.Changed) -> None:
        if not self.is_mounted or not isinstance(event.value, str):
            return
        self.query_one("#we-criteria", CriteriaEditor).set_object_type(event.value)
        self.query_one("#we-actions", ActionsEditor).set_object_type(event.value)
        self.query_one("#we-settings", SettingsForm).set_object_type(event.value)
        self._schedule_count()

    def _schedule_count(self) -> None:
        """Debounce: count once typing pauses, not on every key."""
        if self._count_timer is not None:
            self._count_timer.stop()
        self._count_timer = self.set_timer(COUNT_DEBOUNCE_S, self._start_count)

    def _start_count(self) -> None:
        self.query_one("#we-schedule", ScheduleForm).refresh_projection()
        self.query_one("#we-count", Static).update("counting…")
        tz = self.query_one("#we-schedule", ScheduleForm).timezone
        self.count_records(self.object_type, self.query_one("#we-criteria", CriteriaEditor).groups, tz)

    @db_read("types")
    def load_types(self) -> list[tuple[str, str]]:
        return editor_types()

    @db_read("count")
    def count_records(self, object_type: str, groups: list, tz: str) -> str:
        """How many records meet the criteria now, in words (a new edit supersedes an
        old count)."""
        from models.criteria import count_matching
        from models.objects import get_type

        count = count_matching(object_type, groups, now=self.now(), tz=tz)
        return f"{count:,} {get_type(object_type).plural.lower()} meet the criteria now"

    # ------------------------------------------------------------------ saving

    def action_save(self) -> None:
        self._save()

    def action_activate(self) -> None:
        body = {**self.collect_body(), "status": WorkflowStatus.ACTIVE}  # issue 11 §6: ask first
        self._clear_errors()
        self.app.push_screen(ActivateDialog(body, clock=self.now, refused=self.show_save_error),
                             lambda ok: ok and self._save(status=WorkflowStatus.ACTIVE))

    def action_review(self) -> None:
        self._save(then="review")

    def action_simulate(self) -> None:
        from tui.screens.simulate import SimulateScreen

        self.app.push_screen(SimulateScreen(spec=self.collect_body(), today=self.now().date()))

    def _save(self, *, status: str | None = None, then: str | None = None, busy_ok: bool = False) -> None:
        if self._saving:
            self.notify("Still saving…", timeout=2)
            return
        if not busy_ok and (busy := self.query_one("#we-schedule", ScheduleForm).busy_warning()):
            self.app.push_screen(ConfirmScreen(f"{busy}. Save it anyway?", title="Busy schedule"),
                                 lambda yes: yes and self._save(status=status, then=then, busy_ok=True))
            return
        body = self.collect_body()
        if status:
            body["status"] = status
        self._clear_errors()

        def write(ok: bool = True) -> None:
            if ok:
                self._after_save, self._saving = then, True
                self.save_body(body, self.original_name)

        if self.original_name and self.body.get("status") == WorkflowStatus.ACTIVE and self.dirty:  # live edit: show it first
            self.app.push_screen(ChangeDialog(self.original_name, body, clock=self.now, refused=self.show_save_error),
                                 write)
            return
        write()

    @db_write("editor-save")
    def save_body(self, body: dict, original_name: str | None) -> tuple[dict, str]:
        """Validate and store through the service layer; returns the body and the saved name."""
        from engine.workflows import save_workflow

        wf = save_workflow(body, mode="update" if original_name else "create", original_name=original_name,
                           now=self.now())
        return body, wf.name

    def _saved(self, body: dict, name: str) -> None:
        self.body["status"] = body["status"]
        self.original_name = self.saved_name = name
        self.query_one("#we-type", Select).disabled = True
        self.query_one("#we-status", Static).update(self._status_text())
        self.sub_title = f"Edit {safe_text(name)}"
        self._baseline = self.collect_body()
        self.notify(f"Saved “{name}”" + (" — active" if body["status"] == WorkflowStatus.ACTIVE else ""), title="Saved")
        self.refresh_bindings()
        then, self._after_save = self._after_save, None
        if then == "review":
            self._open_review(name)

    def _open_review(self, name: str) -> None:
        try:
            from tui.screens.review import ReviewScreen
        except ImportError:
            self.notify("The review screen is not available in this build.", severity="warning")
            return
        self.app.push_screen(ReviewScreen(name), self._reviewed)

    def _reviewed(self, status: str | None) -> None:
        """The review screen may have activated or paused the workflow: show its status,
        and save that status from now on (it is not an unsaved change)."""
        if status in tuple(WorkflowStatus) and status != self.body.get("status"):
            self.body["status"] = status
            self.query_one("#we-status", Static).update(self._status_text())
            self._baseline = {**(self._baseline or self.collect_body()), "status": status}
            self.refresh_bindings()

    def _name_value(self) -> str:
        """The name typed; the stored name itself while its escaped form is unchanged."""
        typed = self.query_one("#we-name", Input).value.strip()
        stored = self.body.get("name") or ""
        return stored.strip() if stored and typed == safe_text(stored).strip() else typed

    @on(Input.Changed, "#we-name")
    def _name_changed(self) -> None:
        """A name error goes as soon as the name is edited (saving checks it again)."""
        if self.query_one("#we-name-error").display:
            self.query_one("#we-name-error", Static).update("")
            self.query_one("#we-name-error").display = False
            self.query_one("#we-name", Input).remove_class("-invalid")

    @on(ActionsEditor.Changed)
    def _actions_changed(self) -> None:
        self.query_one("#err-actions", Static).update("")

    @on(CriteriaEditor.FilterWanted)
    def _filter_wanted(self, message: CriteriaEditor.FilterWanted) -> None:
        """The criteria editors (criteria, suppression, unenrollment) ask for a filter."""
        message.stop()
        self.app.push_screen(FilterDialog(message.object_type, message.filter, target=message.target), message.done)

    @on(ActionsEditor.StepWanted)
    def _step_wanted(self, message: ActionsEditor.StepWanted) -> None:
        message.stop()
        self.app.push_screen(StepDialog(message.object_type, message.step, target=message.target), message.done)

    @on(Tree.NodeHighlighted, "#we-actions")
    def _step_highlighted(self, event: Tree.NodeHighlighted) -> None:
        """A step too long for its line in the tree is shown whole under it."""
        self._show_step_detail(event.node)

    def on_resize(self) -> None:
        self._relayout_step_detail()

    @on(TabbedContent.TabActivated)
    @on(ActionsEditor.Changed)
    def _relayout_step_detail(self) -> None:
        """Once laid out anew (a resize, the Actions section shown, a step edited)."""
        tree = self.query_one("#we-actions", ActionsEditor)
        self.call_after_refresh(lambda: self._show_step_detail(tree.cursor_node))

    def _show_step_detail(self, node) -> None:
        """Show ``node``'s whole label when the tree cuts it; with no step highlighted
        yet, the first one the tree cuts."""
        tree = self.query_one("#we-actions", ActionsEditor)
        detail = self.query_one("#we-step-detail", Static)
        room = tree.content_region.width
        nodes = [node] if node is not None else [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]
        cut = [n for n in nodes if n is not None and room and self._line_width(tree, n) > room]
        detail.display = bool(cut)
        detail.update(cut[0].label if cut else "")

    @staticmethod
    def _line_width(tree: ActionsEditor, node) -> int:
        """Cells a tree line takes: its guides (4 a level) and its label."""
        depth, parent = 0, node.parent
        while parent is not None and parent is not tree.root:
            parent, depth = parent.parent, depth + 1
        return 4 * depth + cell_len(node.label.plain)

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.name == "save_body":
            self._saving = False
            self._saved(*worker.result)
        elif worker.name == "count_records":
            self.query_one("#we-count", Static).update(worker.result)
        elif worker.name == "load_types":
            self.types = worker.result
            select = self.query_one("#we-type", Select)
            value = select.value
            with self.prevent(Select.Changed):
                select.set_options(self.types)
                select.value = value
                select.mutate_reactive(Select.value)  # show the label even when the value is the same

    def worker_error(self, worker: Worker) -> bool:
        """A refused save goes to its field; a failed count shows where the count goes."""
        error = worker.error
        if worker.name == "save_body":
            self._saving = False
        if worker.name == "save_body" and isinstance(error, RotaError):
            self.show_save_error(error)
            return True
        if worker.name == "count_records":
            text = str(error) if isinstance(error, RotaError) else "could not count (see the log)"
            if not isinstance(error, RotaError):
                log.error("counting matching records failed", exc_info=error)
            self.query_one("#we-count", Static).update(f"⚠ {text}")
            return True
        if worker.name == "save_body":
            self._after_save = None
        return False

    # ------------------------------------------------------------------ moving about

    def action_section(self, index: int) -> None:
        self.query_one("#we-tabs", TabbedContent).active = SECTIONS[index]
        self._focus_section()

    def action_next_section(self) -> None:
        tabs = self.query_one("#we-tabs", TabbedContent)
        self.action_section((SECTIONS.index(tabs.active) + 1) % len(SECTIONS))

    def _focus_section(self) -> None:
        """Put the focus on the section's main control so its keys work at once."""
        active = self.query_one("#we-tabs", TabbedContent).active
        target = {"tab-schedule": "#sf-freq", "tab-criteria": "#we-criteria", "tab-actions": "#we-actions",
                  "tab-settings": "#st-pause"}[active]
        self.call_after_refresh(self.query_one(target).focus)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "section" and isinstance(self.focused, (Input, Select)):
            return False  # digits go to the field being typed in (or its search), not to the tabs
        if action == "activate" and self.body.get("status") == WorkflowStatus.ACTIVE:
            return None  # already active: saving keeps it active
        return True

    def action_close(self) -> None:
        if not self.dirty:
            self.dismiss(self.saved_name)
            return
        discard_or_keep(self, "This workflow has unsaved changes. Discard them?", self.saved_name)


def editor_types() -> list[tuple[str, str]]:
    """The object types the editor offers, as (label, name); read in a worker. Their
    property definitions are read too, so the editor's widgets find them cached."""
    types = reads.object_types()
    for otype in types:
        get_props(otype.name)
    return [(t.label, t.name) for t in types]
