"""A small real DuckDB home for the SQL tests: FOCUS rows with tags, plus a usage ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tools.billing import store
from tools.context import QueryLimits, ToolContext
from tools.ledger import reserve, settle

ROWS = 300
SERVICES = ("Amazon Elastic Compute Cloud", "Amazon Simple Storage Service", "Amazon Bedrock")


def build_home(home: Path, rows: int = ROWS) -> ToolContext:
    """Write ``rows`` FOCUS rows (3 services, 2 teams, every 10th untagged) and two ledger calls."""
    with store.writer(home / "finops.duckdb") as con:
        con.execute(
            f"""INSERT INTO focus (BilledCost, EffectiveCost, ListCost, ServiceName, ProviderName,
                    ChargeCategory, ChargePeriodStart, ChargePeriodEnd, RegionId, ChargeDescription, Tags)
                SELECT (i % 17 + 1)::DECIMAL(38,12), (i % 13 + 1)::DECIMAL(38,12),
                       (i % 19 + 2)::DECIMAL(38,12),
                       list_extract({list(SERVICES)}, i % 3 + 1), 'AWS', 'Usage',
                       TIMESTAMP '2026-10-01' + INTERVAL (i % 30) DAY,
                       TIMESTAMP '2026-10-02' + INTERVAL (i % 30) DAY,
                       CASE WHEN i % 2 = 0 THEN 'us-east-1' ELSE 'eu-west-1' END,
                       'charge number ' || i,
                       CASE WHEN i % 10 = 0 THEN MAP {{}}::MAP(VARCHAR, VARCHAR)
                            ELSE MAP {{'team': CASE WHEN i % 2 = 0 THEN 'web' ELSE 'data' END,
                                       'env': 'prod'}} END
                FROM range({rows}) t(i)"""
        )
        store.materialise_tags(con)
    ledger = home / "ledger.sqlite"
    for model, cost in (("claude-x", "0.0125"), ("gpt-y", "0.5")):
        call = reserve(ledger, reserved_usd=Decimal("1"), feature="ask", provider="test", model=model)
        settle(ledger, call, cost_usd=Decimal(cost), input_tokens=1000, output_tokens=200, latency_ms=5,
               outcome="ok", estimated=False, request_id="r", model=model)
    limits = QueryLimits(timeout_s=1.0, max_rows=100, max_chars=20_000, memory_limit="512MB")
    return ToolContext(home=home, limits=limits)


@pytest.fixture
def home_ctx(tmp_path: Path) -> ToolContext:
    """A fresh home with data, per test."""
    return build_home(tmp_path / "home")


@pytest.fixture(scope="module")
def shared_ctx(tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    """One home per module for read-only tests."""
    return build_home(tmp_path_factory.mktemp("sqlhome") / "home")
