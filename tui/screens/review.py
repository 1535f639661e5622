"""Review and publish (issue 6 §5, SPEC §6, issues 11 and 14).

Shows what the workflow will do before it goes live, in words: the schedule, criteria,
suppression, unenrollment, pause days, other settings and every action; the records
meeting the criteria now (counted in the database, in a worker — it may take a moment
on a large table) and the next runs, each in the operator's zone and named, with the
workflow's own wall time beside it where its zone differs, and marked when it falls on
a pause day. From here the operator can save the matching set as a static list, and
activate (after a confirmation, ``ActivateDialog``), pause or resume the workflow.

Everything is read through ``engine.preview_change.review_summary``: plain data, no
peewee in the screen.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Static
from textual.worker import Worker

from engine.identity import format_instant
from engine.preview_change import ReviewSummary
from models.enums import WorkflowStatus
from tui.messages import WorkflowsChanged
from tui.screens.activate_dialog import ActivateDialog
from tui.text import safe_markup
from tui.widgets import WrappingFooter
from tui.workers import WorkerReports, db_read, db_write

RUNS_SHOWN = 5


class ReviewScreen(WorkerReports, Screen[str | None]):
    """Dismisses with the workflow's status when the operator leaves."""

    CSS_PATH = "review.tcss"
    HELP_TITLE = "Review and publish"
    BINDINGS = [
        Binding("a", "set('active')", "Activate", tooltip="Activate (or resume) the workflow"),
        Binding("a", "set('paused')", "Pause", tooltip="Pause the workflow"),
        Binding("l", "save_list", "Save list", tooltip="Save the records meeting the criteria as a static list"),
        Binding("f", "recount", "Recount"),
        Binding("s", "simulate", "Simulate", show=False, tooltip="Every run in a date range with projected counts"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, workflow_name: str) -> None:
        super().__init__()
        self.workflow_name = workflow_name
        self.overview: ReviewSummary | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with VerticalScroll(id="review"):
            yield Static(f"Review and publish: [b]{_esc(self.workflow_name)}[/b]", id="review-title")
            yield Static("Loading…", id="overview")
            yield Static("Records meeting the criteria now: counting…", id="count")
            yield Static("Next run: …", id="next-run")
            yield Static("", id="actions")
            with Horizontal(id="review-buttons"):
                yield Button("Save as static list", id="save-list")
                yield Button("Activate", id="toggle", variant="success")
                yield Button("Back", id="back")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    def action_simulate(self) -> None:
        from tui.screens.simulate import SimulateScreen

        self.app.push_screen(SimulateScreen(self.workflow_name, today=self.app.clock.now().date()))

    # ---------------------------------------------------------------- workers

    @db_read("review-load")
    def load(self) -> ReviewSummary:
        from engine.preview_change import review_summary

        return review_summary(self.workflow_name, now=self.app.clock.now(), runs=RUNS_SHOWN)

    @db_write("review-change")
    def set_status(self, status: str) -> str:
        from engine.workflows import set_status

        wf = set_status(self.workflow_name, status, now=self.app.clock.now())
        self.app.wake_engine()
        if status == WorkflowStatus.ACTIVE:
            when = format_instant(wf.next_run_at, self.app.settings.timezone)
            return f'"{self.workflow_name}" is active. Next run: {when}.'
        return f'"{self.workflow_name}" is paused.'

    @db_write("review-change")
    def save_list(self, list_name: str) -> str:
        from engine.review import save_as_static_list

        size = save_as_static_list(self.workflow_name, list_name, now=self.app.clock.now())
        return f'Saved static list "{list_name}" with {size:,} record{"" if size == 1 else "s"}.'

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "review-load":
            self.overview = worker.result
            self.show()
        elif worker.group == "review-change":
            self.notify(str(worker.result))
            self.load()

    # ---------------------------------------------------------------- display

    def show(self) -> None:
        o = self.overview
        if o is None:
            return
        lines = [f"Object type: {_esc(o.object_type)}    Status: [b]{o.status}[/b]",
                 f"Schedule: {_esc(o.schedule)}",
                 f"Criteria: {_esc(o.criteria)}",
                 f"Suppression: {_esc(o.suppression)}",
                 f"Unenrollment: {_esc(o.unenrollment)}",
                 f"Pause days: {_esc(o.pause_days)}"]
        lines += [_esc(line) for line in o.other_settings]
        self.query_one("#overview", Static).update("\n".join(lines))
        self.query_one("#count", Static).update(f"Records meeting the criteria now: [b]{_esc(o.counts.words())}[/b]")
        tz = self.app.settings.timezone
        suffix = "" if o.status == WorkflowStatus.ACTIVE else " (once activated)"
        runs = [f"  {_esc(format_instant(r.at, tz, o.timezone))}" + (f"\n    [i]{_esc(r.mark)}[/i]" if r.mark else "")
                for r in o.next_runs]
        head = f"Next run{'' if len(runs) == 1 else 's'}{suffix} in {_esc(tz)}"
        head += ":" if o.timezone == tz else f" ({_esc(o.timezone)} in brackets):"
        self.query_one("#next-run", Static).update("\n".join([head] + runs) if runs else f"Next run: none{suffix}")
        steps = "\n".join(f"  {_esc(line)}" for line in o.actions)
        self.query_one("#actions", Static).update(f"Actions:\n{steps}" if o.actions
                                                   else "Actions: none (records are enrolled, nothing else happens)")
        button = self.query_one("#toggle", Button)
        button.label = self.toggle_label()
        button.variant = "warning" if o.status == WorkflowStatus.ACTIVE else "success"
        self.refresh_bindings()

    def toggle_label(self) -> str:
        status = self.overview.status if self.overview else WorkflowStatus.DRAFT
        return {WorkflowStatus.ACTIVE: "Pause", WorkflowStatus.PAUSED: "Resume"}.get(status, "Activate")

    def on_workflows_changed(self, message: WorkflowsChanged) -> None:
        self.load()

    # ---------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """One key, "a", activates or pauses: the binding that does not apply is hidden,
        so the footer always names what the key will do."""
        if action == "set":
            if self.overview is None:
                return None if parameters == (WorkflowStatus.ACTIVE,) else False
            return (self.overview.status == WorkflowStatus.ACTIVE) == (parameters == (WorkflowStatus.PAUSED,))
        if action == "save_list" and self.overview is None:
            return None
        return True

    def action_set(self, status: str) -> None:
        if self.overview is None or self.overview.status == status:
            return
        if status == WorkflowStatus.ACTIVE:  # issue 11 §6: activation shows what it means first
            self.app.push_screen(ActivateDialog(self.workflow_name), lambda ok: ok and self.set_status(status))
        else:
            self.set_status(status)

    def action_toggle(self) -> None:
        if self.overview is not None:
            self.action_set(WorkflowStatus.PAUSED if self.overview.status == WorkflowStatus.ACTIVE else WorkflowStatus.ACTIVE)

    def action_save_list(self) -> None:
        from tui.screens.confirm import AskScreen

        default = f"{self.workflow_name} — {self.app.local_time(self.app.clock.now(), '%Y-%m-%d')}"
        self.app.push_screen(AskScreen("Name of the static list:", default, title="Save as static list"),
                             lambda name: name and self.save_list(name))

    def action_recount(self) -> None:
        self.query_one("#count", Static).update("Records meeting the criteria now: counting…")
        self.load()

    def action_back(self) -> None:
        self.dismiss(self.overview.status if self.overview else None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"save-list": self.action_save_list, "toggle": self.action_toggle, "back": self.action_back}[
            event.button.id]()


def _esc(text) -> str:
    return safe_markup(text, keep_lines=True)
