"""One small demo org per test session (generation takes seconds; the tests only read it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.billing.demo import DemoFiles, DemoSpec, DemoSummary, generate, load_demo
from tools.context import ToolContext


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The default demo org (seed 42, small), generated once."""
    return generate(DemoSpec(), tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[ToolContext, DemoSummary]:
    """The default demo org generated and ingested into a fresh home (a real DuckDB file)."""
    ctx = ToolContext(home=tmp_path_factory.mktemp("home"))
    return ctx, load_demo(ctx)


@pytest.fixture(scope="session")
def focus_glob(demo: DemoFiles) -> str:
    return str(demo.focus_dir / "*.parquet")


def read_manifest(root: Path) -> dict:
    import json

    return json.loads((root / "manifest.json").read_text())
