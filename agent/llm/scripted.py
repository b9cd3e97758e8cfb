"""A scripted model for tests and benchmarks (like pydantic-ai's ``FunctionModel``), no network.

Give it a list of steps; each step is a :class:`ModelResponse` or a function
``(request) -> ModelResponse`` that can look at the conversation so far (e.g. to obey text found in a
tool result, or to repair SQL after an error). Every request it receives is kept in ``requests``.
Usage is counted with :func:`agent.llm.base.request_tokens` unless a step sets it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.llm.base import (
    ModelRequest,
    ModelResponse,
    TextCallback,
    TokenUsage,
    ToolCall,
    estimate_tokens,
    request_tokens,
)

Step = ModelResponse | Callable[[ModelRequest], ModelResponse]


def say(text: str) -> ModelResponse:
    """A final text answer."""
    return ModelResponse(text=text, stop_reason="end_turn")


def call(name: str, call_id: str | None = None, **arguments: object) -> ModelResponse:
    """A single tool call."""
    return ModelResponse(
        tool_calls=[ToolCall(id=call_id or f"call_{name}", name=name, arguments=dict(arguments))],
        stop_reason="tool_use",
    )


class ScriptedModel:
    """ModelClient that replays ``steps`` in order (the last step repeats when ``repeat_last``)."""

    def __init__(
        self, steps: Sequence[Step], *, provider: str = "scripted", repeat_last: bool = False
    ) -> None:
        self.provider = provider
        self.steps = list(steps)
        self.repeat_last = repeat_last
        self.requests: list[ModelRequest] = []

    def complete(self, request: ModelRequest, on_text: TextCallback | None = None) -> ModelResponse:
        index = len(self.requests)
        self.requests.append(request)
        if index >= len(self.steps) and not (self.repeat_last and self.steps):
            raise AssertionError(f"scripted model has no step {index + 1} (only {len(self.steps)})")
        step = self.steps[min(index, len(self.steps) - 1)]
        response = step(request) if callable(step) else step.model_copy(deep=True)
        if response.usage == TokenUsage():
            out = estimate_tokens(response.text + "".join(c.model_dump_json() for c in response.tool_calls))
            response.usage = TokenUsage(input_tokens=request_tokens(request), output_tokens=max(out, 1))
        response.model = response.model or request.model
        if on_text is not None and response.text:
            on_text(response.text)
        return response
