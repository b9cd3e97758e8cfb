"""The one small contract every model adapter meets, and the provider-neutral message types.

A :class:`ModelClient` has one method, :meth:`ModelClient.complete`: it takes a
:class:`ModelRequest` (system prompt, conversation, tools, ``max_tokens``) and returns a
:class:`ModelResponse` (text, tool calls, token usage). Adapters that can stream call
``on_text`` with each text delta as it arrives. Adapters raise:

* :class:`TransientError` for what may succeed on retry (429, 5xx, connection, timeout),
  carrying the server's ``Retry-After`` when it sent one;
* :class:`StreamCut` when a stream broke after it started (carries the partial usage so the
  call is still metered);
* :class:`tools.errors.ProviderError` for everything else (bad request, auth, unknown model).

Retries, metering and budgets live outside adapters (:mod:`agent.llm.retry`, :mod:`agent.metering`).

Like pydantic-ai's ``ALLOW_MODEL_REQUESTS``, :data:`ALLOW_REMOTE_MODEL_REQUESTS` (or the environment
variable ``FINOPS_ALLOW_MODEL_REQUESTS=0``) makes every adapter refuse a base URL that is not loopback,
so a test can never spend money by accident.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from tools.errors import ProviderError

ALLOW_REMOTE_MODEL_REQUESTS = True

TextCallback = Callable[[str], None]


class ToolSpec(BaseModel):
    """A tool as offered to a model."""

    name: str
    description: str
    input_schema: dict[str, Any]


class ToolCall(BaseModel):
    """A tool call the model asked for. ``parse_error`` is set when its arguments were not valid JSON."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    parse_error: str | None = None


class ToolResult(BaseModel):
    """The result of one tool call, as sent back to the model."""

    call_id: str
    name: str
    content: str
    is_error: bool = False


class Message(BaseModel):
    """One conversation turn: user text, assistant text + tool calls, or tool results."""

    role: Literal["user", "assistant", "tool"]
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)


class TokenUsage(BaseModel):
    """Token counts of one call. ``input_tokens`` is the whole prompt *including* cache writes and reads."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    estimated: bool = False

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            estimated=self.estimated or other.estimated,
        )


class ModelRequest(BaseModel):
    """Everything one model call needs. ``max_tokens`` is mandatory: every call is bounded."""

    model: str
    system: str
    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    max_tokens: int = Field(gt=0)
    cache_prompt: bool = True  # mark the stable system prompt + tools as cacheable (Anthropic)


class ModelResponse(BaseModel):
    """What the model said. ``truncated`` means it hit ``max_tokens`` (tool calls are then untrusted)."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    stop_reason: str | None = None
    model: str = ""
    request_id: str | None = None
    truncated: bool = False


class TransientError(ProviderError):
    """A failure that may succeed on retry: 429, 5xx, connection or timeout."""

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class StreamCut(TransientError):
    """The response stream broke mid-way; ``partial`` holds what arrived and the (estimated) usage."""

    def __init__(self, message: str, partial: ModelResponse) -> None:
        super().__init__(message)
        self.partial = partial


class ModelClient(Protocol):
    """A model provider. ``provider`` names it in the ledger (anthropic, openai, scripted, ...)."""

    provider: str

    def complete(self, request: ModelRequest, on_text: TextCallback | None = None) -> ModelResponse:
        """Run one model call; stream text deltas to ``on_text`` when given."""
        ...


def remote_requests_allowed() -> bool:
    env = os.environ.get("FINOPS_ALLOW_MODEL_REQUESTS", "").strip().lower()
    return ALLOW_REMOTE_MODEL_REQUESTS and env not in {"0", "false", "no"}


def is_loopback_url(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_allowed(provider: str, base_url: str) -> None:
    """Refuse a non-loopback endpoint while real model requests are switched off (tests)."""
    if not remote_requests_allowed() and not is_loopback_url(base_url):
        raise ProviderError(
            f"real {provider} requests are disabled (FINOPS_ALLOW_MODEL_REQUESTS=0); refusing {base_url}"
        )


def estimate_tokens(text: str) -> int:
    """A conservative token count for budgeting (≈3 bytes per token; real tokenizers give fewer)."""
    return (len(text.encode("utf-8")) + 2) // 3


def request_tokens(request: ModelRequest) -> int:
    """Conservative input-token estimate of a whole request (system, tools, messages)."""
    parts = [request.system]
    parts += [t.model_dump_json() for t in request.tools]
    parts += [m.model_dump_json(exclude_defaults=True) for m in request.messages]
    return sum(estimate_tokens(p) for p in parts) + 8 * (len(request.messages) + len(request.tools))


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (numeric forms), else None."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value is None:
            continue
        try:
            return float(str(value)) * scale
        except ValueError:
            if name == "retry-after":
                return _http_date_delay(str(value))
    return None


def _http_date_delay(value: str) -> float | None:
    """Seconds until an HTTP-date ``Retry-After`` (RFC 9110), or None when it is not one."""
    import email.utils
    import time

    parsed = email.utils.parsedate_tz(value)
    return None if parsed is None else max(float(email.utils.mktime_tz(parsed) - time.time()), 0.0)
