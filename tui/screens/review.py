"""Review and publish (issue 6 §5, SPEC §6).

Shows what the workflow will do before it goes live: records meeting the criteria now
(counted in the database, in a worker — it may take a moment on a large table), the
next run time, the criteria and schedule in words. From here the operator can save
the matching set as a static list and activate (or pause / resume) the workflow.
Activating takes effect at once: the service layer wakes the engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Static
from textual.worker import Worker

from tui.messages import WorkflowsChanged
from tui.workers import WorkerReports, db_read, db_write
from tui.widgets import WrappingFooter


@dataclass(frozen=True)
class Overview:
    """The static part of the review, read once when the screen opens."""

    name: str
    object_type: str
    status: str
    schedule_words: str
    criteria_words: str
    suppression_words: str
    actions: int


def read_overview(name: str, default_timezone: str) -> Overview:
    from engine.schedule import parse_schedule
    from engine.workflows import get_workflow
    from models.criteria import describe_criteria

    wf = get_workflow(name)
    type_name = wf.object_type.name
    return Overview(
        name=wf.name, object_type=type_name, status=wf.status,
        schedule_words=parse_schedule(wf.schedule, default_timezone).describe(),
        criteria_words=describe_criteria(wf.criteria or [], type_name),
        suppression_words=describe_criteria(wf.suppression or [], type_name, empty=False)
        if wf.suppression else "none",
        actions=len(wf.actions or []),
    )


def review_numbers(name: str, now: datetime) -> dict:
    """{"count", "suppressed", "would_enroll", "next_run"} (see ``engine.review``)."""
    from engine.review import review

    return review(name, now=now)


class ReviewScreen(WorkerReports, Screen[str | None]):
    """Dismisses with the workflow's status when the operator leaves."""

    CSS_PATH = "review.tcss"
    HELP_TITLE = "Review and publish"
    BINDINGS = [
        Binding("a", "set('active')", "Activate", tooltip="Activate (or resume) the workflow"),
        Binding("a", "set('paused')", "Pause", tooltip="Pause the workflow"),
        Binding("l", "save_list", "Save list", tooltip="Save the records meeting the criteria as a static list"),
        Binding("f", "recount", "Recount"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, workflow_name: str) -> None:
        super().__init__()
        self.workflow_name = workflow_name
        self.overview: Overview | None = None
        self.count: int | None = None
        self.numbers: dict = {}
        self.next_run: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with VerticalScroll(id="review"):
            yield Static(f"Review and publish: [b]{_esc(self.workflow_name)}[/b]", id="review-title")
            yield Static("Loading…", id="overview")
            yield Static("Records meeting the criteria now: counting…", id="count")
            yield Static("Next run: …", id="next-run")
            with Horizontal(id="review-buttons"):
                yield Button("Save as static list", id="save-list")
                yield Button("Activate", id="toggle", variant="success")
                yield Button("Back", id="back")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    # ---------------------------------------------------------------- workers

    @db_read("review-load")
    def load(self) -> tuple[Overview, dict]:
        overview = read_overview(self.workflow_name, self.app.settings.timezone)
        numbers = review_numbers(self.workflow_name, self.app.clock.now())
        return overview, numbers

    @db_write("review-change")
    def set_status(self, status: str) -> str:
        from engine.workflows import set_status

        wf = set_status(self.workflow_name, status, now=self.app.clock.now())
        self.app.wake_engine()
        if status == "active":
            when = self.app.local_time(wf.next_run_at, "%a %d %b %Y %H:%M") if wf.next_run_at else "none"
            return f'"{self.workflow_name}" is active. Next run: {when}.'
        return f'"{self.workflow_name}" is paused.'

    @db_write("review-change")
    def save_list(self, list_name: str) -> str:
        from engine.review import save_as_static_list

        size = save_as_static_list(self.workflow_name, list_name, now=self.app.clock.now())
        return f'Saved static list "{list_name}" with {size:,} record{"" if size == 1 else "s"}.'

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "review-load":
            self.overview, numbers = worker.result
            self.numbers = numbers
            self.count = numbers.get("count")
            self.next_run = numbers.get("next_run")
            self.show()
        elif worker.group == "review-change":
            self.notify(str(worker.result))
            self.load()

    # ---------------------------------------------------------------- display

    def show(self) -> None:
        o = self.overview
        if o is None:
            return
        self.query_one("#overview", Static).update(
            f"Object type: {o.object_type}    Status: [b]{o.status}[/b]\n"
            f"Schedule: {_esc(o.schedule_words)}\n"
            f"Criteria: {_esc(o.criteria_words)}\n"
            f"Suppression: {_esc(o.suppression_words)}\n"
            f"Actions: {o.actions} step{'s' if o.actions != 1 else ''}"
        )
        count = "—" if self.count is None else f"[b]{self.count:,}[/b]"
        suppressed = self.numbers.get("suppressed")
        if suppressed:
            count += f" ({suppressed:,} suppressed, {self.numbers.get('would_enroll', 0):,} would enroll)"
        self.query_one("#count", Static).update(f"Records meeting the criteria now: {count}")
        when = self.app.local_time(self.next_run, "%a %d %b %Y %H:%M") if self.next_run else "none"
        suffix = "" if o.status == "active" else " (once activated)"
        self.query_one("#next-run", Static).update(f"Next run: [b]{when}[/b]{suffix}")
        button = self.query_one("#toggle", Button)
        button.label = self.toggle_label()
        button.variant = "warning" if o.status == "active" else "success"
        self.refresh_bindings()

    def toggle_label(self) -> str:
        status = self.overview.status if self.overview else "draft"
        return {"active": "Pause", "paused": "Resume"}.get(status, "Activate")

    def on_workflows_changed(self, message: WorkflowsChanged) -> None:
        self.load()

    # ---------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """One key, "a", activates or pauses: the binding that does not apply is hidden,
        so the footer always names what the key will do."""
        if action == "set":
            if self.overview is None:
                return None if parameters == ("active",) else False
            return (self.overview.status == "active") == (parameters == ("paused",))
        if action == "save_list" and self.overview is None:
            return None
        return True

    def action_set(self, status: str) -> None:
        if self.overview is not None and self.overview.status != status:
            self.set_status(status)

    def action_toggle(self) -> None:
        if self.overview is not None:
            self.action_set("paused" if self.overview.status == "active" else "active")

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


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
