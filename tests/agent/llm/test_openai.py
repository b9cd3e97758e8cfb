"""The OpenAI adapter, with the real SDK against a local Chat Completions server."""

from __future__ import annotations

import time

import pytest

from agent.llm.base import Message, ModelRequest, StreamCut, ToolCall, ToolResult, ToolSpec, TransientError
from agent.llm.openai import OpenAIClient
from agent.llm.retry import RetryPolicy, with_retries
from tests.support.llm_stub import Cut, Hang, Status, StubState, Turn
from tools.errors import ProviderError

KEY = "sk-openai-test-secret-456"
TOOL = ToolSpec(name="echo", description="Echo x.", input_schema={"type": "object", "properties": {"x": {}}})


def request(**kw: object) -> ModelRequest:
    base: dict[str, object] = {
        "model": "gpt-4.1-mini",
        "system": "You are terse.",
        "messages": [Message(role="user", text="hi")],
        "tools": [TOOL],
        "max_tokens": 256,
    }
    base.update(kw)
    return ModelRequest.model_validate(base)


def test_a_streamed_tool_call_round_trip_with_usage_from_the_final_chunk(
    openai_stub: tuple[str, StubState],
) -> None:
    url, state = openai_stub
    state.actions = [
        Turn(
            calls=[("echo", {"x": 1}), ("echo", {"x": 2})],
            input_tokens=1200,
            output_tokens=40,
            cache_read_tokens=1000,
        ),
        Turn(text="x is 1 and 2"),
    ]
    c = OpenAIClient(KEY, url, 5)
    first = c.complete(request())
    assert first.tool_calls == [
        ToolCall(id="call_0", name="echo", arguments={"x": 1}),
        ToolCall(id="call_1", name="echo", arguments={"x": 2}),
    ]
    assert (first.usage.input_tokens, first.usage.output_tokens, first.usage.cache_read_tokens) == (
        1200,
        40,
        1000,
    )
    results = [ToolResult(call_id=tc.id, name="echo", content="ok") for tc in first.tool_calls]
    follow = request(
        messages=[
            Message(role="user", text="hi"),
            Message(role="assistant", tool_calls=first.tool_calls),
            Message(role="tool", tool_results=results),
        ]
    )
    assert c.complete(follow).text == "x is 1 and 2"
    sent = state.requests[1]["messages"]
    assert sent[0] == {"role": "system", "content": "You are terse."}
    assert sent[2]["tool_calls"][0]["function"] == {"name": "echo", "arguments": '{"x": 1}'}
    assert [m["role"] for m in sent[3:]] == ["tool", "tool"] and sent[3]["tool_call_id"] == "call_0"


def test_openai_gets_max_completion_tokens_and_a_compatible_server_gets_max_tokens(
    openai_stub: tuple[str, StubState],
) -> None:
    url, state = openai_stub
    state.actions = [Turn(text="ok"), Turn(text="ok")]
    OpenAIClient(KEY, url, 5).complete(request(max_tokens=111))
    assert state.requests[0]["max_tokens"] == 111 and "max_completion_tokens" not in state.requests[0]
    assert state.requests[0]["stream_options"] == {"include_usage": True}
    from agent.llm.openai import build_params

    assert build_params(request(max_tokens=99), compatible=False)["max_completion_tokens"] == 99


def test_malformed_tool_arguments_become_a_parse_error(openai_stub: tuple[str, StubState]) -> None:
    url, state = openai_stub
    state.actions = [Turn(calls=[("echo", "{'x': 1}")])]
    call = OpenAIClient(KEY, url, 5).complete(request()).tool_calls[0]
    assert call.arguments == {} and "not valid JSON" in (call.parse_error or "")


def test_a_cut_stream_keeps_an_estimated_usage(openai_stub: tuple[str, StubState]) -> None:
    url, state = openai_stub
    state.actions = [Cut(Turn(text="partial answer " * 10), after_events=3)]
    with pytest.raises(StreamCut) as caught:
        OpenAIClient(KEY, url, 5).complete(request(max_tokens=200))
    usage = caught.value.partial.usage
    assert usage.estimated and usage.output_tokens == 200 and usage.input_tokens > 0


def test_length_finish_marks_the_reply_truncated(openai_stub: tuple[str, StubState]) -> None:
    url, state = openai_stub
    state.actions = [Turn(calls=[("echo", '{"x": ')], stop="length")]
    response = OpenAIClient(KEY, url, 5).complete(request())
    assert response.truncated


def test_a_huge_retry_after_fails_fast(openai_stub: tuple[str, StubState]) -> None:
    url, state = openai_stub
    state.actions = [Status(429, "rate limited", {"retry-after": "7200"})]
    slept: list[float] = []
    with pytest.raises(ProviderError) as caught:
        with_retries(lambda _: OpenAIClient(KEY, url, 5).complete(request()), RetryPolicy(sleep=slept.append))
    assert slept == [] and "retry after ~2.0 h" in caught.value.message and len(state.requests) == 1


def test_a_hanging_server_times_out(openai_stub: tuple[str, StubState]) -> None:
    url, state = openai_stub
    state.actions = [Hang()]
    started = time.monotonic()
    with pytest.raises(TransientError):
        OpenAIClient(KEY, url, 0.5).complete(request())
    assert time.monotonic() - started < 3


def test_500s_exhaust_the_retries_with_one_clear_line(openai_stub: tuple[str, StubState]) -> None:
    url, state = openai_stub
    state.actions = [Status(500)] * 3
    with pytest.raises(ProviderError) as caught:
        with_retries(
            lambda _: OpenAIClient(KEY, url, 5).complete(request()),
            RetryPolicy(max_retries=2, sleep=lambda _s: None),
        )
    assert "gave up after 2 retries" in caught.value.message and len(state.requests) == 3
