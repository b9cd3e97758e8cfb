"""Typed messages workers post to the app (thread-safe); tests assert on them."""

from __future__ import annotations

from textual.message import Message

from agent.tui.backend import AnswerView, BudgetView, EventView, TableData


class AgentEventPosted(Message):
    """An event from the agent while it works (text delta, tool call, status)."""

    def __init__(self, event: EventView) -> None:
        super().__init__()
        self.event = event


class AnswerReady(Message):
    """The agent answered."""

    def __init__(self, answer: AnswerView, seconds: float) -> None:
        super().__init__()
        self.answer = answer
        self.seconds = seconds


class SqlRan(Message):
    """Edited SQL ran through the guard."""

    def __init__(self, sql: str, table: TableData, seconds: float) -> None:
        super().__init__()
        self.sql = sql
        self.table = table
        self.seconds = seconds


class Failed(Message):
    """A question or a query failed; ``kind`` says how (budget, sql, provider, data, error)."""

    def __init__(self, what: str, kind: str, message: str) -> None:
        super().__init__()
        self.what = what
        self.kind = kind
        self.message = message


class BudgetRead(Message):
    """The ledger was read for the footer meter."""

    def __init__(self, budget: BudgetView) -> None:
        super().__init__()
        self.budget = budget
