"""`finops schema`: the prompt on stdout, its token cost on stderr; --json with the promised keys."""

from __future__ import annotations

import json

import pytest

from agent.cli import main
from tests.tools.sql.conftest import build_home
from tools.context import ToolContext


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    return build_home(tmp_path_factory.mktemp("cli-schema") / "home")


def finops(home: ToolContext, *args: str) -> int:
    try:
        main(["--home", str(home.home), *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_json_has_table_columns_prompt_and_token_counts(home, capsys):
    assert finops(home, "schema", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["table"] == "focus"
    names = [c["name"] for c in doc["columns"]]
    assert "BilledCost" in names and "x_tag_team" in names
    assert all(set(c) >= {"name", "type", "description"} for c in doc["columns"])
    assert doc["prompt"].startswith("DuckDB table focus")
    assert 0 < doc["tokens"] <= 0.5 * doc["ddl_tokens"]


def test_human_output_is_the_prompt_with_its_cost_on_stderr(home, capsys):
    assert finops(home, "schema") == 0
    captured = capsys.readouterr()
    assert "Tags['team']" in captured.out
    assert "tokens (estimated)" in captured.err and "columns named" in captured.err
