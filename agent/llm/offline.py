"""The offline planner: deterministic natural language -> structured cost query (no key, no network).

(Being written by the lead; this placeholder declines every question so that callers can integrate.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.context import ToolContext


@dataclass
class OfflineAnswer:
    """What the planner produced. ``confident`` False means it declined (``answer`` says why + examples)."""

    question: str
    confident: bool
    answer: str
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    query: dict[str, Any] | None = None  # the structured cost query, when one was planned
    examples: list[str] = field(default_factory=list)


def plan_answer(ctx: ToolContext, question: str) -> OfflineAnswer:
    """Answer ``question`` from the loaded data, or decline with examples of what can be answered."""
    return OfflineAnswer(question=question, confident=False, answer="The offline planner is not ready yet.")
