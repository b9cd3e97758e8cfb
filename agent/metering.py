"""FinOps for the agent itself: every model call is priced, budgeted and written to the ledger.

:meth:`Meter.call` wraps one model call:

1. estimate the worst case (input tokens estimated conservatively + ``max_tokens``, at list price);
2. reserve it in the ledger (``tools.ledger.reserve``: one SQLite write transaction, so processes
   sharing a home cannot overrun a daily, monthly or per-command limit together), or raise
   :class:`~tools.errors.BudgetExhausted` *before* anything is sent;
3. call the model, retrying transient failures (:mod:`agent.llm.retry`) with a fresh reservation
   per attempt;
4. settle the reservation with the actual usage × price (a cut stream settles its partial usage,
   estimated when unknown and marked ``estimated``; an HTTP error that was not billed settles at $0).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from agent.llm.base import (
    ModelClient,
    ModelRequest,
    ModelResponse,
    StreamCut,
    TextCallback,
    TokenUsage,
    TransientError,
    request_tokens,
)
from agent.llm.retry import RetryPolicy, with_retries
from agent.prices import PriceTable
from tools import ledger


@dataclass(frozen=True)
class CallRecord:
    """One metered model call, as reported to listeners (the loop turns it into a usage event)."""

    call_id: str
    provider: str
    model: str
    usage: TokenUsage
    cost_usd: Decimal
    reserved_usd: Decimal
    outcome: str
    latency_ms: int


@dataclass(frozen=True)
class Budget:
    """Limits in USD; ``None`` means no limit of that kind."""

    daily_usd: Decimal | None = None
    monthly_usd: Decimal | None = None
    session_usd: Decimal | None = None  # per command (--budget-usd)


@dataclass
class Meter:
    """Prices, reserves, calls and settles; keeps the session's running totals."""

    ledger_path: Path
    prices: PriceTable
    budget: Budget
    feature: str = "ask"
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    on_call: Callable[[CallRecord], None] | None = None
    on_retry: Callable[[int, TransientError, float], None] | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: Decimal = Decimal(0)
    calls: int = 0
    model_hint: str = ""

    def worst_case(self, provider: str, request: ModelRequest) -> Decimal:
        tokens = request_tokens(request)
        price = self.prices.price(provider, request.model, tokens)
        return price.worst_case(tokens, request.max_tokens)

    def remaining_share(self) -> float:
        """The smallest share left of the daily and monthly limits (1.0 when unlimited)."""
        spend = ledger.spend(self.ledger_path)
        shares = [1.0]
        for limit, spent in (
            (self.budget.daily_usd, spend.daily_usd),
            (self.budget.monthly_usd, spend.monthly_usd),
        ):
            if limit is not None and limit > 0:
                shares.append(float((limit - spent) / limit))
            elif limit is not None:
                shares.append(0.0)
        if self.budget.session_usd is not None:
            left = self.budget.session_usd - self.cost_usd
            shares.append(float(left / self.budget.session_usd) if self.budget.session_usd > 0 else 0.0)
        return max(min(shares), 0.0)

    def call(self, client: ModelClient, request: ModelRequest, on_text: TextCallback | None = None) -> ModelResponse:
        """One metered, budgeted, retried call; BudgetExhausted (before sending) if it could cross."""
        return with_retries(lambda _attempt: self._attempt(client, request, on_text), self.retry, self.on_retry)

    def _attempt(self, client: ModelClient, request: ModelRequest, on_text: TextCallback | None) -> ModelResponse:
        provider = client.provider
        self.model_hint = request.model
        worst = self.worst_case(provider, request)
        call_id = ledger.reserve(
            self.ledger_path,
            reserved_usd=worst,
            feature=self.feature,
            provider=provider,
            model=request.model,
            session_id=self.session_id,
            price_version=self.prices.version,
            daily_limit_usd=self.budget.daily_usd,
            monthly_limit_usd=self.budget.monthly_usd,
            session_limit_usd=self.budget.session_usd,
        )
        started = time.monotonic()
        try:
            response = client.complete(request, on_text)
        except StreamCut as cut:
            self._settle(call_id, provider, cut.partial, worst, started, "cut")
            raise
        except TransientError as exc:
            outcome = f"http_{exc.status}" if exc.status else "error"
            self._settle(call_id, provider, ModelResponse(model=request.model), worst, started, outcome)
            raise
        except BaseException:
            self._settle(call_id, provider, ModelResponse(model=request.model), worst, started, "error")
            raise
        self._settle(call_id, provider, response, worst, started, "truncated" if response.truncated else "ok")
        return response

    def _settle(
        self,
        call_id: str,
        provider: str,
        response: ModelResponse,
        worst: Decimal,
        started: float,
        outcome: str,
    ) -> None:
        usage = response.usage
        model = response.model or self.model_hint
        try:
            price = self.prices.price(provider, model, usage.input_tokens)
        except Exception:  # a dated model id the price table does not know: price it as requested
            model = self.model_hint
            price = self.prices.price(provider, model, usage.input_tokens)
        cost = price.cost(usage)
        latency = int((time.monotonic() - started) * 1000)
        ledger.settle(
            self.ledger_path,
            call_id,
            cost_usd=cost,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            latency_ms=latency,
            outcome=outcome,
            estimated=usage.estimated,
            request_id=response.request_id,
            model=model,
        )
        self.usage = self.usage + usage
        self.cost_usd += cost
        self.calls += 1
        if self.on_call is not None:
            self.on_call(CallRecord(call_id, provider, model, usage, cost, worst, outcome, latency))
