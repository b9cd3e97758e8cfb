"""The Anthropic adapter, with the real SDK against a local Messages API server."""

from __future__ import annotations

import time

import pytest

from agent.llm.anthropic import AnthropicClient
from agent.llm.base import Message, ModelRequest, StreamCut, ToolCall, ToolResult, ToolSpec, TransientError
from agent.llm.retry import RetryPolicy, with_retries
from tests.support.llm_stub import Cut, Hang, Status, StubState, Turn
from tools.errors import ProviderError

KEY = "fake-anthropic-key-secret-123"
TOOL = ToolSpec(name="echo", description="Echo x.", input_schema={"type": "object", "properties": {"x": {}}})


def request(**kw: object) -> ModelRequest:
    base: dict[str, object] = {
        "model": "claude-haiku-4-5",
        "system": "You are terse.",
        "messages": [Message(role="user", text="hi")],
        "tools": [TOOL],
        "max_tokens": 256,
    }
    base.update(kw)
    return ModelRequest.model_validate(base)


def client(url: str, timeout: float = 5.0) -> AnthropicClient:
    return AnthropicClient(KEY, url, timeout)


def test_a_streamed_tool_call_round_trip_parses_calls_and_sends_results_back(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [Turn(text="Let me look.", calls=[("echo", {"x": 1})]), Turn(text="x is 1")]
    c = client(url)
    first = c.complete(request())
    assert first.tool_calls == [ToolCall(id="toolu_1", name="echo", arguments={"x": 1})]
    assert first.text == "Let me look." and first.stop_reason == "tool_use"
    follow = request(
        messages=[
            Message(role="user", text="hi"),
            Message(role="assistant", text=first.text, tool_calls=first.tool_calls),
            Message(role="tool", tool_results=[ToolResult(call_id="toolu_1", name="echo", content='{"x": 1}')]),
        ]
    )
    second = c.complete(follow)
    assert second.text == "x is 1" and second.tool_calls == []
    sent = state.requests[1]["messages"]
    assert sent[1]["content"][1] == {"type": "tool_use", "id": "toolu_1", "name": "echo", "input": {"x": 1}}
    assert sent[2]["content"][0]["type"] == "tool_result" and sent[2]["content"][0]["tool_use_id"] == "toolu_1"


def test_every_request_carries_max_tokens_stream_and_cacheable_system_and_tools(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [Turn(text="ok")]
    client(url).complete(request(max_tokens=321))
    body = state.requests[0]
    assert body["max_tokens"] == 321 and body["stream"] is True
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert KEY in (state.headers[0].get("x-api-key", "") + state.headers[0].get("authorization", ""))


def test_text_deltas_stream_to_the_callback_in_order(anthropic_stub: tuple[str, StubState]) -> None:
    url, state = anthropic_stub
    text = "The total for October was $1,234.56 across 3 services."
    state.actions = [Turn(text=text)]
    pieces: list[str] = []
    response = client(url).complete(request(), on_text=pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == text == response.text


def test_usage_counts_cache_writes_and_reads_inside_the_input_total(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [
        Turn(text="ok", input_tokens=4700, output_tokens=80, cache_write_tokens=500, cache_read_tokens=3000)
    ]
    usage = client(url).complete(request()).usage
    assert (usage.input_tokens, usage.output_tokens) == (4700, 80)
    assert (usage.cache_write_tokens, usage.cache_read_tokens) == (500, 3000)
    assert not usage.estimated


def test_malformed_tool_arguments_become_a_parse_error_not_a_crash(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [Turn(calls=[("echo", '{"x": 1,,')])]
    call = client(url).complete(request()).tool_calls[0]
    assert call.arguments == {} and call.parse_error is not None and "not valid JSON" in call.parse_error


def test_a_stream_cut_mid_way_raises_streamcut_with_the_input_usage_and_a_conservative_output(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [Cut(Turn(text="a long answer " * 20, input_tokens=900), after_events=4)]
    with pytest.raises(StreamCut) as caught:
        client(url).complete(request(max_tokens=300))
    partial = caught.value.partial
    assert "RemoteProtocolError" in caught.value.message
    assert partial.usage.input_tokens == 900
    assert partial.usage.output_tokens == 300 and partial.usage.estimated
    assert partial.text.startswith("a long answer")


def test_a_huge_retry_after_is_not_waited_out_and_the_sdk_does_not_retry_on_its_own(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [Status(429, "slow down", {"retry-after": "3600"})] * 5
    slept: list[float] = []
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        with_retries(lambda _: client(url).complete(request()), RetryPolicy(retry_after_cap_s=30, sleep=slept.append))
    assert time.monotonic() - started < 5
    assert "retry after ~1.0 h" in caught.value.message and "HTTP 429" in caught.value.message
    assert slept == [] and len(state.requests) == 1


def test_server_errors_are_retried_with_backoff_then_succeed(anthropic_stub: tuple[str, StubState]) -> None:
    url, state = anthropic_stub
    state.actions = [Status(500), Status(529), Turn(text="fine")]
    slept: list[float] = []
    c = client(url)
    response = with_retries(lambda _: c.complete(request()), RetryPolicy(max_retries=3, sleep=slept.append))
    assert response.text == "fine" and len(state.requests) == 3
    assert len(slept) == 2 and 0 < slept[0] <= 0.5 and slept[0] < slept[1] <= 1.0


def test_a_short_retry_after_is_obeyed(anthropic_stub: tuple[str, StubState]) -> None:
    url, state = anthropic_stub
    state.actions = [Status(429, headers={"retry-after": "2"}), Turn(text="ok")]
    slept: list[float] = []
    with_retries(lambda _: client(url).complete(request()), RetryPolicy(sleep=slept.append))
    assert slept == [2.0]


def test_a_server_that_never_answers_times_out_within_the_configured_timeout(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [Hang()]
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        client(url, timeout=0.5).complete(request())
    assert time.monotonic() - started < 3
    assert "did not answer within 0.5 s" in caught.value.message


def test_a_bad_key_is_not_retried_and_the_message_does_not_leak_it(
    anthropic_stub: tuple[str, StubState],
) -> None:
    url, state = anthropic_stub
    state.actions = [Status(401, "invalid x-api-key")] * 3
    with pytest.raises(ProviderError) as caught:
        with_retries(lambda _: client(url).complete(request()), RetryPolicy(sleep=lambda _s: None))
    assert not isinstance(caught.value, TransientError)
    assert len(state.requests) == 1 and KEY not in str(caught.value) and "401" in str(caught.value)


def test_an_unreachable_server_is_a_transient_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError) as caught:
        client(f"http://127.0.0.1:{port}", timeout=2).complete(request())
    assert "unreachable" in caught.value.message


def test_remote_endpoints_are_refused_while_model_requests_are_switched_off() -> None:
    with pytest.raises(ProviderError) as caught:
        AnthropicClient(KEY, None, 1).complete(request())
    assert "disabled" in caught.value.message and "api.anthropic.com" in caught.value.message


def test_retry_after_as_an_http_date_is_understood() -> None:
    import email.utils

    from agent.llm.base import parse_retry_after

    later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    assert 7000 < (parse_retry_after({"retry-after": later}) or 0) <= 7200
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "soon"}) is None


def test_input_counts_reported_only_in_message_delta_are_used(anthropic_stub: tuple[str, StubState]) -> None:
    url, state = anthropic_stub
    state.actions = [Turn(text="ok", input_tokens=2000, output_tokens=9, cache_read_tokens=1500, input_in_delta=True)]
    usage = client(url).complete(request()).usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (2000, 1500, 9)
