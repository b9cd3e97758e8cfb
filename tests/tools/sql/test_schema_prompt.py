"""The compact schema prompt: every column named, half the tokens of the DDL, real values, idioms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import FOCUS_SAMPLE
from tools.billing import store
from tools.context import ToolContext
from tools.sql import schema_prompt as sp


@pytest.fixture(scope="module")
def built(shared_ctx: ToolContext) -> sp.SchemaPrompt:
    return sp.schema_prompt(shared_ctx)


def _named(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


def test_every_column_of_the_table_is_named(built: sp.SchemaPrompt, shared_ctx: ToolContext):
    with store.reader(shared_ctx.db_path) as con:
        names = list(store.table_columns(con))
    assert [n for n in names if not _named(n, built.prompt)] == []
    assert [c.name for c in built.columns] == names


def test_prompt_costs_at_most_half_the_tokens_of_the_full_ddl(built: sp.SchemaPrompt):
    ddl = sp.full_ddl({c.name: c.type for c in built.columns})
    assert built.ddl_tokens == sp.count_tokens(ddl)
    assert built.tokens <= 0.5 * built.ddl_tokens


def test_columns_without_data_are_named_once_as_empty(built: sp.SchemaPrompt):
    empty_line = next(line for line in built.prompt.splitlines() if line.startswith("All NULL here:"))
    assert "InvoiceId" in empty_line and "BilledCost" not in empty_line
    assert {c.name for c in built.columns if not c.has_data} >= {"InvoiceId", "SkuId"}


def test_low_cardinality_columns_show_real_values(built: sp.SchemaPrompt):
    samples = {c.name: c.samples for c in built.columns}
    assert set(samples["ServiceName"]) == {"Amazon Elastic Compute Cloud", "Amazon Simple Storage Service",
                                            "Amazon Bedrock"}
    assert set(samples["RegionId"]) == {"us-east-1", "eu-west-1"}
    assert "us-east-1" in built.prompt


def test_tags_idiom_keys_and_materialised_columns_are_explained(built: sp.SchemaPrompt):
    assert "Tags['team']" in built.prompt
    assert built.tag_keys == ["env", "team"] or built.tag_keys == ["team", "env"]
    tag_line = next(line for line in built.prompt.splitlines() if line.startswith("Tags MAP"))
    assert "x_tag_team: data|web" in tag_line or "x_tag_team: web|data" in tag_line


def test_metric_guidance_period_and_agent_usage_are_included(built: sp.SchemaPrompt):
    assert "EffectiveCost (amortized) for trends" in built.prompt and "BilledCost for invoice" in built.prompt
    assert "Data covers 2026-10-01 to 2026-10-30" in built.prompt
    assert "agent_usage" in built.prompt and "cost_usd" in built.prompt


def test_json_document_has_the_promised_keys(built: sp.SchemaPrompt):
    doc = built.as_dict()
    assert doc["table"] == "focus" and doc["prompt"] == built.prompt
    assert {"name", "type", "description"} <= set(doc["columns"][0])
    assert doc["tokens"] == built.tokens and doc["ddl_tokens"] == built.ddl_tokens


def test_token_estimate_counts_words_digits_and_punctuation():
    assert sp.count_tokens("BilledCost") == 2
    assert sp.count_tokens("sum(EffectiveCost)") == 6  # sum ( Effect-ive Cost )
    assert sp.count_tokens("") == 0
    assert sp.count_tokens("a b c") < sp.count_tokens("a, b, c")


@pytest.mark.skipif(not FOCUS_SAMPLE.exists(), reason="shared FOCUS sample not present")
def test_official_focus_sample_prompt_names_everything_in_half_the_tokens(tmp_path: Path):
    from tools.billing.ingest import ingest_paths

    ctx = ToolContext(home=tmp_path / "home")
    ingest_paths(ctx, [FOCUS_SAMPLE])
    built = sp.schema_prompt(ctx)
    assert [c.name for c in built.columns if not _named(c.name, built.prompt)] == []
    assert built.tokens <= 0.5 * built.ddl_tokens
    assert "AWS" in built.prompt and "Microsoft" in built.prompt
