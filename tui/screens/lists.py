"""Static lists (issue 13 §4): each list with its object type and member count; the
highlighted list's members, keyset-paged; export of the members' records as CSV;
delete (the records stay). Data comes from ``models.store.records``.
"""
from __future__ import annotations

import csv
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker

from models.errors import RotaError
from tui.text import safe_markup
from tui.widgets import WrappingFooter, column_table, cursor_key, sync_table
from tui.workers import WorkerReports, db_read, db_write

PAGE = 100


def write_members_csv(name: str, path: Path) -> int:
    """The members' records as CSV (headers are property labels, so the file imports
    again); written to a temporary name and renamed, so a reader never sees half a file."""
    from models.objects import get_props, to_json_value
    from models.store.records import list_info, list_member_records

    info = list_info(name)
    props = get_props(info["object_type"])
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", *[p.label for p in props.values()]])
            for row in list_member_records(name):
                cells = []
                for pname, prop in props.items():
                    value = to_json_value(prop, row.get(pname))
                    cells.append("" if value is None else "true" if value is True else "false" if value is False
                                 else value)
                writer.writerow([row["id"], *cells])
                count += 1
        tmp.replace(path)
    except OSError as exc:
        raise RotaError(f"cannot write {path}: {exc.strerror}") from None
    return count


class ListsScreen(WorkerReports, Screen):
    """Lists on the left, the highlighted list's members on the right."""

    CSS_PATH = "lists.tcss"
    HELP_TITLE = "Static lists"
    BINDINGS = [
        Binding("x", "export", "Export CSV", tooltip="Write the members' records to a CSV file"),
        Binding("d", "delete", "Delete list", tooltip="Delete the list (its records stay)"),
        Binding("right_square_bracket", "page(1)", "Next page", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Prev page", key_display="["),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lists: list[dict] = []
        self.current: str | None = None
        self.members: list[int] = []
        self.starts: list[int] = []
        self.after = 0
        self.more = False

    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        with Horizontal(id="lists-body"):
            yield column_table("lists-table", [("name", "List", 24), ("type", "Type", 9), ("count", "Members", 9)])
            yield column_table("members-table", [("id", "Member id", 12)])
        yield Static("", id="lists-status")
        yield WrappingFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#lists-table", DataTable).focus()
        self.load()

    @db_read("lists-load")
    def load(self) -> list[dict]:
        from models.store.records import list_summaries

        return list_summaries()

    @db_read("lists-members")
    def load_members(self, name: str, after: int) -> tuple[str, int, list[int]]:
        from models.store.records import list_member_ids

        return name, after, list_member_ids(name, after=after, limit=PAGE + 1)

    def worker_succeeded(self, worker: Worker) -> None:
        if worker.group == "lists-load":
            self.lists = worker.result
            self.show_lists()
        elif worker.group == "lists-members":
            name, after, ids = worker.result
            if name == self.current:
                self.after, self.more, self.members = after, len(ids) > PAGE, ids[:PAGE]
                self.show_members()
        elif worker.group == "lists-export":
            self.notify(worker.result)
        elif worker.group == "lists-delete":
            self.notify(worker.result)
            self.current = None
            self.load()

    def show_lists(self) -> None:
        table = self.query_one("#lists-table", DataTable)
        sync_table(table, [(r["name"], (r["name"], r["object_type"], f"{r['count']:,}")) for r in self.lists],
                   ["name", "type", "count"])
        names = [r["name"] for r in self.lists]
        if self.current not in names:
            self.current = names[0] if names else None
            self.starts = []
            if self.current is not None:
                self.load_members(self.current, 0)
        if self.current is not None and cursor_key(table) != self.current:
            table.move_cursor(row=names.index(self.current))
        if self.current is None:
            self.members = []
            self.show_members()
        self.refresh_bindings()

    def show_members(self) -> None:
        sync_table(self.query_one("#members-table", DataTable), [(str(i), (str(i),)) for i in self.members], ["id"])
        info = next((r for r in self.lists if r["name"] == self.current), None)
        if info is None:
            text = "No static lists yet: save one from the review screen, or use an add_to_list step."
        else:
            page = len(self.starts) + 1
            text = (f'"{safe_markup(info["name"])}": {info["count"]:,} {info["object_type"]} members · page {page}'
                    + (" · ] next" if self.more else "") + (" · [ previous" if self.starts else ""))
        self.query_one("#lists-status", Static).update(text)
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "lists-table":
            key = cursor_key(event.data_table)
            if key is not None and key != self.current:
                self.current = key
                self.starts = []
                self.load_members(key, 0)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("export", "delete") and self.current is None:
            return None
        if action == "page":
            forward = parameters == (1,)
            return True if (forward and self.more) or (not forward and self.starts) else None
        return True

    def action_page(self, step: int) -> None:
        if self.current is None:
            return
        if step > 0 and self.more and self.members:
            self.starts.append(self.after)
            self.load_members(self.current, self.members[-1])
        elif step < 0 and self.starts:
            self.load_members(self.current, self.starts.pop())

    def action_export(self) -> None:
        from tui.screens.confirm import AskScreen

        if self.current:
            name = self.current
            default = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") + ".csv"
            self.app.push_screen(AskScreen(f'Write the members of "{name}" as CSV to:', default, title="Export list"),
                                 lambda path: path and self.export(name, path))

    @db_write("lists-export")
    def export(self, name: str, path: str) -> str:
        target = Path(path).expanduser()
        count = write_members_csv(name, target)
        return f'Exported {count:,} records of "{name}" to {target}.'

    def action_delete(self) -> None:
        from tui.screens.confirm import ConfirmScreen

        info = next((r for r in self.lists if r["name"] == self.current), None)
        if info:
            name = info["name"]
            self.app.push_screen(
                ConfirmScreen(f'Delete the list "{name}" ({info["count"]:,} members)? The records stay.',
                              title="Delete list", yes="Delete"),
                lambda yes: yes and self.delete(name))

    @db_write("lists-delete")
    def delete(self, name: str) -> str:
        from models.store.records import delete_list

        count = delete_list(name)
        return f'Deleted the list "{name}" ({count:,} memberships).'

    def action_back(self) -> None:
        self.dismiss()
