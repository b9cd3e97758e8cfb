"""Adapter for the official ``openai`` SDK (Chat Completions, streamed with usage).

Works with OpenAI and any OpenAI-compatible server given by ``base_url`` (Ollama, vLLM, a LiteLLM
proxy). The SDK is imported only when a call goes to it; its retries are off (``max_retries=0``).
Streams ask for ``stream_options.include_usage`` so the final chunk carries token counts.
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

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _messages(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for m in messages:
        if m.role == "user":
            out.append({"role": "user", "content": m.text})
        elif m.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": m.text or None}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                    }
                    for c in m.tool_calls
                ]
            out.append(entry)
        else:
            out += [
                {
                    "role": "tool",
                    "tool_call_id": r.call_id,
                    "content": ("ERROR: " if r.is_error else "") + r.content,
                }
                for r in m.tool_results
            ]
    return out


def build_params(request: ModelRequest, *, compatible: bool) -> dict[str, Any]:
    """The Chat Completions body. OpenAI itself takes ``max_completion_tokens``; compatible servers
    (Ollama, vLLM) still read ``max_tokens``."""
    params: dict[str, Any] = {
        "model": request.model,
        "messages": _messages(request.system, request.messages),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    params["max_tokens" if compatible else "max_completion_tokens"] = request.max_tokens
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
            }
            for t in request.tools
        ]
    return params


def _parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    try:
        args = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON ({exc.msg} at char {exc.pos})"
    if not isinstance(args, dict):
        return {}, "arguments must be a JSON object"
    return args, None


class _Accumulator:
    def __init__(self, request: ModelRequest, on_text: TextCallback | None) -> None:
        self.request = request
        self.on_text = on_text
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish: str | None = None
        self.usage: TokenUsage | None = None
        self.model = request.model
        self.chunk_id: str | None = None

    def feed(self, chunk: Any) -> None:
        self.model = chunk.model or self.model
        self.chunk_id = chunk.id or self.chunk_id
        if chunk.usage is not None:
            u = chunk.usage
            details = u.prompt_tokens_details
            self.usage = TokenUsage(
                input_tokens=u.prompt_tokens,
                output_tokens=u.completion_tokens,
                cache_read_tokens=(details.cached_tokens or 0) if details else 0,
                cache_write_tokens=(details.cache_write_tokens or 0) if details else 0,
            )
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None and delta.content:
                self.text.append(delta.content)
                if self.on_text is not None:
                    self.on_text(delta.content)
            for tc in (delta.tool_calls or []) if delta is not None else []:
                slot = self.calls.setdefault(tc.index, {"id": "", "name": "", "args": []})
                slot["id"] = tc.id or slot["id"]
                if tc.function is not None:
                    slot["name"] = tc.function.name or slot["name"]
                    slot["args"].append(tc.function.arguments or "")
            self.finish = choice.finish_reason or self.finish

    def response(self, request_id: str | None, *, complete: bool) -> ModelResponse:
        usage = self.usage
        if usage is None or not complete:
            seen = estimate_tokens(
                "".join(self.text) + "".join("".join(c["args"]) for c in self.calls.values())
            )
            usage = TokenUsage(
                input_tokens=usage.input_tokens if usage else request_tokens(self.request),
                output_tokens=max(seen, self.request.max_tokens),
                estimated=True,
            )
        calls = []
        if complete:
            for _, slot in sorted(self.calls.items()):
                args, error = _parse_arguments("".join(slot["args"]))
                calls.append(ToolCall(id=slot["id"], name=slot["name"], arguments=args, parse_error=error))
        return ModelResponse(
            text="".join(self.text),
            tool_calls=calls,
            usage=usage,
            stop_reason=self.finish,
            model=self.model,
            request_id=request_id or self.chunk_id,
            truncated=self.finish == "length",
        )


class OpenAIClient:
    """ModelClient for OpenAI Chat Completions or any OpenAI-compatible ``base_url``."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        provider: str = "openai",
    ) -> None:
        self.api_key = api_key or "not-needed"  # local compatible servers accept any key
        self.base_url = base_url or DEFAULT_BASE_URL
        self.compatible = base_url is not None and "api.openai.com" not in base_url
        self.timeout_s = timeout_s
        self.provider = provider
        self._client: Any = None

    def _sdk(self) -> Any:
        if self._client is None:
            check_allowed(self.provider, self.base_url)
            import openai

            self._client = openai.OpenAI(
                api_key=self.api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
            )
        return self._client

    def complete(self, request: ModelRequest, on_text: TextCallback | None = None) -> ModelResponse:
        import httpx2
        import openai

        client = self._sdk()
        acc = _Accumulator(request, on_text)
        try:
            stream = client.chat.completions.create(**build_params(request, compatible=self.compatible))
        except openai.APIStatusError as exc:
            raise _status_error(exc) from None
        except openai.APITimeoutError:
            raise TransientError(f"{self.provider} did not answer within {self.timeout_s:g} s") from None
        except openai.APIConnectionError:
            raise TransientError(f"{self.provider} unreachable at {self.base_url}") from None
        request_id = stream.response.headers.get("x-request-id")
        try:
            with stream:
                for chunk in stream:
                    acc.feed(chunk)
        except (httpx2.TransportError, openai.APIConnectionError, openai.APIStatusError) as exc:
            reason = type(exc).__name__
            partial = acc.response(request_id, complete=False)
            raise StreamCut(f"{self.provider} stream cut mid-way ({reason})", partial) from exc
        if acc.finish is None:
            raise StreamCut(f"{self.provider} stream ended early", acc.response(request_id, complete=False))
        return acc.response(request_id, complete=True)


def _status_error(exc: Any) -> ProviderError:
    status = int(exc.status_code)
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    detail = inner.get("message") if isinstance(inner, dict) else None
    message = f"openai HTTP {status}: {detail or 'error'}"
    if status in (408, 409, 429) or status >= 500:
        retry_after = parse_retry_after(exc.response.headers)
        return TransientError(message, status=status, retry_after_s=retry_after)
    return ProviderError(message)
