"""The conversation loop: offer tools, run the calls the model asks for, feed results back.

Guards live here, in code, not in the prompt (assume the model can be talked into anything):

* the tool set is fixed when the loop starts (read-only tools for ``ask``); a call to any other
  name gets an error result, whatever a tool result said;
* the budget is the :class:`~agent.metering.Meter`'s; nothing a tool returns can change it;
* at most ``max_turns`` model calls and ``max_tool_calls`` tool calls, counted at dispatch;
* an identical repeated call (same tool, same arguments) is refused, a second repeat stops the loop;
* fixable errors (:class:`~tools.errors.ToolError`, malformed JSON arguments) go back to the model
  as error results, for at most ``max_repairs`` failing turns in a row;
* every tool result is bounded to ``tool_output_chars`` and wrapped in a data envelope with a
  per-call random nonce, so text from the data (resource names, tag values, CloudTrail fields,
  commit messages) is marked as data and cannot close the envelope.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from agent.events import AgentEvent, ErrorEvent, TextDelta, ToolCallEvent, ToolResultEvent, UsageEvent
from agent.llm.base import Message, ModelClient, ModelRequest, ToolCall, ToolResult, ToolSpec, TransientError
from agent.metering import CallRecord, Meter
from tools.context import ToolContext
from tools.errors import FinopsError
from tools.registry import Tool

EventSink = Callable[[AgentEvent], None]


@dataclass(frozen=True)
class LoopLimits:
    max_turns: int = 8
    max_tool_calls: int = 12
    max_repairs: int = 3
    tool_output_chars: int = 6_000
    max_tokens: int = 1_024


@dataclass
class LoopResult:
    """How the conversation ended. ``data`` is the last successful tabular tool result."""

    text: str
    tool_calls: int = 0
    data: dict[str, Any] | None = None
    stopped: str | None = None
    warnings: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


_ENVELOPE = re.compile(r"</?\s*data\b", re.IGNORECASE)


def wrap_data(text: str, nonce: str) -> str:
    """Delimit untrusted tool output. Any ``<data``/``</data`` inside is defused, so it cannot forge
    the closing tag even if it guesses the nonce."""
    safe = _ENVELOPE.sub(lambda m: m.group(0).replace("<", "&lt;"), text)
    return f'<data nonce="{nonce}">\n{safe}\n</data nonce="{nonce}">'


def compact_schema(schema: Any, *, root: bool = True) -> Any:
    """A JSON schema with what costs tokens but tells the model nothing removed: pydantic ``title``
    keys, ``default: null``, ``anyOf [X, null]`` wrappers (the field is optional anyway) and the
    root description (the tool description already says it)."""
    if isinstance(schema, list):
        return [compact_schema(v, root=False) for v in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        inner = next(o for o in options if o != {"type": "null"})
        merged = {**{k: v for k, v in schema.items() if k != "anyOf"}, **inner}
        return compact_schema(merged, root=root)
    out = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if (key == "default" and value is None) or (root and key == "description"):
            continue
        out[key] = compact_schema(value, root=False)
    return out


def tool_specs(tools: Mapping[str, Tool]) -> list[ToolSpec]:
    return [
        ToolSpec(name=t.name, description=t.description, input_schema=compact_schema(t.input_schema()))
        for t in tools.values()
    ]


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[truncated: {len(text) - limit} more characters; aggregate or filter to see less]"


def _plain(value: Any) -> Any:
    """Money as JSON numbers (Decimal would serialise as a string)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _short(value: Any) -> Any:
    """Numbers as the model needs them: 4 decimals (or 6 significant digits below 1), no 12-digit tails."""
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        number = float(value)
        return round(number, 4) if abs(number) >= 1 else float(f"{number:.6g}")
    if isinstance(value, list | tuple):
        return [_short(v) for v in value]
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    return value


def model_json(output: BaseModel) -> str:
    """A tool result as compact JSON for the model (no nulls, no spaces, short numbers)."""
    doc = _short(output.model_dump(exclude_none=True))
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)


def _tabular(output: BaseModel) -> dict[str, Any] | None:
    doc = output.model_dump()
    if isinstance(doc.get("columns"), list) and isinstance(doc.get("rows"), list):
        return {"sql": doc.get("sql"), "columns": list(doc["columns"]), "rows": [_plain(r) for r in doc["rows"]]}
    return None


@dataclass
class _State:
    tool_calls: int = 0
    failing_turns: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    stopped: str | None = None


class Loop:
    """One question's conversation with a model over a fixed set of tools."""

    def __init__(
        self,
        *,
        client: ModelClient,
        meter: Meter,
        model: str,
        system: str,
        tools: Mapping[str, Tool],
        ctx: ToolContext,
        limits: LoopLimits | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        self.client, self.meter, self.model, self.system = client, meter, model, system
        self.tools = dict(tools)  # fixed here: nothing later can add one
        self.specs = tool_specs(self.tools)
        self.ctx = ctx
        self.limits = limits or LoopLimits()
        self.emit: EventSink = on_event or (lambda _e: None)

    def _usage_listener(self, record: CallRecord) -> None:
        self.emit(
            UsageEvent(
                provider=record.provider,
                model=record.model,
                input_tokens=record.usage.input_tokens,
                output_tokens=record.usage.output_tokens,
                cost_usd=float(record.cost_usd),
                estimated=record.usage.estimated,
                outcome=record.outcome,
            )
        )

    def run(self, question: str) -> LoopResult:
        """Run until the model answers in text or a limit stops it. BudgetExhausted propagates."""
        previous = self.meter.on_call, self.meter.on_retry
        self.meter.on_call, self.meter.on_retry = self._usage_listener, self._retry_listener
        try:
            return self._run(question)
        finally:
            self.meter.on_call, self.meter.on_retry = previous

    def _retry_listener(self, attempt: int, error: TransientError, wait_s: float) -> None:
        """Tell front ends a retry is coming (text streamed by a cut attempt will be sent again)."""
        self.emit(ErrorEvent(message=f"{error.message}; retry {attempt} in {wait_s:.1f} s"))

    def _run(self, question: str) -> LoopResult:
        messages = [Message(role="user", text=question)]
        state = _State()
        text = ""
        for _turn in range(self.limits.max_turns):
            request = ModelRequest(
                model=self.model,
                system=self.system,
                messages=messages,
                tools=self.specs,
                max_tokens=self.limits.max_tokens,
            )
            response = self.meter.call(self.client, request, on_text=lambda t: self.emit(TextDelta(text=t)))
            text = response.text or text
            if response.truncated:
                state.stopped = f"the model's reply was cut at max_tokens ({self.limits.max_tokens})"
                messages.append(Message(role="assistant", text=response.text))
                break
            if not response.tool_calls:
                messages.append(Message(role="assistant", text=response.text))
                return self._result(response.text, state, messages)
            messages.append(Message(role="assistant", text=response.text, tool_calls=response.tool_calls))
            results = self._dispatch(response.tool_calls, state)
            messages.append(Message(role="tool", tool_results=results))
            if state.stopped:
                break
        else:
            state.stopped = f"stopped after {self.limits.max_turns} model turns"
        return self._result(text, state, messages)

    def _result(self, text: str, state: _State, messages: list[Message]) -> LoopResult:
        warnings = [state.stopped] if state.stopped else []
        return LoopResult(text, state.tool_calls, state.data, state.stopped, warnings, messages)

    def _dispatch(self, calls: list[ToolCall], state: _State) -> list[ToolResult]:
        results: list[ToolResult] = []
        failed = False
        for call in calls:
            if state.stopped:
                results.append(self._error(call, "not run: the conversation was stopped"))
                continue
            state.tool_calls += 1
            if state.tool_calls > self.limits.max_tool_calls:
                state.stopped = f"stopped after {self.limits.max_tool_calls} tool calls"
                results.append(self._error(call, state.stopped))
                continue
            result = self._run_one(call, state)
            failed = failed or result.is_error
            results.append(result)
        state.failing_turns = state.failing_turns + 1 if failed else 0
        if state.failing_turns > self.limits.max_repairs and not state.stopped:
            state.stopped = f"stopped after {self.limits.max_repairs} failed repair attempts"
        return results

    def _run_one(self, call: ToolCall, state: _State) -> ToolResult:
        self.emit(ToolCallEvent(call_id=call.id, name=call.name, arguments=call.arguments))
        if call.parse_error:
            return self._error(call, f"{call.parse_error}; send the arguments again as one JSON object")
        tool = self.tools.get(call.name)
        if tool is None:
            return self._error(call, f"tool {call.name!r} is not available here; use one of {sorted(self.tools)}")
        key = f"{call.name}:{json.dumps(call.arguments, sort_keys=True, default=str)}"
        state.seen[key] = state.seen.get(key, 0) + 1
        if state.seen[key] > 1:
            if state.seen[key] > 2:
                state.stopped = f"stopped: {call.name} was called again with the same arguments"
            return self._error(call, "identical call already made; use its earlier result or change the arguments")
        try:
            output = tool.call(self.ctx, call.arguments)
        except FinopsError as exc:  # ToolError and friends: the model can fix the arguments
            return self._error(call, exc.message, from_data=True)
        except Exception as exc:  # a bug in a tool must not kill the conversation
            return self._error(call, f"{call.name} failed unexpectedly ({type(exc).__name__})")
        state.data = _tabular(output) or state.data
        content = _bounded(model_json(output), self.limits.tool_output_chars)
        self.emit(ToolResultEvent(call_id=call.id, name=call.name, ok=True, summary=_summary(output)))
        return ToolResult(call_id=call.id, name=call.name, content=wrap_data(content, secrets.token_hex(6)))

    def _error(self, call: ToolCall, message: str, *, from_data: bool = False) -> ToolResult:
        """An error result. A tool's own message may quote data (a tag value it did not find): enveloped."""
        self.emit(ToolResultEvent(call_id=call.id, name=call.name, ok=False, summary=message))
        text = wrap_data(message, secrets.token_hex(6)) if from_data else message
        return ToolResult(call_id=call.id, name=call.name, content=f"ERROR: {text}", is_error=True)


def _summary(output: BaseModel) -> str:
    doc = output.model_dump(mode="json")
    if isinstance(doc.get("rows"), list):
        return f"{len(doc['rows'])} rows" + (" (truncated)" if doc.get("truncated") else "")
    return ", ".join(sorted(doc))[:120] or "ok"
