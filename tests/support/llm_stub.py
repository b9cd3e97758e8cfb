"""Real HTTP servers on 127.0.0.1 speaking the Anthropic Messages API and OpenAI Chat Completions.

The real ``anthropic`` / ``openai`` SDKs are pointed at them with ``base_url``. Each test scripts the
server with a list of actions, consumed one per request:

* :class:`Turn` — a model turn (text and/or tool calls), streamed as SSE when the request asks for
  a stream (Anthropic ``message_start`` ... ``message_stop`` with ``tool_use`` + ``input_json_delta``;
  OpenAI chunks with ``tool_calls`` deltas and a final ``usage`` chunk), else one JSON body;
* :class:`Status` — an HTTP error (429 with ``retry-after``, 500, 401, ...);
* :class:`Cut` — start streaming a turn, then drop the connection mid-body (chunked encoding left
  incomplete, so httpx2 raises ``RemoteProtocolError``);
* :class:`Hang` — accept the request and never answer (until the server stops), for timeouts.

Input tokens are counted from the request content at ≈4 characters per token (an approximation of
BPE tokenizers), so benchmarks see prompt size change with the prompt. Every request is recorded.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Turn:
    """A scripted model turn. ``calls`` are (name, arguments) with arguments a dict or a raw string."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    stop: str | None = None  # default: tool_use / end_turn (anthropic), tool_calls / stop (openai)
    input_tokens: int | None = None  # default: counted from the request
    output_tokens: int | None = None  # default: counted from the reply
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    input_in_delta: bool = False  # Anthropic: report input counts in message_delta only (some proxies)


@dataclass
class Status:
    code: int
    message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Cut:
    """Stream ``turn`` but drop the connection after ``after_events`` SSE events."""

    turn: Turn
    after_events: int = 3


@dataclass
class Hang:
    pass


Action = Turn | Status | Cut | Hang | Callable[[dict[str, Any]], "Turn | Status | Cut | Hang"]


def count_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                for key in ("text", "content", "input", "name"):
                    if key in block:
                        value = block[key]
                        parts.append(value if isinstance(value, str) else json.dumps(value))
        return " ".join(parts)
    return json.dumps(content) if content is not None else ""


def request_text(body: dict[str, Any]) -> str:
    """The text a tokenizer would see in a request (system, messages, tool definitions)."""
    parts = [_content_text(body.get("system"))]
    for m in body.get("messages", []):
        parts.append(_content_text(m.get("content")))
        for tc in m.get("tool_calls") or []:
            parts.append(tc["function"]["name"] + tc["function"]["arguments"])
    for t in body.get("tools", []):
        fn = t.get("function", t)
        schema = fn.get("input_schema") or fn.get("parameters")
        parts.append(f"{fn['name']} {fn.get('description', '')} {json.dumps(schema)}")
    return "\n".join(p for p in parts if p)


@dataclass
class StubState:
    actions: list[Action] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def next_action(self, body: dict[str, Any]) -> Turn | Status | Cut | Hang:
        if not self.actions:
            return Status(500, "stub has no scripted action left")
        action = self.actions.pop(0)
        return action(body) if callable(action) else action


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _StubServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        state = self.server.state
        state.requests.append(body)
        state.headers.append({k.lower(): v for k, v in self.headers.items()})
        action = state.next_action(body)
        if isinstance(action, Hang):
            state.released.wait(30)
            self.close_connection = True
            return
        if isinstance(action, Status):
            self._status(action)
            return
        turn = action.turn if isinstance(action, Cut) else action
        events = self.server.wire.events(turn, body)
        if body.get("stream"):
            limit = action.after_events if isinstance(action, Cut) else None
            self._stream(events, limit)
        else:
            self._json(200, self.server.wire.message(turn, body))

    def _status(self, action: Status) -> None:
        self._json(action.code, self.server.wire.error(action.code, action.message), action.headers)

    def _json(self, code: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header(self.server.wire.request_id_header, "req_" + uuid.uuid4().hex[:12])
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events: list[str], limit: int | None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header(self.server.wire.request_id_header, "req_" + uuid.uuid4().hex[:12])
        self.end_headers()
        for i, event in enumerate(events):
            if limit is not None and i >= limit:
                self.wfile.flush()
                self.close_connection = True
                return  # no terminating chunk: the client sees an incomplete body
            data = event.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, wire: Any) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.wire = wire
        self.state = StubState()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # a client closing its keep-alive socket
            return
        super().handle_error(request, client_address)


def _sse(event: str | None, data: dict[str, Any] | str) -> str:
    payload = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def _args_text(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def _usage(turn: Turn, body: dict[str, Any]) -> tuple[int, int]:
    inp = turn.input_tokens if turn.input_tokens is not None else count_tokens(request_text(body))
    reply = turn.text + "".join(n + _args_text(a) for n, a in turn.calls)
    out = turn.output_tokens if turn.output_tokens is not None else max(count_tokens(reply), 1)
    return inp, out


class AnthropicWire:
    request_id_header = "request-id"

    def error(self, code: int, message: str) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}.get(code, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def _stop(self, turn: Turn) -> str:
        return turn.stop or ("tool_use" if turn.calls else "end_turn")

    def message(self, turn: Turn, body: dict[str, Any]) -> dict[str, Any]:
        inp, out = _usage(turn, body)
        content: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text else []
        for i, (name, args) in enumerate(turn.calls):
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{i}",
                    "name": name,
                    "input": args if isinstance(args, dict) else {},
                }
            )
        return {
            "id": "msg_" + uuid.uuid4().hex[:10],
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": content,
            "stop_reason": self._stop(turn),
            "stop_sequence": None,
            "usage": self._usage(turn, inp, out),
        }

    def _usage(self, turn: Turn, inp: int, out: int) -> dict[str, Any]:
        cached = turn.cache_write_tokens + turn.cache_read_tokens
        return {
            "input_tokens": max(inp - cached, 0),
            "output_tokens": out,
            "cache_creation_input_tokens": turn.cache_write_tokens,
            "cache_read_input_tokens": turn.cache_read_tokens,
        }

    def events(self, turn: Turn, body: dict[str, Any]) -> list[str]:
        inp, out = _usage(turn, body)
        start = self.message(Turn(), body) | {"content": [], "stop_reason": None}
        start["usage"] = self._usage(turn, 0 if turn.input_in_delta else inp, 1)
        if turn.input_in_delta:
            start["usage"] |= {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        events = [_sse("message_start", {"type": "message_start", "message": start})]
        index = 0
        if turn.text:
            events.append(
                _sse(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            for piece in _pieces(turn.text):
                events.append(
                    _sse(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": 0,
                            "delta": {"type": "text_delta", "text": piece},
                        },
                    )
                )
            events.append(_sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
            index = 1
        for i, (name, args) in enumerate(turn.calls, start=index):
            block = {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}}
            events.append(
                _sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": block})
            )
            for piece in _pieces(_args_text(args)):
                events.append(
                    _sse(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": i,
                            "delta": {"type": "input_json_delta", "partial_json": piece},
                        },
                    )
                )
            events.append(_sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        events.append(
            _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self._stop(turn), "stop_sequence": None},
                    "usage": self._usage(turn, inp, out) if turn.input_in_delta else {"output_tokens": out},
                },
            )
        )
        events.append(_sse("message_stop", {"type": "message_stop"}))
        return events


class OpenAIWire:
    request_id_header = "x-request-id"

    def error(self, code: int, message: str) -> dict[str, Any]:
        return {
            "error": {
                "message": message,
                "type": "rate_limit_exceeded" if code == 429 else "server_error",
                "code": None,
                "param": None,
            }
        }

    def _finish(self, turn: Turn) -> str:
        return turn.stop or ("tool_calls" if turn.calls else "stop")

    def _usage(self, turn: Turn, body: dict[str, Any]) -> dict[str, Any]:
        inp, out = _usage(turn, body)
        return {
            "prompt_tokens": inp,
            "completion_tokens": out,
            "total_tokens": inp + out,
            "prompt_tokens_details": {"cached_tokens": turn.cache_read_tokens},
        }

    def message(self, turn: Turn, body: dict[str, Any]) -> dict[str, Any]:
        calls = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": _args_text(a)}}
            for i, (n, a) in enumerate(turn.calls)
        ]
        msg: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if calls:
            msg["tool_calls"] = calls
        return {
            "id": "chatcmpl-" + uuid.uuid4().hex[:10],
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model"),
            "choices": [{"index": 0, "message": msg, "finish_reason": self._finish(turn)}],
            "usage": self._usage(turn, body),
        }

    def events(self, turn: Turn, body: dict[str, Any]) -> list[str]:
        base = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:10],
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body.get("model"),
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            return _sse(None, base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": piece}) for piece in _pieces(turn.text)] if turn.text else []
        for i, (name, args) in enumerate(turn.calls):
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": i,
                                "id": f"call_{i}",
                                "type": "function",
                                "function": {"name": name, "arguments": ""},
                            }
                        ]
                    }
                )
            )
            events += [
                chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
                for piece in _pieces(_args_text(args))
            ]
        events.append(chunk({}, self._finish(turn)))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(_sse(None, base | {"choices": [], "usage": self._usage(turn, body)}))
        events.append(_sse(None, "[DONE]"))
        return events


def _pieces(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@contextmanager
def serve(wire: AnthropicWire | OpenAIWire) -> Iterator[tuple[str, StubState]]:
    """Run a stub server in a thread; yields (base_url, state)."""
    server = _StubServer(wire)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    suffix = "/v1" if isinstance(wire, OpenAIWire) else ""
    try:
        yield f"http://{host!s}:{port}{suffix}", server.state
    finally:
        server.state.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
