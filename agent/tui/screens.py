"""Secondary screens: keyboard help, generic tool views (anomalies, tag suggestions), policy review."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Static

from agent.render import is_money_column
from agent.tui.backend import Backend, TableData
from agent.tui.widgets import ResultTable
from tools.errors import FinopsError

HELP = """\
[b]finops tui[/b] — ask about spend; every answer shows its table and SQL.

[b]Enter[/b]        ask the question in the box
[b]↑ / ↓[/b]        previous / next question (history)
[b]Ctrl+R[/b]       re-run the SQL in the editor (through the guard)
[b]Tab[/b]          move between question, table and SQL
[b]click header[/b] sort the table by that column (again: reverse)
[b]s[/b]            sort the table by the focused column
[b]F2[/b]           anomalies view        [b]F3[/b] tag suggestions
[b]F4[/b]           policy review queue   (approve / reject with a reason)
[b]? / F1[/b]       this help             [b]Ctrl+Q[/b] quit

With no API key the offline planner answers; LLM calls are metered against the
daily budget shown in the footer."""


class HelpScreen(ModalScreen[None]):
    """Keyboard help."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(HELP, id="help-text")
            yield Label("Esc to close", classes="dim")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


def main_list(output: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The first list of objects in a tool's output: what a view shows as rows."""
    for key, value in output.items():
        if isinstance(value, list) and (not value or isinstance(value[0], dict)):
            return key, value
    return "", []


def scalar_table(items: list[dict[str, Any]], limit_cols: int = 8) -> TableData:
    """Rows of the scalar fields of each item (nested values are shown in the detail pane)."""
    columns: list[str] = []
    for item in items[:50]:
        for k, v in item.items():
            if k not in columns and not isinstance(v, dict | list):
                columns.append(k)
    if len(columns) > limit_cols:  # keep the first (the id), then money, then the rest in order
        money = [c for c in columns[1:] if is_money_column(c)]
        rest = [c for c in columns[1:] if c not in money]
        keep = set([columns[0], *money, *rest][:limit_cols])
        columns = [c for c in columns if c in keep]
    rows = [[item.get(c) for c in columns] for item in items]
    return TableData(columns=columns, rows=rows, row_count=len(rows))


# A row of one tool's list can be opened with another tool: (tool, its argument, the row's field).
FOLLOW_UPS: dict[str, tuple[str, str, str]] = {
    "anomalies": ("explain_anomaly", "anomaly_id", "id"),
    "policies_list": ("policy_show", "id", "id"),
}


def parse_args(text: str) -> dict[str, Any]:
    """``since=2025-11-01 limit=50`` -> a dict of strings (the tool's own model converts types)."""
    args: dict[str, Any] = {}
    for part in text.split():
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {part!r}")
        args[key] = value
    return args


class ToolScreen(Screen[None]):
    """Any list-returning registry tool as a table with a detail pane (anomalies, tag suggestions).

    The arguments line takes ``key=value`` pairs for the tool's input fields; Enter on a row opens its
    follow-up tool (explain an anomaly, show a policy) in the detail pane.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(
        self, backend: Backend, tool: str, args: dict[str, Any] | None = None, title: str = ""
    ) -> None:
        super().__init__()
        self.backend = backend
        self.tool = tool
        self.args = args or {}
        self.view_title = title or tool.replace("_", " ")
        self.items: list[dict[str, Any]] = []
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.view_title, id="view-title")
        fields = " ".join(f"{f}=…" for f in self.backend.tool_fields(self.tool))
        yield Input(
            value=" ".join(f"{k}={v}" for k, v in self.args.items()),
            placeholder=f"arguments: {fields}  (Enter to reload)" if fields else "no arguments",
            id="view-args",
        )
        yield Static("loading…", id="view-status", markup=False)
        yield Static("", id="view-outcome", markup=False)
        yield ResultTable(id="view-table")
        with VerticalScroll(id="view-detail-box"):
            yield Static("", id="view-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#view-table", ResultTable).focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#view-status", Static).update("loading…")
        self.load()

    @work(thread=True, exclusive=True, group="view")
    def load(self) -> None:
        try:
            out = self.backend.call_tool(self.tool, self.args)
        except FinopsError as exc:
            self.app.call_from_thread(self.show_error, exc.message)
            return
        self.app.call_from_thread(self.show_output, out)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "view-args":
            return
        event.stop()
        try:
            self.args = parse_args(event.value)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.action_reload()

    def show_error(self, message: str) -> None:
        self.error = message
        self.query_one("#view-status", Static).update(f"error: {message}")

    def show_output(self, out: dict[str, Any]) -> None:
        key, items = main_list(out)
        self.error = None
        self.items = items
        self.query_one("#view-table", ResultTable).show(scalar_table(items))
        self.query_one("#view-status", Static).update(f"{len(items)} {key or 'items'}")
        if items:
            self.show_detail(0)

    def show_detail(self, index: int) -> None:
        if 0 <= index < len(self.items):
            self.show_text(json.dumps(self.items[index], indent=1, default=str, ensure_ascii=False))

    def show_text(self, text: str) -> None:
        self.query_one("#view-detail", Static).update(text)

    def selected(self) -> dict[str, Any] | None:
        table = self.query_one("#view-table", ResultTable)
        if not self.items:
            return None
        index = table.source_index(table.cursor_row)
        return self.items[index] if 0 <= index < len(self.items) else None

    def on_data_table_row_highlighted(self, event: ResultTable.RowHighlighted) -> None:
        table = self.query_one("#view-table", ResultTable)
        self.show_detail(table.source_index(event.cursor_row))

    def on_data_table_row_selected(self, event: ResultTable.RowSelected) -> None:
        follow = FOLLOW_UPS.get(self.tool)
        item = self.selected()
        if follow is None or item is None or follow[0] not in self.backend.tool_names():
            return
        tool, arg, field = follow
        args = {arg: item.get(field)}
        if "since" in self.args and tool == "explain_anomaly":
            args["since"] = self.args["since"]
        self.show_text(f"running {tool}…")
        self.follow_up(tool, args)

    @work(thread=True, exclusive=True, group="follow-up")
    def follow_up(self, tool: str, args: dict[str, Any]) -> None:
        try:
            out = self.backend.call_tool(tool, args)
        except FinopsError as exc:
            self.app.call_from_thread(self.show_text, f"{tool}: {exc.message}")
            return
        text = out.get("text") if isinstance(out.get("text"), str) else None
        body = text or json.dumps(out, indent=1, default=str, ensure_ascii=False)
        self.app.call_from_thread(self.show_text, body)


class ReasonScreen(ModalScreen[str | None]):
    """Asks for the reason of an approval or rejection."""

    def __init__(self, decision: str, policy: str) -> None:
        super().__init__()
        self.decision = decision
        self.policy = policy

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="reason"):
            yield Label(f"{self.decision} {self.policy}: why? (Enter to confirm, Esc to cancel)")
            yield Input(placeholder="reason (required)", id="reason-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewScreen(ToolScreen):
    """The policy review queue: approve or reject with a reason. Approval applies nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "decide('approve')", "Approve"),
        Binding("r", "decide('reject')", "Reject"),
    ]

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend, "policies_list", {}, title="policy review queue")
        self.outcome: str | None = None

    def action_decide(self, decision: str) -> None:
        item = self.selected()
        if item is None:
            return
        name = str(item.get("id") or item.get("name") or item.get("path"))

        def done(reason: str | None) -> None:
            if reason:
                self.decide(name, decision, reason)

        self.app.push_screen(ReasonScreen(decision, name), done)

    @work(thread=True, exclusive=True, group="review")
    def decide(self, name: str, decision: str, reason: str) -> None:
        try:
            message = self.backend.review(name, decision, reason)
        except FinopsError as exc:
            self.app.call_from_thread(self.show_error, exc.message)
            return
        self.app.call_from_thread(self.show_outcome, message)

    def show_outcome(self, message: str) -> None:
        self.outcome = message
        self.query_one("#view-outcome", Static).update(message)
        self.load()
