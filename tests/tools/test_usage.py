"""The usage tool reports the agent's own calls, tokens and cost from the real ledger, and the budget."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import tools
from tools import ledger
from tools.context import ToolContext


def _spend(ctx: ToolContext, feature: str, cost: str, tokens: int) -> None:
    call = ledger.reserve(
        ctx.ledger_path,
        reserved_usd=Decimal(cost),
        feature=feature,
        session_id="s1",
        provider="anthropic",
        model="claude-haiku-4-5",
        daily_limit_usd=Decimal("5"),
        monthly_limit_usd=Decimal("50"),
    )
    ledger.settle(
        ctx.ledger_path,
        call,
        input_tokens=tokens,
        output_tokens=tokens // 10,
        cost_usd=Decimal(cost),
        latency_ms=5,
        outcome="ok",
    )


def test_usage_with_no_ledger_is_zero_and_shows_the_limits(tmp_path: Path) -> None:
    ctx = ToolContext(home=tmp_path / "h", extra={"daily_budget_usd": 1.0, "monthly_budget_usd": 20.0})
    out = tools.load_registry()["usage"].call(ctx, {})
    assert out.total.calls == 0 and out.total.cost_usd == 0.0  # type: ignore[attr-defined]
    assert out.daily_limit_usd == 1.0 and out.monthly_limit_usd == 20.0  # type: ignore[attr-defined]


def test_usage_sums_the_ledger_by_feature(ctx: ToolContext) -> None:
    _spend(ctx, "ask", "0.010", 1000)
    _spend(ctx, "ask", "0.005", 500)
    _spend(ctx, "anomaly narrative", "0.002", 200)
    out = tools.load_registry()["usage"].call(ctx, {"days": 7, "by": "feature"})
    assert out.total.calls == 3 and abs(out.total.cost_usd - 0.017) < 1e-9  # type: ignore[attr-defined]
    by = {r.key: r for r in out.rows}  # type: ignore[attr-defined]
    assert by["ask"].calls == 2 and by["ask"].input_tokens == 1500
    assert abs(out.daily_spent_usd - 0.017) < 1e-9  # type: ignore[attr-defined]
