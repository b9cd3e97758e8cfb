"""Fixtures for the TUI: a real home (FOCUS rows ingested into DuckDB) and the real core backend."""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from agent.config import Settings
from agent.tui.app import FinopsApp
from agent.tui.backend import CoreBackend
from tests.mcp_server.focus_home import make_home
from tools.context import ToolContext


@pytest.fixture(scope="module")
def tui_ctx(tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    return make_home(tmp_path_factory.mktemp("tui-home"))


def offline_settings(home: Path, **extra: Any) -> Settings:
    return Settings(**{"home": home, "provider": "offline", **extra})


@pytest.fixture
def make_app(tui_ctx: ToolContext) -> Callable[..., FinopsApp]:
    def make(settings: Settings | None = None) -> FinopsApp:
        return FinopsApp(CoreBackend(settings or offline_settings(tui_ctx.home)))

    return make


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``condition`` holds (workers post their results as messages)."""
    import anyio

    with anyio.fail_after(timeout):
        while not condition():
            await pilot.pause(0.02)


async def ask(pilot: Pilot[Any], question: str) -> None:
    app = pilot.app
    assert isinstance(app, FinopsApp)
    answered = len(app.timings)
    failed = app.last_error
    app.query_one("#question").focus()
    await pilot.press(*question, "enter")
    await until(pilot, lambda: len(app.timings) > answered or (app.last_error is not failed and not app.busy))


def steady_cursors(app: FinopsApp) -> None:
    """Blinking cursors make screenshots differ run to run."""
    app.question.cursor_blink = False
    app.sql_editor.cursor_blink = False


def run_before_answer(question: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """For snapshot tests: ask, then wait for the answer and the budget meter."""

    async def run(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app, FinopsApp)
        steady_cursors(pilot.app)
        await ask(pilot, question)
        app = pilot.app
        assert isinstance(app, FinopsApp)
        await until(pilot, lambda: app.budget_view is not None)

    return run


class _Refusing(BaseHTTPRequestHandler):
    """An Anthropic-shaped endpoint that refuses every call with 401 (a provider that is down for us)."""

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def refusing_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
