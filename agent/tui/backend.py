"""What the TUI needs from the core, behind one small seam (no textual here).

:class:`Backend` is the protocol the app talks to; :class:`CoreBackend` implements it on the real
core: ``agent.ask`` for questions (events streamed to a callback, from a worker thread), the guarded
SQL runner for re-runs, the usage ledger for the budget meter and the tool registry for the views.
Everything returns plain view-model values the widgets render.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tools.errors import FinopsError, ToolError

if TYPE_CHECKING:
    from agent.config import Settings
    from tools.context import ToolContext
    from tools.registry import Tool

EventCallback = Callable[[Any], None]


@dataclass
class TableData:
    """A result table: columns, rows, and how many rows there were in all."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    row_count: int = 0
    truncated: bool = False


@dataclass
class AnswerView:
    """One answer as the chat shows it."""

    question: str
    text: str
    sql: str | None = None
    table: TableData | None = None
    provider: str | None = None
    model: str | None = None
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    from_cache: bool = False
    budget_exhausted: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class BudgetView:
    """The footer meter."""

    spent_today_usd: float = 0.0
    daily_limit_usd: float = 0.0
    spent_month_usd: float = 0.0
    monthly_limit_usd: float = 0.0


@dataclass
class EventView:
    """An agent event reduced to what the transcript shows: a kind and a short text."""

    kind: str  # text | tool | status | usage | answer
    text: str


class Backend(Protocol):
    """The core as the TUI sees it. Methods are blocking: the app calls them from worker threads."""

    def describe(self) -> str:
        """Provider/model line for the header."""
        ...

    def ask(self, question: str, on_event: EventCallback) -> AnswerView: ...

    def run_sql(self, sql: str) -> TableData: ...

    def budget(self) -> BudgetView: ...

    def tool_names(self) -> list[str]: ...

    def tool_fields(self, name: str) -> list[str]:
        """The input fields of a tool (for the views' argument line)."""
        ...

    def call_tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]: ...

    def review(self, policy_id: str, decision: str, reason: str) -> str:
        """Approve or reject a queued policy; returns what happened and what to run next."""
        ...


def as_dict(value: Any) -> dict[str, Any]:
    """A pydantic model, dataclass, dict or plain object as a dict."""
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        out = value.model_dump()
        return out if isinstance(out, dict) else {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return value
    return {
        k: getattr(value, k) for k in dir(value) if not k.startswith("_") and not callable(getattr(value, k))
    }


def table_from(value: Any) -> TableData:
    """Any result carrying columns and rows (sql runner, answer, tool output) as a TableData."""
    d = as_dict(value)
    rows = [list(r) for r in (d.get("rows") or [])]
    return TableData(
        columns=[str(c) for c in (d.get("columns") or [])],
        rows=rows,
        row_count=int(d.get("row_count") or len(rows)),
        truncated=bool(d.get("truncated", False)),
    )


def answer_from(question: str, value: Any) -> AnswerView:
    """Map the agent's Answer (or the offline planner's) onto the view."""
    d = as_dict(value)
    usage = as_dict(d.get("usage"))
    table = table_from(d) if d.get("columns") else None
    notes = list(d.get("notes") or d.get("warnings") or [])
    return AnswerView(
        question=str(d.get("question") or question),
        text=str(d.get("answer") or d.get("text") or ""),
        sql=d.get("sql"),
        table=table,
        provider=d.get("provider"),
        model=d.get("model"),
        cost_usd=float(usage.get("cost_usd") or d.get("cost_usd") or 0.0),
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        from_cache=bool(d.get("from_cache") or d.get("cached") or False),
        budget_exhausted=bool(d.get("budget_exhausted", False)),
        notes=[str(n) for n in notes] if isinstance(notes, list) else [str(notes)],
    )


def event_view(event: Any) -> EventView:
    """Reduce an AgentEvent (whatever its class) to a kind and a line of text."""
    d = as_dict(event)
    name = str(d.get("kind") or d.get("type") or type(event).__name__).lower()
    if "delta" in name or name in ("text", "textdelta"):
        return EventView("text", str(d.get("text") or d.get("delta") or ""))
    if "tool" in name:
        tool = d.get("name") or d.get("tool") or "tool"
        detail = d.get("summary") or d.get("error") or ""
        return EventView("tool", f"{tool} {detail}".strip())
    if "usage" in name:
        return EventView("usage", str(d.get("cost_usd") or ""))
    text = d.get("message") or d.get("text") or d.get("answer") or ""
    return EventView("answer" if "answer" in name else "status", str(text))


class CoreBackend:
    """The real core: agent.ask, the guarded SQL runner, the ledger and the tool registry."""

    def __init__(self, settings: Settings, registry: dict[str, Tool] | None = None) -> None:
        self.settings = settings
        self.ctx: ToolContext = settings.tool_context()
        self._registry = registry

    @property
    def registry(self) -> dict[str, Tool]:
        if self._registry is None:
            import tools

            self._registry = tools.load_registry()
        return self._registry

    def describe(self) -> str:
        from agent.llm.select import choose

        try:
            choice = choose(self.settings, self.settings.provider)
        except FinopsError as exc:
            return f"provider problem: {exc.message}"
        if choice.name == "offline":
            no_key = "no " in choice.reason and "KEY" in choice.reason
            return "offline planner (no API key)" if no_key else "offline planner"
        model = self.settings.model or choice.cheap_model or ""
        return f"{choice.name} · {model}"

    def ask(self, question: str, on_event: EventCallback) -> AnswerView:
        from agent.ask import ask

        answer = ask(
            self.settings,
            question,
            provider=self.settings.provider,
            model=self.settings.model,
            on_event=on_event,
            feature="tui",
        )
        return answer_from(question, answer)

    def run_sql(self, sql: str) -> TableData:
        if importlib.util.find_spec("tools.sql.run") is not None:
            from tools.sql.run import run_query

            return table_from(run_query(self.ctx, sql))
        if "sql_query" in self.registry:
            return table_from(self.registry["sql_query"].call(self.ctx, {"sql": sql}))
        raise FinopsError("the guarded SQL runner is not installed in this build")

    def budget(self) -> BudgetView:
        from tools import ledger

        spend = ledger.spend(self.ctx.ledger_path)
        return BudgetView(
            spent_today_usd=float(spend.daily_usd),
            daily_limit_usd=float(self.settings.daily_budget_usd),
            spent_month_usd=float(spend.monthly_usd),
            monthly_limit_usd=float(self.settings.monthly_budget_usd),
        )

    def tool_names(self) -> list[str]:
        return list(self.registry)

    def tool_fields(self, name: str) -> list[str]:
        tool = self.registry.get(name)
        return list(tool.input_model.model_fields) if tool is not None else []

    def call_tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        tool = self.registry.get(name)
        if tool is None:
            raise ToolError(f"no tool named {name} in this build")
        return tool.call(self.ctx, args).model_dump(mode="json")

    def review(self, policy_id: str, decision: str, reason: str) -> str:
        """Approve or reject a queued policy. Approval moves the file; it never applies anything."""
        from tools.policies import queue

        if decision == "approve":
            detail = queue.approve(self.ctx, policy_id, reason=reason)
        elif decision == "reject":
            detail = queue.reject(self.ctx, policy_id, reason)
        else:
            raise ToolError(f"unknown decision {decision!r}: approve or reject")
        done = "approved" if decision == "approve" else "rejected"
        message = f"{done} {detail.summary.id} (moved to {detail.summary.status}/; nothing was applied)"
        dryrun = [c for c in detail.commands if "--dryrun" in c or "validate" in c]
        if decision == "approve" and dryrun:
            message += ". Next, by hand: " + " && ".join(dryrun)
        return message
