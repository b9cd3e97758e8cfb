"""Which addresses the HTTP transport may listen on (stdlib only: checked before mcp is imported)."""

from __future__ import annotations

import ipaddress

from tools.errors import BadInput

TOKEN_ENV = "FINOPS_MCP_TOKEN"  # noqa: S105 - the variable's name, not a secret
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse an exposed listener without a token, and a token too short to be one."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise BadInput(f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN_CHARS} random characters")
    if not is_loopback(host) and not token:
        raise BadInput(
            f"refusing to listen on {host} without a bearer token: set {TOKEN_ENV} to a long random "
            "string (clients send it as 'Authorization: Bearer ...') or use --host 127.0.0.1"
        )
