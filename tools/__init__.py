"""The headless core: deterministic capabilities with no LLM SDK, no mcp and no textual.

``REGISTRY`` is the one list of tools both front ends (agent loop, MCP server) register. It is built
on first access so that importing :mod:`tools` stays cheap (``finops --help`` must not load duckdb).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.registry import Tool

# Modules that define tools with @tool. Append a line when a new capability lands.
TOOL_MODULES: tuple[str, ...] = (
    "tools.costs",
    "tools.usecases",
    "tools.usage",
    "tools.sql.tool",
    "tools.forecast",
    "tools.anomalies.tool",
    "tools.explain",
    "tools.policies.tools",
    "tools.tagging.tools",
)


def load_registry() -> dict[str, Tool]:
    """Import every tool module and return the registered tools by name (ordered)."""
    from tools.registry import registered

    for module in TOOL_MODULES:
        importlib.import_module(module)
    return registered()


def __getattr__(name: str) -> Any:
    if name == "REGISTRY":
        return load_registry()
    raise AttributeError(name)
