"""A real loopback HTTP listener that answers like Slack (incoming webhooks and chat.postMessage).

Responses are scripted per request (200 ``ok``, 429 with Retry-After, 5xx, 4xx errors, or a hang
that makes the client time out); once the script is used up every request gets 200. Every request
(path, headers, JSON body) is recorded.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer. ``hang`` keeps the connection open without answering."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass
class SlackState:
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """Bodies of the requests that were answered 200."""
        return [r["json"] for r in self.requests if r["status"] == 200]


def _handler(state: SlackState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                reply = state.script.pop(0) if state.script else Reply()
                try:
                    body: Any = json.loads(raw or b"{}")
                except ValueError:
                    body = {"form": raw.decode("utf-8", "replace")}
                state.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": body,
                     "status": None if reply.hang else reply.status}
                )  # fmt: skip
            if reply.hang:
                state.release.wait(timeout=10)
                return
            api = self.path.startswith("/api/")
            if api:
                doc = {"ok": True, "channel": "C1", "ts": "1.0"} if reply.status == 200 else {
                    "ok": False, "error": reply.body}  # fmt: skip
                if reply.status == 200 and reply.body not in ("ok", ""):
                    doc = {"ok": False, "error": reply.body}
                data = json.dumps(doc).encode()
                ctype = "application/json; charset=utf-8"
            else:
                data, ctype = reply.body.encode(), "text/html"
            self.send_response(reply.status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def slack_server(state: SlackState, port: int = 0) -> Iterator[str]:
    """Run the listener on 127.0.0.1 (an ephemeral port unless given); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def refused_url() -> str:
    """A loopback URL on a port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
