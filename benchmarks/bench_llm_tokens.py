"""Tokens and dollars per question through the LLM path, against a local wire-format server.

Outside the default test run. Usage:
    python benchmarks/bench_llm_tokens.py [--provider anthropic|openai] [--limit N] [--out FILE]
or  pytest benchmarks/bench_llm_tokens.py -m bench

Every text-to-SQL eval question (evals/text2sql/*.yaml, declines excluded) goes through
``agent.ask.ask`` with ``offline_first=False`` and the real provider SDK pointed at the local stub
server (tests/support/llm_stub.py). The stub plays a model that gets it right in one tool call: turn 1
calls ``sql_query`` with the case's gold SQL, turn 2 answers in one sentence. So the figures measure
what *our* side sends: system prompt + schema + tool definitions + the tool round trip. Input tokens
are the stub's count (~4 characters per token, an approximation of BPE; Claude's tokenizer gives
somewhat more). Dollars are tokens x genai-prices for the configured cheap and strong models, without
and with prompt caching of the stable prefix (system + tools; only where the prefix reaches the model's
minimum cacheable length), and $0 for an answer-cache hit.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent.ask import agent_tools, ask, system_prompt  # noqa: E402
from agent.config import Settings  # noqa: E402
from agent.llm.base import TokenUsage  # noqa: E402
from agent.loop import tool_specs  # noqa: E402
from agent.prices import PriceTable  # noqa: E402
from evals.text2sql.runner import load_cases, prepare_home  # noqa: E402
from tests.support.llm_stub import AnthropicWire, OpenAIWire, Turn, count_tokens, serve  # noqa: E402


def _script(gold_sql: str) -> list[Any]:
    return [
        Turn(calls=[("sql_query", {"sql": gold_sql})]),
        Turn(text="Total effective cost for the period is $1,234.56, led by compute."),
    ]


def _prefix_tokens(home: Path) -> dict[str, int]:
    """Tokens of the stable prefix: system prompt (with schema) and the tool definitions."""
    ctx = Settings(home=home).tool_context()
    system = system_prompt(ctx)
    tools = sum(
        count_tokens(f"{s.name} {s.description} {json.dumps(s.input_schema)}") for s in tool_specs(agent_tools())
    )
    return {"system_and_schema": count_tokens(system), "tools": tools}


def _settings(home: Path, provider: str, url: str) -> Settings:
    common: dict[str, Any] = {"home": home, "daily_budget_usd": 1000.0, "monthly_budget_usd": 1000.0}
    if provider == "anthropic":
        return Settings(**common, anthropic_api_key=SecretStr("bench"), anthropic_base_url=url)
    return Settings(**common, openai_api_key=SecretStr("bench"), openai_base_url=url)


#: Smallest prefix a provider caches (Anthropic docs: 4,096 for Haiku 4.5, 1,024 for Sonnet 4.5; OpenAI
#: caches prompts of 1,024+ tokens automatically). Below it nothing is cached and nothing is said.
MIN_CACHEABLE = {"claude-haiku-4-5": 4096, "claude-sonnet-4-5": 1024, "gpt-4.1-mini": 1024, "gpt-4.1": 1024}


def _dollars(prices: PriceTable, provider: str, model: str, calls: list[TokenUsage], prefix: int) -> dict[str, float]:
    price = prices.price(provider, model)
    plain = sum((price.cost(u) for u in calls), Decimal(0))
    if prefix < MIN_CACHEABLE.get(model, 1024):
        return {"usd": float(plain), "usd_cached": float(plain)}
    # steady state: an earlier question wrote the stable prefix to the cache; every call now reads it
    cached = sum(
        (price.cost(u.model_copy(update={"cache_read_tokens": min(prefix, u.input_tokens)})) for u in calls),
        Decimal(0),
    )
    return {"usd": float(plain), "usd_cached": float(cached)}


def run(provider: str = "anthropic", limit: int | None = None) -> dict[str, Any]:
    cases = [c for c in load_cases() if not c.get("decline")][:limit]
    root = Path(tempfile.gettempdir()) / "finops-eval-homes"
    wire = AnthropicWire() if provider == "anthropic" else OpenAIWire()
    prices = PriceTable(overrides={})
    results: list[dict[str, Any]] = []
    homes: dict[str, Path] = {}
    with serve(wire) as (url, state):
        for case in cases:
            home = homes.get(case["dataset"]) or prepare_home(case["dataset"], root)
            if case["dataset"] not in homes:
                for name in ("answers.sqlite", "ledger.sqlite"):
                    (home / name).unlink(missing_ok=True)
                homes[case["dataset"]] = home
            state.actions = _script(case["sql"])
            before = len(state.requests)
            answer = ask(
                _settings(home, provider, url),
                case["question"],
                provider=provider,
                feature="bench",
                offline_first=False,
            )
            results.append(_row(case, answer, state.requests[before:], wire))
        first = cases[0]
        repeat = ask(
            _settings(homes[first["dataset"]], provider, url),
            first["question"],
            provider=provider,
            feature="bench",
            offline_first=False,
        )
    prefix = _prefix_tokens(homes[cases[0]["dataset"]])
    return _summary(provider, results, prefix, prices, repeat.cached, repeat.usage.cost_usd)


def _row(case: dict[str, Any], answer: Any, requests: list[dict[str, Any]], wire: Any) -> dict[str, Any]:
    return {
        "id": case["id"],
        "dataset": case["dataset"],
        "calls": len(requests),
        "input_tokens": answer.usage.input_tokens,
        "output_tokens": answer.usage.output_tokens,
        "first_call_input_tokens": _first_call_tokens(requests[0]) if requests else 0,
        "usd_at_run_model": answer.usage.cost_usd,
        "model": answer.model,
        "usage_per_call": [_first_call_tokens(r) for r in requests],
        "output_per_call": answer.usage.output_tokens // max(len(requests), 1),
    }


def _first_call_tokens(body: dict[str, Any]) -> int:
    from tests.support.llm_stub import request_text

    return count_tokens(request_text(body))


def _summary(
    provider: str,
    results: list[dict[str, Any]],
    prefix: dict[str, int],
    prices: PriceTable,
    repeat_cached: bool,
    repeat_cost: float,
) -> dict[str, Any]:
    settings = Settings()
    models = {
        "anthropic": [settings.anthropic_model, settings.anthropic_strong_model],
        "openai": [settings.openai_model, settings.openai_strong_model],
    }
    stable = prefix["system_and_schema"] + prefix["tools"]
    for r in results:
        calls = [TokenUsage(input_tokens=t, output_tokens=r["output_per_call"]) for t in r["usage_per_call"]]
        for prov, names in models.items():
            for m in names:
                d = _dollars(prices, prov, m, calls, stable)
                r[f"usd_{m}"] = round(d["usd"], 6)
                r[f"usd_{m}_cached_prefix"] = round(d["usd_cached"], 6)
    med = {k: statistics.median(r[k] for r in results) for k in results[0] if k.startswith("usd_")}
    return {
        "provider_wire": provider,
        "questions": len(results),
        "prompt_tokens": prefix | {"stable_prefix_total": stable},
        "median_input_tokens_per_question": statistics.median(r["input_tokens"] for r in results),
        "median_first_call_input_tokens": statistics.median(r["first_call_input_tokens"] for r in results),
        "median_output_tokens_per_question": statistics.median(r["output_tokens"] for r in results),
        "median_calls_per_question": statistics.median(r["calls"] for r in results),
        "median_usd_per_question": {k: round(v, 6) for k, v in med.items()},
        "cache_hit": {"cached": repeat_cached, "usd": repeat_cost},
        "cases": results,
    }


def _print(report: dict[str, Any]) -> None:
    wire, prompt = report["provider_wire"], report["prompt_tokens"]
    print(f"{report['questions']} questions over the {wire} wire; prompt tokens {prompt}")
    print(f"{'id':38} calls   in_tok  out_tok  $haiku   $gpt-4.1-mini")
    for r in report["cases"]:
        print(
            f"{r['id']:38} {r['calls']:5} {r['input_tokens']:8} {r['output_tokens']:8}"
            f"  {r['usd_claude-haiku-4-5']:.5f}  {r['usd_gpt-4.1-mini']:.5f}"
        )
    keys = (
        "median_input_tokens_per_question",
        "median_first_call_input_tokens",
        "median_output_tokens_per_question",
        "median_calls_per_question",
    )
    for key in keys:
        print(f"{key}: {report[key]}")
    for model, usd in report["median_usd_per_question"].items():
        print(f"median {model}: ${usd:.5f}")
    print(f"repeat question: cached={report['cache_hit']['cached']} cost=${report['cache_hit']['usd']}")


@pytest.mark.bench
def test_bench_llm_tokens_per_question() -> None:
    report = run("anthropic", limit=10)
    _print(report)
    assert report["cache_hit"] == {"cached": True, "usd": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--provider", choices=["anthropic", "openai"], default="anthropic")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = run(args.provider, args.limit)
    _print(report)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
