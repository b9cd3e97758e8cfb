"""End to end: every hostile query is refused or stopped, leaks no canary, writes no file, and the
database answers normally afterwards (security-checklist.md tests 1-18)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.context import ToolContext
from tools.errors import QueryLimit, SqlRejected
from tools.sql.run import Runner, open_runner, run_query

from .conftest import ROWS, build_home
from .corpus import CASES

FILE_CANARY = "CANARY-FILE-7f3a9c"
ENV_CANARY = "CANARY-ENV-b41e27"
ENV_NAME = "FINOPS_TEST_CANARY"


@dataclasses.dataclass
class Arena:
    root: Path
    ctx: ToolContext
    canary: Path
    db_hash: str
    runner: Runner


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*"))}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    root = tmp_path_factory.mktemp("arena")
    ctx = build_home(root / "home")
    canary = root / "secret" / "canary.csv"
    canary.parent.mkdir()
    canary.write_text(f"secret\n{FILE_CANARY}\n")
    db_hash = _sha(ctx.db_path)
    with open_runner(ctx) as runner:  # one hardened connection takes the whole corpus
        yield Arena(root, ctx, canary, db_hash, runner)


@pytest.fixture
def planted(arena: Arena, monkeypatch: pytest.MonkeyPatch) -> Arena:
    monkeypatch.setenv(ENV_NAME, ENV_CANARY)
    monkeypatch.chdir(arena.root)  # a relative COPY/EXPORT target would land in the arena we list
    return arena


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_query_is_stopped_leaks_nothing_and_writes_nothing(case, planted: Arena):
    sql = case.sql(canary_path=str(planted.canary), canary_env=ENV_NAME, out=str(planted.root / "out.csv"))
    before = _tree(planted.root)
    output = ""
    if case.expect == "harmless":
        result = planted.runner.run(sql)
        output = json.dumps(result.rows, default=str)
    else:
        expected = SqlRejected if case.expect == "rejected" else QueryLimit
        with pytest.raises(expected) as info:
            planted.runner.run(sql)
        output = str(info.value)
        assert "\n" not in output
    assert FILE_CANARY not in output and ENV_CANARY not in output
    assert _tree(planted.root) == before
    assert not os.path.exists(planted.root / "out.csv")


def test_harmless_lookalikes_return_their_literal(planted: Arena):
    result = run_query(planted.ctx, "SELECT 'a'';DROP TABLE focus;--' AS s")
    assert result.rows == [["a';DROP TABLE focus;--"]]


def test_database_is_unchanged_and_answers_after_the_corpus(planted: Arena):
    assert _sha(planted.ctx.db_path) == planted.db_hash
    assert planted.runner.run("SELECT count(*) AS n FROM focus").rows == [[ROWS]]
    assert run_query(planted.ctx, "SELECT count(*) AS n FROM focus").rows == [[ROWS]]
    assert sorted(p.name for p in planted.ctx.home.iterdir()) == ["finops.duckdb", "ledger.sqlite"]
