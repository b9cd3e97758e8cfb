"""Project-wide gates that run with the suite: lint, strict typing, import rules, cold start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("anthropic", "openai", "mcp", "textual", "boto3", "botocore", "pandas", "statsforecast", "prophet")


def _run(*cmd: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_strict_passes_on_tools_agent_mcp_server_and_prompts() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout[-3000:]


def test_import_linter_contracts_are_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    result = _run(str(exe) if exe.exists() else "lint-imports")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "broken" in result.stdout and " 0 broken" in result.stdout


def _imported_modules(*args: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agent.cli", *args], cwd=ROOT, capture_output=True, text=True,
        env=env, timeout=120, check=False,
    )
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_help_imports_neither_duckdb_nor_any_llm_sdk_mcp_or_textual() -> None:
    modules = _imported_modules("--help")
    assert "click" in modules
    assert not modules & {"duckdb", "sqlglot", *HEAVY}, modules & {"duckdb", "sqlglot", *HEAVY}


@pytest.mark.parametrize("command", [["sql", "--help"], ["ask", "--help"], ["ingest", "--help"]])
def test_local_command_help_imports_no_heavy_library(command: list[str]) -> None:
    modules = _imported_modules(*command)
    assert not modules & {"duckdb", *HEAVY}


def test_an_offline_question_imports_no_llm_sdk(sample_home: Path) -> None:
    modules = _imported_modules("--home", str(sample_home), "ask", "spend by service", "--json")
    assert "duckdb" in modules
    assert not modules & set(HEAVY), modules & set(HEAVY)


def test_top_level_packages_resolve_inside_this_project() -> None:
    code = (
        "import agent, tools, mcp_server, prompts, evals, json; "
        "print(json.dumps([m.__file__ for m in (agent, tools, mcp_server, prompts, evals)]))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True)
    for path in json.loads(result.stdout):
        assert Path(path).resolve().is_relative_to(ROOT), path
