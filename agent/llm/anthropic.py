"""Adapter for the official ``anthropic`` SDK (Messages API, streamed).

The SDK is imported only when a call goes to Anthropic (it takes seconds to import). Its own retries
are off (``max_retries=0``): :mod:`agent.llm.retry` owns the policy. Every request streams, so a cut
stream still tells us the input tokens (from ``message_start``); a cut raises httpx2's
``RemoteProtocolError`` rather than an SDK error, and both become :class:`StreamCut`.
"""

from __future__ import annotations

import json
from typing import Any

from agent.llm.base import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamCut,
    TextCallback,
    TokenUsage,
    ToolCall,
    TransientError,
    check_allowed,
    estimate_tokens,
    parse_retry_after,
    request_tokens,
)
from tools.errors import ProviderError

DEFAULT_BASE_URL = "https://api.anthropic.com"
_CACHE = {"type": "ephemeral"}


def _content(message: Message) -> list[dict[str, Any]] | str:
    if message.role == "user":
        return message.text
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error}
            for r in message.tool_results
        ]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
    blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in message.tool_calls]
    return blocks


def build_params(request: ModelRequest) -> dict[str, Any]:
    """The Messages API body for ``request`` (system prompt and tools marked cacheable)."""
    system: dict[str, Any] = {"type": "text", "text": request.system}
    tools = [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in request.tools]
    if request.cache_prompt:
        system["cache_control"] = _CACHE
        if tools:
            tools[-1]["cache_control"] = _CACHE
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": [system],
        "messages": [
            {"role": "user" if m.role == "tool" else m.role, "content": _content(m)} for m in request.messages
        ],
    }
    if tools:
        params["tools"] = tools
    return params


class _Accumulator:
    """Builds a ModelResponse from raw stream events."""

    def __init__(self, request: ModelRequest, on_text: TextCallback | None) -> None:
        self.request = request
        self.on_text = on_text
        self.text: list[str] = []
        self.blocks: dict[int, dict[str, Any]] = {}
        self.usage: TokenUsage | None = None
        self.output_tokens: int | None = None
        self.stop_reason: str | None = None
        self.model = request.model
        self.message_id: str | None = None

    def feed(self, event: Any) -> None:
        kind = event.type
        if kind == "message_start":
            u = event.message.usage
            cw, cr = u.cache_creation_input_tokens or 0, u.cache_read_input_tokens or 0
            self.usage = TokenUsage(input_tokens=u.input_tokens + cw + cr, cache_write_tokens=cw, cache_read_tokens=cr)
            self.output_tokens = u.output_tokens
            self.model = event.message.model or self.model
            self.message_id = event.message.id
        elif kind == "content_block_start":
            block = event.content_block
            self.blocks[event.index] = {
                "type": block.type,
                "id": getattr(block, "id", ""),
                "name": getattr(block, "name", ""),
                "json": [],
            }
        elif kind == "content_block_delta":
            self._delta(event.index, event.delta)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self.output_tokens = event.usage.output_tokens
            self._cumulative_input(event.usage)

    def _cumulative_input(self, u: Any) -> None:
        """``message_delta`` may carry cumulative input counts (some proxies report them only there)."""
        if not u.input_tokens:
            return
        prev = self.usage or TokenUsage()
        cw = u.cache_creation_input_tokens if u.cache_creation_input_tokens is not None else prev.cache_write_tokens
        cr = u.cache_read_input_tokens if u.cache_read_input_tokens is not None else prev.cache_read_tokens
        self.usage = TokenUsage(input_tokens=u.input_tokens + cw + cr, cache_write_tokens=cw, cache_read_tokens=cr)

    def _delta(self, index: int, delta: Any) -> None:
        if delta.type == "text_delta":
            self.text.append(delta.text)
            if self.on_text is not None:
                self.on_text(delta.text)
        elif delta.type == "input_json_delta" and index in self.blocks:
            self.blocks[index]["json"].append(delta.partial_json)

    def tool_calls(self) -> list[ToolCall]:
        calls = []
        for _, block in sorted(self.blocks.items()):
            if block["type"] != "tool_use":
                continue
            raw = "".join(block["json"]) or "{}"
            try:
                args = json.loads(raw)
                error = None if isinstance(args, dict) else "arguments must be a JSON object"
            except json.JSONDecodeError as exc:
                args, error = {}, f"arguments are not valid JSON ({exc.msg} at char {exc.pos})"
            calls.append(
                ToolCall(id=block["id"], name=block["name"], arguments=args if not error else {}, parse_error=error)
            )
        return calls

    def response(self, request_id: str | None, *, complete: bool) -> ModelResponse:
        usage = self.usage or TokenUsage(input_tokens=request_tokens(self.request), estimated=True)
        if complete and self.output_tokens is not None:
            usage = usage.model_copy(update={"output_tokens": self.output_tokens})
        else:  # cut: the server may have generated up to max_tokens; record the conservative bound
            seen = estimate_tokens("".join(self.text) + "".join("".join(b["json"]) for b in self.blocks.values()))
            bound = max(seen, self.output_tokens or 0, self.request.max_tokens)
            usage = usage.model_copy(update={"output_tokens": bound, "estimated": True})
        return ModelResponse(
            text="".join(self.text),
            tool_calls=self.tool_calls() if complete else [],
            usage=usage,
            stop_reason=self.stop_reason,
            model=self.model,
            request_id=request_id or self.message_id,
            truncated=self.stop_reason == "max_tokens",
        )


class AnthropicClient:
    """ModelClient for Anthropic's Messages API (or a compatible server at ``base_url``)."""

    provider = "anthropic"

    def __init__(self, api_key: str, base_url: str | None = None, timeout_s: float = 60.0) -> None:
        self.api_key = api_key
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout_s = timeout_s
        self._client: Any = None

    def _sdk(self) -> Any:
        if self._client is None:
            check_allowed(self.provider, self.base_url)
            import anthropic

            self._client = anthropic.Anthropic(
                api_key=self.api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
            )
        return self._client

    def complete(self, request: ModelRequest, on_text: TextCallback | None = None) -> ModelResponse:
        import anthropic
        import httpx2

        client = self._sdk()
        acc = _Accumulator(request, on_text)
        try:
            stream = client.messages.create(**build_params(request), stream=True)
        except anthropic.APIStatusError as exc:
            raise _status_error(exc) from None
        except anthropic.APITimeoutError:
            raise TransientError(f"anthropic did not answer within {self.timeout_s:g} s") from None
        except anthropic.APIConnectionError:
            raise TransientError(f"anthropic unreachable at {self.base_url}") from None
        request_id = stream.response.headers.get("request-id")
        try:
            with stream:
                for event in stream:
                    acc.feed(event)
        except (httpx2.TransportError, anthropic.APIConnectionError, anthropic.APIStatusError) as exc:
            reason = type(exc).__name__
            partial = acc.response(request_id, complete=False)
            raise StreamCut(f"anthropic stream cut mid-way ({reason})", partial) from exc
        if acc.stop_reason is None:
            raise StreamCut("anthropic stream ended without message_stop", acc.response(request_id, complete=False))
        return acc.response(request_id, complete=True)


def _status_error(exc: Any) -> ProviderError:
    status = int(exc.status_code)
    detail = exc.api_message or exc.type or "error"
    message = f"anthropic HTTP {status}: {detail}"
    if status in (408, 409, 429) or status >= 500:
        return TransientError(message, status=status, retry_after_s=parse_retry_after(exc.response.headers))
    return ProviderError(message)
