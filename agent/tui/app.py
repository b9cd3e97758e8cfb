"""`finops tui`: a chat-first screen over the core.

A question goes to a worker thread (the UI never blocks); the agent's events stream into the
transcript; the answer's table fills a sortable DataTable (money right-aligned and formatted); its
SQL lands in an editable, highlighted editor and Ctrl+R re-runs it through the guard. The footer
meter shows the day's spend against the budget, the last answer's cost and "from cache". Errors
(rejected SQL, budget exhausted, provider down, no data) are shown inline, never as a crash.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, Static, TextArea

from agent.render import money
from agent.tui.backend import AnswerView, Backend, BudgetView, TableData, event_view
from agent.tui.messages import AgentEventPosted, AnswerReady, BudgetRead, Failed, SqlRan
from agent.tui.screens import HelpScreen, ReviewScreen, ToolScreen
from agent.tui.widgets import BudgetMeter, ResultTable
from tools.errors import BudgetExhausted, DataMissing, FinopsError, ProviderError, SqlRejected, ToolError

MAX_HISTORY = 200
MAX_TRANSCRIPT = 30  # lines (questions, answers, notes) kept on screen


def failure_kind(exc: FinopsError) -> str:
    if isinstance(exc, BudgetExhausted):
        return "budget"
    if isinstance(exc, SqlRejected | ToolError):
        return "sql"
    if isinstance(exc, ProviderError):
        return "provider"
    if isinstance(exc, DataMissing):
        return "data"
    return "error"


PREFIX = {
    "budget": "Budget exhausted",
    "sql": "SQL rejected",
    "provider": "Provider unavailable",
    "data": "No data",
    "error": "Error",
}


class FinopsApp(App[None]):
    """The finops terminal app."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "finops"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "rerun_sql", "Re-run SQL"),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f2", "view('anomalies')", "Anomalies"),
        Binding("f3", "view('tag_suggestions')", "Tags"),
        Binding("f4", "review", "Policies"),
        Binding("s", "sort", "Sort", show=False),
        Binding("escape", "focus_question", "Question", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    transcript: VerticalScroll
    live: Static
    error_box: Static
    result_table: ResultTable
    sql_editor: TextArea
    question: Input
    meter: BudgetMeter

    def __init__(self, backend: Backend, *, initial_question: str | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.initial_question = initial_question
        self.history: list[str] = []
        self.history_pos = 0
        self.last_answer: AnswerView | None = None
        self.budget_view: BudgetView | None = None
        self.table_data = TableData()
        self.last_error: tuple[str, str] | None = None  # (kind, message)
        self.streamed = ""
        self.busy = False
        self.timings: list[float] = []  # seconds the core took per answer (worker thread)
        self.shown_after: list[float] = []  # seconds from Enter to the answer on screen
        self._submitted_at = 0.0
        self._make_widgets()

    # --- layout -------------------------------------------------------------------------------
    def _make_widgets(self) -> None:
        """Kept as attributes: results may arrive while another screen (help, a view) is on top."""
        self.transcript = VerticalScroll(id="transcript")
        self.live = Static("", id="live", classes="answer")
        self.error_box = Static("", id="error", classes="error")
        self.result_table = ResultTable(id="result")
        self.sql_editor = TextArea.code_editor(
            "", language=_sql_language(), id="sql", soft_wrap=True, show_line_numbers=False, compact=True
        )
        self.question = Input(placeholder="Ask about spend…  (Enter to ask, ↑ for history)", id="question")
        self.meter = BudgetMeter("", id="meter")

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Vertical(id="main"):
            with self.transcript:
                yield Static(
                    "Ask about spend, e.g. [i]top 5 services by cost last month[/i] — [b]?[/b] or F1 for help.",
                    id="welcome",
                    classes="note",
                )
            yield self.live
            yield self.error_box
            yield self.result_table
            yield Label("SQL (edit, then Ctrl+R to re-run through the guard)", classes="dim")
            yield self.sql_editor
            with Horizontal(id="askbar"):
                yield self.question
        yield self.meter
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.backend.describe()
        self.error_box.display = False
        self.live.display = False
        self.question.focus()
        self.refresh_budget()
        if self.initial_question:
            self.submit_question(self.initial_question)

    # --- asking -------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "question":
            return
        self.submit_question(event.value)

    def submit_question(self, text: str) -> None:
        question = text.strip()
        if not question or self.busy:
            return
        self.history.append(question)
        del self.history[:-MAX_HISTORY]
        self.history_pos = len(self.history)
        self._submitted_at = time.perf_counter()
        self.question.value = ""
        self.busy = True
        self.streamed = ""
        self.clear_error()
        self.add_note(f"[b]you[/b] {_escape(question)}", "question")
        live = self.live
        live.display = True
        live.update("[dim]thinking…[/dim]")
        self.ask_in_worker(question)

    @work(thread=True, exclusive=True, group="ask")
    def ask_in_worker(self, question: str) -> None:
        started = time.perf_counter()

        def on_event(event: Any) -> None:
            self.post_message(AgentEventPosted(event_view(event)))

        try:
            answer = self.backend.ask(question, on_event)
        except FinopsError as exc:
            self.post_message(Failed(question, failure_kind(exc), exc.message))
            return
        except Exception as exc:  # a bug must not take the terminal down with it
            self.post_message(Failed(question, "error", f"unexpected {type(exc).__name__}: {exc}"))
            return
        self.post_message(AnswerReady(answer, time.perf_counter() - started))

    def on_agent_event_posted(self, message: AgentEventPosted) -> None:
        event = message.event
        live = self.live
        if event.kind == "text":
            self.streamed += event.text
            live.update(_escape(self.streamed))
        elif event.kind in ("tool", "status") and event.text:
            live.update(_escape(self.streamed) + f"\n[dim]… {_escape(event.text)}[/dim]")

    def on_answer_ready(self, message: AnswerReady) -> None:
        answer = message.answer
        self.busy = False
        self.last_answer = answer
        self.timings.append(message.seconds)
        self.live.display = False
        meta = " · ".join(x for x in (answer.provider, answer.model) if x)
        cost = money(answer.cost_usd, places=4 if 0 < answer.cost_usd < 0.01 else 2)
        tail = f"[dim]{meta} · {cost}{' · from cache' if answer.from_cache else ''}[/dim]"
        self.add_note(f"{_escape(answer.text)}\n{tail}", "answer")
        for note in answer.notes:
            self.add_note(f"[yellow]{_escape(note)}[/yellow]", "note")
        if answer.budget_exhausted:
            said = [n for n in answer.notes if "budget" in n.lower() and "exhausted" in n.lower()]
            reason = said[0] if said else "the LLM budget is spent"
            self.show_error("budget", f"{reason}; answered by the offline planner instead")
        if answer.table is not None:
            self.show_table(answer.table)
        if answer.sql:
            self.set_sql(answer.sql)
        submitted = self._submitted_at
        self.call_after_refresh(lambda: self.shown_after.append(time.perf_counter() - submitted))
        self.meter.update_meter(self.budget_view, answer)  # now; the ledger re-read follows
        self.refresh_budget()

    def on_failed(self, message: Failed) -> None:
        self.busy = False
        self.live.display = False
        self.show_error(message.kind, message.message)
        self.refresh_budget()

    # --- SQL ----------------------------------------------------------------------------------
    def set_sql(self, sql: str) -> None:
        """Show SQL in the editor. An edit, not ``load_text``: that recompiles the highlight query (~0.3 s)."""
        editor = self.sql_editor
        editor.replace(sql, (0, 0), editor.document.end)
        editor.history.clear()
        editor.move_cursor((0, 0))

    def action_rerun_sql(self) -> None:
        sql = self.sql_editor.text.strip()
        if not sql:
            self.show_error("sql", "no SQL to run: ask a question first or type a SELECT")
            return
        self.clear_error()
        self.run_sql_in_worker(sql)

    @work(thread=True, exclusive=True, group="sql")
    def run_sql_in_worker(self, sql: str) -> None:
        started = time.perf_counter()
        try:
            table = self.backend.run_sql(sql)
        except FinopsError as exc:
            self.post_message(Failed(sql, failure_kind(exc), exc.message))
            return
        except Exception as exc:
            self.post_message(Failed(sql, "error", f"unexpected {type(exc).__name__}: {exc}"))
            return
        self.post_message(SqlRan(sql, table, time.perf_counter() - started))

    def on_sql_ran(self, message: SqlRan) -> None:
        self.show_table(message.table)
        self.add_note(f"[dim]re-ran SQL: {message.table.row_count:,} rows[/dim]", "note")

    # --- shared pieces ------------------------------------------------------------------------
    def show_table(self, table: TableData) -> None:
        self.table_data = table
        self.result_table.show(table)
        if table.truncated:
            self.add_note(f"[dim]showing {len(table.rows):,} of {table.row_count:,} rows[/dim]", "note")

    def show_error(self, kind: str, message: str) -> None:
        self.last_error = (kind, message)
        box = self.error_box
        box.update(f"[b]{PREFIX.get(kind, 'Error')}:[/b] {_escape(message)}")
        box.display = True

    def clear_error(self) -> None:
        self.last_error = None
        self.error_box.display = False

    def add_note(self, markup: str, kind: str) -> None:
        transcript = self.transcript
        old = list(transcript.children)[: max(0, len(transcript.children) + 1 - MAX_TRANSCRIPT)]
        if old:  # a long transcript makes every refresh slower; the history keeps the questions
            transcript.remove_children(old)
        transcript.mount(Static(markup, classes=kind))
        transcript.scroll_end(animate=False)

    @work(thread=True, exclusive=True, group="budget")
    def refresh_budget(self) -> None:
        try:
            budget = self.backend.budget()
        except Exception:  # the meter is informational; a busy ledger must not break the app
            return
        self.post_message(BudgetRead(budget))

    def on_budget_read(self, message: BudgetRead) -> None:
        self.budget_view = message.budget
        self.meter.update_meter(message.budget, self.last_answer)

    # --- keys ---------------------------------------------------------------------------------
    def on_key(self, event: Any) -> None:
        question = self.question
        if self.focused is not question or event.key not in ("up", "down") or not self.history:
            return
        step = -1 if event.key == "up" else 1
        self.history_pos = max(0, min(len(self.history), self.history_pos + step))
        question.value = self.history[self.history_pos] if self.history_pos < len(self.history) else ""
        question.cursor_position = len(question.value)
        event.stop()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_focus_question(self) -> None:
        self.question.focus()

    def action_sort(self) -> None:
        table = self.result_table
        if self.focused is table:
            table.sort_by(table.cursor_column)

    def action_view(self, tool: str) -> None:
        if tool not in self.backend.tool_names():
            self.show_error(
                "error", f"the {tool.replace('_', ' ')} view needs the {tool} tool (not in this build)"
            )
            return
        self.push_screen(ToolScreen(self.backend, tool))

    def action_review(self) -> None:
        if "policies_list" not in self.backend.tool_names():
            self.show_error(
                "error", "the policy review queue needs the policies_list tool (not in this build)"
            )
            return
        self.push_screen(ReviewScreen(self.backend))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _sql_language() -> str | None:
    """SQL highlighting when the tree-sitter SQL grammar is installed, plain text otherwise."""
    try:
        from textual._tree_sitter import get_language

        return "sql" if get_language("sql") is not None else None
    except Exception:
        return None
