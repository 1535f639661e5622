"""The home screen's actions on workflows: create, open, activate or pause, clone,
delete, export, review, the screens beyond the list and the first-run demo offer.

A mixin for ``WorkflowsScreen`` (``tui.screens.workflows``), which owns the table:
these methods use its ``selected()``, ``rows``, ``reload()`` and ``_select_next``.
Reads and writes go through ``tui.workers`` like everywhere else; their outcomes come
back to the screen's ``worker_succeeded``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from textual.widgets import DataTable

from models.enums import WorkflowStatus
from models.errors import RotaError
from models.store import reads
from tui.screens.activate_dialog import ActivateDialog
from tui.workers import db_read, db_write

if TYPE_CHECKING:
    from tui.screens.home_rows import WorkflowRow


class WorkflowActions:
    """What the home screen's keys do to the selected workflow (or to the database)."""

    rows: dict[int, WorkflowRow]
    _select_next: str | None

    def action_new(self) -> None:
        self.read_types()

    @db_read("workflows-open")
    def read_types(self) -> list[reads.TypeChoice]:
        return reads.object_types()

    def show_create(self, types: list) -> None:
        from tui.screens.create import CreateScreen

        choices = [(f"{t.label} ({t.name})" if not t.builtin else t.label, t.name) for t in types]
        taken = {r.name for r in self.rows.values()}
        self.app.push_screen(CreateScreen(choices, taken), self._created)

    def _created(self, new) -> None:
        if new is None:
            return
        body = {
            "name": new.name, "object_type": new.object_type, "status": WorkflowStatus.DRAFT,
            "schedule": {"kind": "daily", "time": "08:00", "timezone": self.app.settings.timezone},
            "criteria": [], "suppression": [], "unenrollment": [], "actions": [], "settings": {},
        }
        self.read_for_editor(body, None)

    @db_read("workflows-open")
    def read_for_editor(self, body: dict | None, workflow_id: int | None) -> tuple[dict, str | None, list]:
        """What the editor needs, read before it opens: the body (of a stored
        workflow, when ``workflow_id`` is given) and the object types."""
        from engine.workflows import get_workflow, workflow_body
        from tui.screens.workflow_editor import editor_types

        original_name = None
        if workflow_id is not None:
            wf = get_workflow(workflow_id)
            body, original_name = workflow_body(wf), wf.name
        return body, original_name, editor_types()

    def open_editor(self, body: dict, original_name: str | None, types: list | None = None) -> None:
        from tui.screens.workflow_editor import WorkflowEditorScreen

        self.app.push_screen(WorkflowEditorScreen(body, original_name=original_name, types=types), self._edited)

    def _edited(self, name: str | None) -> None:
        self._select_next = name  # the saved (maybe new or renamed) workflow
        self.reload()

    def select_name(self, name: str) -> bool:
        """Put the cursor on the workflow called ``name``; False if it is not shown."""
        table = self.query_one(DataTable)
        for row in self.rows.values():
            if row.name == name and str(row.id) in table.rows:
                table.move_cursor(row=table.get_row_index(str(row.id)))
                return True
        return False

    def action_open(self) -> None:
        row = self.selected()
        if row is not None:
            self.read_for_editor(None, row.id)

    def action_set(self, status: str) -> None:
        row = self.selected()
        if row is not None and row.status != status and status == WorkflowStatus.ACTIVE:  # issue 11 §6: ask first
            self.app.push_screen(ActivateDialog(row.name), lambda ok: ok and self.change_status(row.name, status))
        elif row is not None and row.status != status:
            self.change_status(row.name, status)

    @db_write("workflows-change")
    def change_status(self, name: str, status: str) -> str:
        from engine.workflows import set_status

        wf = set_status(name, status, now=self.app.clock.now())
        if status == WorkflowStatus.ACTIVE:
            self.app.wake_engine()
            when = self.app.local_time(wf.next_run_at) if wf.next_run_at else "no next run"
            return f'"{name}" is active; next run {when}.'
        return f'"{name}" is paused.'

    def action_clone(self) -> None:
        row = self.selected()
        if row is None:
            return
        from tui.screens.confirm import AskScreen

        taken = {r.name.lower() for r in self.rows.values()}
        proposal, n = f"Copy of {row.name}", 2
        while proposal.lower() in taken:
            proposal, n = f"Copy {n} of {row.name}", n + 1
        self.app.push_screen(AskScreen(f'Name for the copy of "{row.name}":', proposal, title="Clone workflow"),
                             lambda new: new and self.clone(row.name, new))

    @db_write("workflows-change")
    def clone(self, name: str, new_name: str) -> str:
        from engine.workflows import clone_workflow

        clone_workflow(name, new_name, now=self.app.clock.now())
        self._select_next = new_name
        return f'Cloned "{name}" as "{new_name}" (a draft).'

    def action_delete(self) -> None:
        row = self.selected()
        if row is None:
            return
        from tui.screens.confirm import ConfirmScreen

        question = (f'Delete "{row.name}"? Its runs and history go with it. '
                    "The audit log keeps a copy of its last version.")
        self.app.push_screen(ConfirmScreen(question, title="Delete workflow", yes="Delete"),
                             lambda yes: yes and self.delete(row.name))

    @db_write("workflows-change")
    def delete(self, name: str) -> str:
        from engine.workflows import delete_workflow

        delete_workflow(name, now=self.app.clock.now())
        return f'Deleted "{name}".'

    def action_export(self) -> None:
        row = self.selected()
        if row is None:
            return
        from tui.screens.confirm import AskScreen

        default = safe_filename(row.name) + ".json"
        self.app.push_screen(AskScreen("Write the workflow as JSON to:", default, title="Export workflow"),
                             lambda path: path and self.export(row.name, path))

    @db_write("workflows-change")
    def export(self, name: str, path: str) -> str:
        from engine.workflows import export_workflow

        body = export_workflow(name)
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / (safe_filename(name) + ".json")
        try:
            target.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise RotaError(f"cannot write {target}: {exc.strerror}") from None
        return f"Exported to {target.resolve()}"

    def action_review(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.review import ReviewScreen

            self.app.push_screen(ReviewScreen(row.name), lambda _: self.reload())

    # ------------------------------------------------------- other screens

    def action_dashboard(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        self.app.push_screen(DashboardScreen())

    def action_dashboard_workflow(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.dashboard import DashboardScreen

            self.app.push_screen(DashboardScreen(row.id, row.name))

    def action_history(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.history import HistoryScreen

            self.app.push_screen(HistoryScreen(row.name))

    def action_audit(self) -> None:
        row = self.selected()
        if row is not None:
            from tui.screens.audit import AuditScreen

            self.app.push_screen(AuditScreen(row.name))

    def action_records(self) -> None:
        from tui.screens.records import RecordsScreen

        row = self.selected()  # start on the selected workflow's object type
        self.app.push_screen(RecordsScreen(row.object_type if row else "contact"))

    def action_lists(self) -> None:
        from tui.screens.lists import ListsScreen

        self.app.push_screen(ListsScreen())

    def action_types(self) -> None:
        from tui.screens.types import TypesScreen

        self.app.push_screen(TypesScreen())

    def action_inbox(self) -> None:
        from tui.screens.inbox import InboxScreen

        self.app.push_screen(InboxScreen())

    # ------------------------------------------------------------------ demo

    def offer_demo(self) -> None:
        from tui.screens.demo_offer import DemoOfferScreen

        self.app.push_screen(DemoOfferScreen(), self._demo_answer)

    def _demo_answer(self, yes: bool | None) -> None:
        if yes:
            self.notify("Loading demo data…")
            self.load_demo()

    @db_write("workflows-change")
    def load_demo(self) -> str:
        from engine.demo import load_demo

        load_demo(now=self.app.clock.now(), **DEMO_SIZE)
        return "Demo data loaded."


# What "load demo data" adds from the first-run offer: enough to look around, quick to
# load; `rota demo --contacts N` makes more.
DEMO_SIZE = {"contacts": 2000, "companies": 200, "deals": 300, "tickets": 200}


def safe_filename(name: str) -> str:
    """A workflow name as a file name: path separators and control characters replaced."""
    cleaned = "".join("-" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name).strip(". ")
    return cleaned or "workflow"

