"""The records screen's dialogs: choose a workflow to enroll a record in, choose the
columns shown for an object type, and read one record's timeline."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from models.enums import WorkflowStatus
from tui.text import safe_markup, safe_text


class WorkflowPickScreen(ModalScreen[str | None]):
    """Choose the workflow to enroll a record in. Only active workflows can be chosen
    (``enroll_manual`` refuses others); the rest are listed disabled, with their
    status, so the operator sees why a workflow is missing from the choice."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, record_label: str, workflows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.record_label = record_label
        self.workflows = workflows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Enroll {self.record_label} in…", classes="title")
            if self.workflows:
                yield OptionList(*[Option(safe_markup(name if status == WorkflowStatus.ACTIVE else f"{name} ({status})"), id=name,
                                          disabled=status != WorkflowStatus.ACTIVE) for name, status in self.workflows],
                                 id="pick")
            else:
                yield Static("No workflow works on this object type yet.")
            yield Static("Enter enrolls (asking first if the record would leave at once) · Escape cancels", classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ColumnsScreen(ModalScreen[tuple[str, list[str]] | None]):
    """Tick the properties to show, in definition order; Enter saves, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, type_name: str, props: list[tuple[str, str]], chosen: list[str]) -> None:
        super().__init__()
        self.type_name = type_name
        self.props = props
        self.chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Columns for {self.type_name}", classes="title")
            yield SelectionList(*[(label, name, name in self.chosen) for name, label in self.props], id="cols")
            yield Static("Space ticks · ctrl+s saves · Escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#cols", SelectionList).focus()

    def action_save(self) -> None:
        chosen = list(self.query_one("#cols", SelectionList).selected)
        if not chosen:
            self.notify("Tick at least one column.", severity="warning")
            return
        order = [name for name, _ in self.props]
        self.dismiss((self.type_name, sorted(chosen, key=order.index)))

    def action_cancel(self) -> None:
        self.dismiss(None)


TIMELINE_COLUMNS = (("at", "When (UTC)", 16), ("kind", "What", 15), ("text", "Detail", 22),
                    ("wf", "Workflow", 16))


class TimelineScreen(ModalScreen[None]):
    """One record's story: every enrollment, step, list membership and task, newest first.

    The detail takes the width the others leave (the workflow goes first at a narrow
    width; what happened, then when, go last); a cell longer than its column ends in "…" after a word and the highlighted
    entry is shown whole under the table."""

    BINDINGS = [Binding("escape", "close", "Close")]
    CSS_PATH = "records.tcss"

    def __init__(self, story: dict) -> None:
        super().__init__()
        self.story = story
        self.columns: list[tuple[str, str, int]] = []

    def compose(self) -> ComposeResult:
        from tui.widgets import column_table

        story = self.story
        with Vertical(classes="dialog", id="timeline"):
            n = len(story["timeline"])
            yield Static(f"{story['type']} {story['id']}: {n} entr{'y' if n == 1 else 'ies'}, newest first",
                         classes="title")
            yield column_table("timeline-table", TIMELINE_COLUMNS)
            yield Static("", id="timeline-detail")
            yield Static("Escape closes", classes="hint")

    def cells(self, row: dict) -> dict[str, str]:
        """The entry's values as plain text (control characters escaped); markup-escaped
        where they are shown, after clipping, so the clip counts what shows."""
        return {"at": (row["at"] or "")[:16].replace("T", " "), "kind": row["kind"].replace("_", " "),
                "text": safe_text(row["text"]), "wf": safe_text(row["workflow"] or "")}

    def on_resize(self) -> None:
        from rich.markup import escape

        from tui.widgets import fit_columns, set_columns
        from tui.widgets.fit import clip

        table = self.query_one("#timeline-table", DataTable)
        columns = fit_columns(TIMELINE_COLUMNS, table.size.width or 76, "text", ("kind", "at", "wf"))
        if columns == self.columns:
            return
        self.columns = columns
        set_columns(table, columns)
        for i, row in enumerate(self.story["timeline"]):
            cells = self.cells(row)
            table.add_row(*(escape(clip(cells[key], width)) for key, _, width in columns), key=str(i))
        self.show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        from rich.markup import escape

        from tui.widgets import cursor_key

        key = cursor_key(self.query_one("#timeline-table", DataTable))
        entries = self.story["timeline"]
        row = entries[int(key)] if key is not None and int(key) < len(entries) else None
        text = "" if row is None else " · ".join(escape(v) for v in self.cells(row).values() if v)
        self.query_one("#timeline-detail", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)

