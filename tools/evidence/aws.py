"""A boto3 session that can only read: every non-read-only operation is refused before it is sent.

The agent never changes cloud resources (ARCHITECTURE.md section 4). The guarantee lives in code: a
botocore ``before-call`` hook checks each operation name against an allow-list (``Describe*``,
``List*``, ``Get*``, ``Head*``, ``LookupEvents``) minus a deny-list of reads that mint credentials or
reveal secrets, and raises :class:`ReadOnlyViolation` before any HTTP request is made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tools.errors import FinopsError

READ_ONLY_PREFIXES: tuple[str, ...] = ("Describe", "List", "Get", "Head")
READ_ONLY_NAMES: frozenset[str] = frozenset({"LookupEvents"})
# Reads that return secrets or mint credentials: refused although their names look read-only.
DENIED_READS: frozenset[str] = frozenset(
    {
        "GetSecretValue",
        "BatchGetSecretValue",
        "GetPasswordData",
        "GetSessionToken",
        "GetFederationToken",
        "GetAuthorizationToken",
        "GetCredentialsForIdentity",
        "GetOpenIdToken",
        "GetOpenIdTokenForDeveloperIdentity",
        "GetRoleCredentials",
        "GetClusterCredentials",
        "GetClusterCredentialsWithIAM",
        "GetParameter",
        "GetParameters",
        "GetParametersByPath",
    }
)


class ReadOnlyViolation(FinopsError):
    """An AWS operation that is not on the read-only allow-list was attempted (a bug: exit 1)."""


def is_read_only(operation: str) -> bool:
    """True if ``operation`` (an API name like ``DescribeInstances``) may be called."""
    if operation in DENIED_READS:
        return False
    return operation in READ_ONLY_NAMES or operation.startswith(READ_ONLY_PREFIXES)


def _refuse_writes(model: Any = None, **_: Any) -> None:
    name = str(getattr(model, "name", ""))
    if not is_read_only(name):
        service = getattr(getattr(model, "service_model", None), "service_name", "aws")
        raise ReadOnlyViolation(
            f"refused {service}:{name}: finops-agent only calls read-only AWS APIs "
            "(Describe*/List*/Get*/LookupEvents); propose a Custodian policy instead"
        )


_LOADER: Any = None


def _shared_loader(core: Any) -> Any:
    """One botocore model loader per process: service models are parsed once, not per session."""
    global _LOADER
    if _LOADER is None:
        _LOADER = core.get_component("data_loader")
    return _LOADER


class ReadOnlySession:
    """Wraps a ``boto3.session.Session`` whose clients refuse every non-read-only call.

    ``endpoint_url`` points every client at one endpoint (tests use a 127.0.0.1 server).
    ``max_attempts`` bounds botocore's own retries (standard mode).
    """

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 3,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> None:
        import boto3.session
        import botocore.session

        core = botocore.session.Session(profile=profile)
        core.register_component("data_loader", _shared_loader(core))
        self._session = boto3.session.Session(botocore_session=core, region_name=region)
        self._session.events.register("before-call", _refuse_writes)
        self.endpoint_url = endpoint_url
        self.default_region = region or self._session.region_name or "us-east-1"
        self._max_attempts = max_attempts
        self._timeouts = (connect_timeout, read_timeout)

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for ``service`` in ``region`` (default: the session's region)."""
        from botocore.config import Config

        config = Config(
            retries={"max_attempts": self._max_attempts, "mode": "standard"},
            connect_timeout=self._timeouts[0],
            read_timeout=self._timeouts[1],
            user_agent_extra="finops-agent-readonly",
        )
        return self._session.client(
            service,  # type: ignore[call-overload]
            region_name=region or self.default_region,
            endpoint_url=self.endpoint_url,
            config=config,
        )


class TokenBucket:
    """Client-side rate limiter (CloudTrail LookupEvents allows 2 requests/second per region).

    ``clock`` and ``sleep`` are injected so tests run without real waiting.
    """

    def __init__(
        self,
        rate: float = 2.0,
        capacity: float = 2.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._last = clock()
        self.waited = 0.0

    def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        self._refill()
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) / self.rate
            self.waited += wait
            self._sleep(wait)
            self._refill()
            self._tokens = max(self._tokens, 1.0)
        self._tokens -= 1.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
