"""Metering: prices from genai-prices (+ overrides), reservations before calls, settlement after."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from agent.llm.anthropic import AnthropicClient
from agent.llm.base import Message, ModelRequest, TokenUsage
from agent.llm.openai import OpenAIClient
from agent.llm.retry import RetryPolicy
from agent.metering import Budget, Meter
from agent.prices import PriceTable
from tests.support.llm_stub import AnthropicWire, Cut, OpenAIWire, Status, StubState, Turn, serve
from tools import ledger
from tools.errors import BadInput, BudgetExhausted, ProviderError

COLS = list(ledger.USAGE_COLUMNS)


def col(row: tuple[object, ...], name: str) -> object:
    return row[COLS.index(name)]


@pytest.fixture
def anthropic_stub() -> Iterator[tuple[str, StubState]]:
    with serve(AnthropicWire()) as stub:
        yield stub


def request(model: str = "claude-haiku-4-5", max_tokens: int = 500) -> ModelRequest:
    return ModelRequest(
        model=model, system="Be brief.", messages=[Message(role="user", text="hi")], max_tokens=max_tokens
    )


def meter(home: Path, budget: Budget | None = None) -> Meter:
    return Meter(
        home / "ledger.sqlite", PriceTable.load(home), budget or Budget(), retry=RetryPolicy(sleep=lambda _s: None)
    )


def test_cost_is_tokens_times_price_including_cache_writes_and_reads() -> None:
    price = PriceTable(overrides={}).price("anthropic", "claude-haiku-4-5")
    usage = TokenUsage(input_tokens=4700, output_tokens=80, cache_write_tokens=500, cache_read_tokens=3000)
    expected = (
        1200 * price.input_mtok + 500 * price.cache_write_mtok + 3000 * price.cache_read_mtok + 80 * price.output_mtok
    ) / Decimal(1_000_000)
    assert price.cost(usage) == expected
    assert price.cache_read_mtok < price.input_mtok < price.cache_write_mtok  # the multipliers are real


def test_a_model_without_a_price_fails_closed() -> None:
    with pytest.raises(BadInput, match="no price for model llama-local-9"):
        PriceTable(overrides={}).price("openai", "llama-local-9")


def test_the_override_file_sets_prices_and_its_version_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "prices.yaml").write_text(
        "version: negotiated-2026\nmodels:\n  openai:llama3.1: {input_mtok: 0, output_mtok: 0}\n"
        "  claude-haiku-4-5: {input_mtok: 0.8, output_mtok: 4}\n"
    )
    table = PriceTable.load(tmp_path)
    assert table.price("openai", "llama3.1").cost(TokenUsage(input_tokens=10**6, output_tokens=10**6)) == 0
    assert table.price("anthropic", "claude-haiku-4-5").output_mtok == Decimal("4")
    assert table.version.endswith("+ negotiated-2026") and table.version.startswith("genai-prices ")


def test_a_metered_call_settles_the_exact_cost_and_releases_the_reservation(
    tmp_path: Path, anthropic_stub: tuple[str, StubState]
) -> None:
    url, state = anthropic_stub
    state.actions = [
        Turn(text="ok", input_tokens=4700, output_tokens=80, cache_write_tokens=500, cache_read_tokens=3000)
    ]
    m = meter(tmp_path)
    m.call(AnthropicClient("k", url, 5), request())
    [row] = ledger.read_usage(tmp_path / "ledger.sqlite")
    price = PriceTable(overrides={}).price("anthropic", "claude-haiku-4-5")
    exact = price.cost(TokenUsage(input_tokens=4700, output_tokens=80, cache_write_tokens=500, cache_read_tokens=3000))
    assert col(row, "cost_usd") == exact.quantize(Decimal("0.00000001"))
    assert col(row, "outcome") == "ok" and col(row, "estimated") is False
    assert col(row, "reserved_usd") > 0  # type: ignore[operator]
    assert str(col(row, "price_version")).startswith("genai-prices")
    assert str(col(row, "request_id")).startswith("req_")
    assert ledger.spend(tmp_path / "ledger.sqlite").daily_usd == col(row, "cost_usd")


def test_a_call_whose_worst_case_could_cross_the_budget_is_refused_before_sending(
    tmp_path: Path, anthropic_stub: tuple[str, StubState]
) -> None:
    url, state = anthropic_stub
    state.actions = [Turn(text="never sent")]
    m = meter(tmp_path, Budget(daily_usd=Decimal("0.002")))  # 500 max_tokens x $5/MTok = $0.0025 alone
    with pytest.raises(BudgetExhausted, match="daily LLM budget exhausted"):
        m.call(AnthropicClient("k", url, 5), request(max_tokens=500))
    assert state.requests == [] and ledger.read_usage(tmp_path / "ledger.sqlite") == []


def test_a_cut_stream_is_metered_as_estimated_then_retried(
    tmp_path: Path, anthropic_stub: tuple[str, StubState]
) -> None:
    url, state = anthropic_stub
    state.actions = [Cut(Turn(text="partial " * 30, input_tokens=700), after_events=3), Turn(text="whole")]
    response = meter(tmp_path).call(AnthropicClient("k", url, 5), request())
    assert response.text == "whole"
    cut, ok = ledger.read_usage(tmp_path / "ledger.sqlite")
    assert col(cut, "outcome") == "cut" and col(cut, "estimated") is True
    assert col(cut, "input_tokens") == 700 and col(cut, "cost_usd") > 0  # type: ignore[operator]
    assert col(ok, "outcome") == "ok"


def test_unbilled_http_errors_settle_at_zero_and_only_the_success_costs(tmp_path: Path) -> None:
    with serve(OpenAIWire()) as (url, state):
        state.actions = [Status(429, headers={"retry-after": "1"}), Status(500), Turn(text="fine")]
        m = meter(tmp_path)
        m.call(OpenAIClient("k", url, 5), request("gpt-4.1-mini"))
    rows = ledger.read_usage(tmp_path / "ledger.sqlite")
    assert [col(r, "outcome") for r in rows] == ["http_429", "http_500", "ok"]
    assert [col(r, "cost_usd") for r in rows][:2] == [Decimal(0), Decimal(0)]
    assert m.cost_usd == col(rows[2], "cost_usd") and m.calls == 3


def test_every_attempt_sends_max_tokens_within_the_cap(tmp_path: Path, anthropic_stub: tuple[str, StubState]) -> None:
    url, state = anthropic_stub
    state.actions = [Status(503), Turn(text="ok")]
    meter(tmp_path).call(AnthropicClient("k", url, 5), request(max_tokens=128))
    assert [body["max_tokens"] for body in state.requests] == [128, 128]


def test_a_provider_that_keeps_failing_gives_one_line_after_the_retries(
    tmp_path: Path, anthropic_stub: tuple[str, StubState]
) -> None:
    url, state = anthropic_stub
    state.actions = [Status(500)] * 4
    with pytest.raises(ProviderError, match="gave up after 3 retries"):
        meter(tmp_path).call(AnthropicClient("k", url, 5), request())
    assert len(state.requests) == 4
