"""Streamable HTTP at ``/mcp``: loopback by default, DNS-rebinding and Origin checks, bounded bodies.

Binding a non-loopback address is refused unless a bearer token is configured (``FINOPS_MCP_TOKEN``);
with a token every request must carry ``Authorization: Bearer <token>`` (compared in constant time).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.bind import TOKEN_ENV, check_bind, is_loopback, is_wildcard

__all__ = ["MCP_PATH", "TOKEN_ENV", "build_app", "check_bind", "security_settings", "serve"]

log = logging.getLogger("finops.mcp")

MCP_PATH = "/mcp"
MAX_BODY_BYTES = 1 * 1024 * 1024  # JSON-RPC requests are small; 1 MiB is plenty
LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def security_settings(host: str, port: int, allowed_hosts: list[str] | None = None) -> TransportSecuritySettings:
    """Host/Origin allow-lists: loopback names always; the bind address when it is a real one."""
    hosts = list(LOOPBACK_HOSTS)
    origins = list(LOOPBACK_ORIGINS)
    extra = list(allowed_hosts or [])
    if not is_loopback(host) and not is_wildcard(host):
        extra.append(host)
    for name in extra:
        shown = f"[{name}]" if ":" in name and not name.startswith("[") else name
        hosts += [f"{shown}:{port}", shown]
        origins += [f"http://{shown}:{port}", f"https://{shown}:{port}", f"https://{shown}"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


class BearerAuth:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b"missing or wrong bearer token"})
                return
        await self.app(scope, receive, send)


def build_app(
    server: MCPServer,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Any:
    """The ASGI app serving ``/mcp`` with every check in place."""
    check_bind(host, token)
    app: Any = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=security_settings(host, port, allowed_hosts),
        max_request_body_size=max_body_bytes,
        host=host,
    )
    return BearerAuth(app, token) if token else app


def serve(
    server: MCPServer,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
) -> None:
    """Run until interrupted; uvicorn logs to stderr."""
    import uvicorn

    app = build_app(server, host, port, token, allowed_hosts)
    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run()
