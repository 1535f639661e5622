"""Manual enrollment says what will happen (issue 11 §5). Before a record is enrolled
by hand, ``engine.enroll.check_manual`` looks at it: if it meets the unenrollment
criteria, or already has an enrollment in progress in the workflow, this dialog says so
and asks. With nothing to say it closes by itself and the enrollment goes on. A
suppressed record goes on too: enrollment refuses it, as always, and says so.
"""
from __future__ import annotations

from textual.worker import Worker

from tui.screens.activate_dialog import PreviewDialog, _esc


class EnrollCheckDialog(PreviewDialog):
    TITLE_TEXT = "Enroll anyway?"
    CONFIRM_LABEL = "Enroll anyway"
    LOADING = "Checking the record…"

    def __init__(self, workflow_name: str, record_id: int) -> None:
        super().__init__()
        self.workflow_name = workflow_name
        self.record_id = record_id

    def compute(self):
        from engine.enroll import check_manual, needs_confirmation

        return needs_confirmation(check_manual(self.workflow_name, self.record_id, now=self.now()))

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "preview" and not worker.result:
            self.dismiss(True)  # nothing to ask
            return
        super().worker_succeeded(worker)

    def describe(self, value) -> str:
        lines = [f"• {_esc(f.message)}." for f in value]
        return "\n".join(lines + ["", f'Enroll it in "{_esc(self.workflow_name)}" anyway?'])
