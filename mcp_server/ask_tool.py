"""The one MCP tool that calls the agent: ``ask`` (metered against the agent's own budget).

This is the only module of :mod:`mcp_server` that imports :mod:`agent`, and only when the tool runs.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any, Literal

from pydantic import BaseModel, Field

from mcp_server.adapter import CallGate, RegistryMcpTool, make_tool
from tools.errors import ToolError

DESCRIPTION = (
    "Answer a question about cloud and AI spend in words, with the table and the SQL behind it. "
    "Uses the finops agent (offline planner when no LLM key is set; LLM calls are metered against the "
    "agent's daily budget). Prefer cost_query or sql_query when you can write the query yourself."
)


class AskInput(BaseModel):
    """A question about spend."""

    question: str = Field(min_length=3, max_length=2_000, description="The question, in plain language.")
    provider: Literal["auto", "offline", "anthropic", "openai"] | None = Field(
        default=None, description="Force a provider; default: configured (auto)."
    )


class AskUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class AskOutput(BaseModel):
    """The agent's answer."""

    question: str
    answer: str
    sql: str | None = None
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    provider: str | None = None
    model: str | None = None
    from_cache: bool = False
    usage: AskUsage = Field(default_factory=AskUsage)
    warnings: list[str] = Field(default_factory=list)


def available() -> bool:
    """True when the agent's ask entry point exists in this install."""
    try:
        return importlib.util.find_spec("agent.ask") is not None
    except (ImportError, ValueError):
        return False


def _as_dict(answer: Any) -> dict[str, Any]:
    if isinstance(answer, BaseModel):
        return answer.model_dump(mode="json")
    if dataclasses.is_dataclass(answer) and not isinstance(answer, type):
        return dataclasses.asdict(answer)
    if isinstance(answer, dict):
        return answer
    return {k: getattr(answer, k) for k in dir(answer) if not k.startswith("_")}


def to_output(question: str, answer: Any) -> AskOutput:
    """Map the agent's Answer (whatever its exact type) onto the published output model."""
    d = _as_dict(answer)
    usage = d.get("usage") or {}
    if not isinstance(usage, dict):
        usage = _as_dict(usage)
    rows = [list(r) for r in (d.get("rows") or [])]
    return AskOutput(
        question=str(d.get("question") or question),
        answer=str(d.get("answer") or d.get("text") or ""),
        sql=d.get("sql"),
        columns=[str(c) for c in (d.get("columns") or [])],
        rows=rows,
        row_count=int(d.get("row_count") or len(rows)),
        truncated=bool(d.get("truncated", False)),
        provider=d.get("provider"),
        model=d.get("model"),
        from_cache=bool(d.get("from_cache") or d.get("cached") or False),
        warnings=[str(w) for w in (d.get("warnings") or [])],
        usage=AskUsage(
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            cost_usd=float(usage.get("cost_usd") or 0.0),
        ),
    )


def make_ask_tool(settings: Any, gate: CallGate) -> RegistryMcpTool:
    """The ``ask`` tool bound to the server's Settings."""

    def body(raw: dict[str, Any]) -> AskOutput:
        from pydantic import ValidationError

        from agent.ask import ask

        try:
            args = AskInput.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
            raise ToolError(f"bad arguments for ask: {problems}") from None
        answer = ask(settings, args.question, provider=args.provider or settings.provider, feature="mcp")
        return to_output(args.question, answer)

    from mcp_types import ToolAnnotations

    annotations = ToolAnnotations(
        title="Ask about spend",
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=False,
        open_world_hint=True,
    )
    return make_tool("ask", "Ask about spend", DESCRIPTION, AskInput, AskOutput, body, gate, annotations)
