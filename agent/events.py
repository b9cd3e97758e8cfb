"""Typed values the agent emits while it works; the CLI and the TUI render them.

``AgentEvent`` is a tagged union (field ``type``): text deltas while the model streams, each tool
call and its result, the usage of each model call, the final :class:`Answer`, and errors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class Usage(BaseModel):
    """Tokens and cost of a whole answer (all model calls)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class Answer(BaseModel):
    """What ``finops ask`` returns (``--json`` prints it)."""

    question: str
    answer: str
    sql: str | None = None
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    provider: str = "offline"
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cached: bool = False
    from_offline: bool = False
    tool_calls: int = 0
    warnings: list[str] = Field(default_factory=list)
    budget_exhausted: bool = False
    declined: bool = False


class TextDelta(BaseModel):
    type: Literal["text"] = "text"
    text: str


class ToolCallEvent(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: dict[str, Any]


class ToolResultEvent(BaseModel):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    ok: bool
    summary: str  # one line for people (the model sees the full, bounded result)


class UsageEvent(BaseModel):
    type: Literal["usage"] = "usage"
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    estimated: bool = False
    outcome: str = "ok"


class AnswerEvent(BaseModel):
    type: Literal["answer"] = "answer"
    answer: Answer


class ErrorEvent(BaseModel):
    type: Literal["error"] = "error"
    message: str


AgentEvent = Annotated[
    TextDelta | ToolCallEvent | ToolResultEvent | UsageEvent | AnswerEvent | ErrorEvent,
    Field(discriminator="type"),
]
