"""One MCP tool per registry tool, with no per-tool code.

The MCP input schema is the tool's pydantic input model, the output schema its output model, every
tool is annotated read-only, the result is bounded in size, and every failure becomes an
``is_error`` result the client can show: a :class:`~tools.errors.FinopsError` with its own one-line
message, anything else as "internal error" (details only in the server log on stderr).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from mcp.server.mcpserver.tools import Tool as McpTool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from mcp_server.bounded import MAX_RESULT_CHARS, bound
from tools.context import ToolContext
from tools.errors import FinopsError

if TYPE_CHECKING:
    from mcp.server.mcpserver.context import Context

    from tools.registry import Tool

log = logging.getLogger("finops.mcp")

# Tool calls running at once: each DuckDB query already uses 2 threads (2 cores); more callers queue.
MAX_CONCURRENT_CALLS = 2
MAX_WAITING_CALLS = 32  # beyond this a call is refused with "busy" instead of queueing forever


class CallGate:
    """Bounds concurrent tool calls; refuses rather than queueing without limit."""

    def __init__(
        self,
        running: int = MAX_CONCURRENT_CALLS,
        waiting: int = MAX_WAITING_CALLS,
        before_call: Callable[[], None] | None = None,
    ) -> None:
        self.limiter = anyio.CapacityLimiter(running)
        self.before_call = before_call  # runs in the worker thread first (e.g. wait for the demo load)
        self.max_pending = running + waiting
        self._pending = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self._pending >= self.max_pending:
                return False
            self._pending += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._pending -= 1


def error_result(message: str) -> CallToolResult:
    """A tool error the client shows and the model can act on."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def ok_result(data: Any, max_chars: int = MAX_RESULT_CHARS) -> CallToolResult:
    """Structured content plus the same JSON as text (for clients that read only text)."""
    bounded = bound(data, max_chars)
    text = json.dumps(bounded.data, ensure_ascii=False, default=str)
    meta: dict[str, Any] | None = None
    if bounded.truncated:
        text = bounded.summary() + "\n" + text
        meta = {"finops/truncated": [c.__dict__ for c in bounded.cuts]}
        if isinstance(bounded.data, dict) and isinstance(bounded.data.get("truncated"), bool):
            bounded.data["truncated"] = True
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=bounded.data if isinstance(bounded.data, dict) else {"result": bounded.data},
        _meta=meta,
    )


def run_guarded(
    name: str, call: Callable[[], BaseModel | dict[str, Any]], before: Callable[[], None] | None = None
) -> CallToolResult:
    """Run a tool body (in a worker thread) and turn every outcome into a result."""
    started = time.perf_counter()
    try:
        if before is not None:
            before()
        out = call()
    except FinopsError as exc:
        log.info("tool %s refused: %s", name, exc.message)
        return error_result(exc.message)
    except Exception as exc:  # a bug or an engine failure: never crash the server, never leak internals
        log.exception("tool %s failed unexpectedly", name)
        return error_result(f"internal error in {name} ({type(exc).__name__}); the server log has details")
    data = out.model_dump(mode="json") if isinstance(out, BaseModel) else out
    result = ok_result(data)
    log.info("tool %s answered in %.0f ms", name, (time.perf_counter() - started) * 1000)
    return result


class _AnyArgs(ArgModelBase):
    """Arguments pass through untouched; the registry tool validates them with its own model."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)


class RegistryMcpTool(McpTool):
    """An MCP tool backed by a registry :class:`tools.registry.Tool` (or any sync body)."""

    body: Callable[[dict[str, Any]], BaseModel | dict[str, Any]] = Field(exclude=True)
    gate: Any = Field(exclude=True)

    async def run(
        self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> CallToolResult:
        gate: CallGate = self.gate
        if not gate.enter():
            return error_result("server busy: too many tool calls in flight; retry in a moment")
        try:
            call = functools.partial(self.body, dict(arguments or {}))
            return await anyio.to_thread.run_sync(
                functools.partial(run_guarded, self.name, call, gate.before_call), limiter=gate.limiter
            )
        finally:
            gate.leave()


def read_only_annotations(title: str) -> ToolAnnotations:
    return ToolAnnotations(
        title=title, read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )


def make_tool(
    name: str,
    title: str,
    description: str,
    input_model: type[BaseModel],
    output_model: type[BaseModel],
    body: Callable[[dict[str, Any]], BaseModel | dict[str, Any]],
    gate: CallGate,
    annotations: ToolAnnotations | None = None,
) -> RegistryMcpTool:
    """Build an MCP tool from typed models and a sync body taking the raw argument dict."""
    return RegistryMcpTool(
        fn=body,
        name=name,
        title=title,
        description=description,
        parameters=input_model.model_json_schema(),
        fn_metadata=FuncMetadata(arg_model=_AnyArgs, output_model=output_model),
        is_async=False,
        context_kwarg=None,
        annotations=annotations or read_only_annotations(title),
        body=body,
        gate=gate,
    )


ContextSource = ToolContext | Callable[[], ToolContext]


def context_of(source: ContextSource) -> ToolContext:
    """A fixed context, or one computed when a call runs (after a background demo load, say)."""
    return source if isinstance(source, ToolContext) else source()


def from_registry(tool: Tool, ctx: ContextSource, gate: CallGate) -> RegistryMcpTool:
    """The MCP face of one registry tool."""

    def body(raw: dict[str, Any]) -> BaseModel:
        return tool.call(context_of(ctx), raw)

    annotations = read_only_annotations(tool.title)
    if not tool.read_only:
        annotations = ToolAnnotations(title=tool.title, read_only_hint=False, open_world_hint=False)
    return make_tool(
        tool.name, tool.title, tool.description, tool.input_model, tool.output_model, body, gate, annotations
    )
