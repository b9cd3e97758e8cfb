"""Our own retry policy (the SDKs' retries are switched off with ``max_retries=0``).

Only :class:`~agent.llm.base.TransientError` (429, 5xx, connection, timeout, cut stream) is retried,
with capped exponential backoff and jitter. A server ``Retry-After`` up to ``retry_after_cap_s`` is
obeyed; a longer one is *not* waited out: we fail fast with a message saying when to retry (the
anthropic SDK's default would sleep up to ~49 days).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from agent.llm.base import TransientError
from tools.errors import ProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry transient provider failures."""

    max_retries: int = 3
    initial_delay_s: float = 0.5
    max_delay_s: float = 8.0
    retry_after_cap_s: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, error: TransientError) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based); raises when Retry-After is too long."""
        if error.retry_after_s is not None and error.retry_after_s > 0:
            if error.retry_after_s > self.retry_after_cap_s:
                raise ProviderError(
                    f"provider rate-limited{_status(error)}: it asks to retry after"
                    f" {_human(error.retry_after_s)}"
                    f" (more than the {self.retry_after_cap_s:g} s cap); try again later"
                )
            return error.retry_after_s
        backoff = min(self.initial_delay_s * 2.0 ** (attempt - 1), self.max_delay_s)
        return float(backoff * (1 - 0.25 * random.random()))


def _status(error: TransientError) -> str:
    return f" (HTTP {error.status})" if error.status else ""


def _human(seconds: float) -> str:
    if seconds >= 3600:
        return f"~{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"~{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def with_retries(
    call: Callable[[int], T],
    policy: RetryPolicy,
    on_retry: Callable[[int, TransientError, float], None] | None = None,
) -> T:
    """Run ``call(attempt)`` and retry transient failures per ``policy``; other errors pass through."""
    attempt = 0
    while True:
        try:
            return call(attempt)
        except TransientError as error:
            attempt += 1
            if attempt > policy.max_retries:
                raise ProviderError(
                    f"{error.message} (gave up after {policy.max_retries} retries)"
                ) from error
            wait = policy.delay(attempt, error)
            if on_retry is not None:
                on_retry(attempt, error, wait)
            policy.sleep(wait)
