"""The small exception hierarchy of the headless core.

Every error a user or a model can act on is a :class:`FinopsError` with a one-line message and
the process exit code the CLI uses (ARCHITECTURE.md section 2): 2 bad input, 3 budget exhausted.
A :class:`ToolError` is returned to a model as a tool result it can fix, never raised past a front end.
"""

from __future__ import annotations


class FinopsError(Exception):
    """An expected failure with a one-line, actionable message."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(FinopsError):
    """Bad input: usage error, malformed file, rejected SQL (exit 2)."""

    exit_code = 2


class ToolError(BadInput):
    """A tool call the model (or user) can fix by changing its arguments."""


class SqlRejected(ToolError):
    """SQL refused by the guard before it ran."""


class QueryLimit(ToolError):
    """A query stopped by an engine limit (timeout, memory)."""


class DataMissing(BadInput):
    """The data a command needs is not loaded."""


class BudgetExhausted(FinopsError):
    """The agent's own LLM budget would be crossed (exit 3)."""

    exit_code = 3


class ProviderError(FinopsError):
    """An LLM provider failed after retries (timeouts, 5xx, connection)."""

    exit_code = 1
