"""One small demo org per test session, generated and loaded once; the tests only read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.billing.demo import DemoFiles, DemoSummary, load_demo
from tools.context import ToolContext


@pytest.fixture(scope="session")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[ToolContext, DemoSummary]:
    """The default demo org (seed 42, small) generated and ingested into a fresh home (a real DuckDB file)."""
    ctx = ToolContext(home=tmp_path_factory.mktemp("home"))
    return ctx, load_demo(ctx)


@pytest.fixture(scope="session")
def demo(loaded: tuple[ToolContext, DemoSummary]) -> DemoFiles:
    """The generated files of the loaded demo (tests that change a home copy it first)."""
    ctx, s = loaded
    root = ctx.demo_dir
    return DemoFiles(
        root=root, focus_dir=root / "focus", cloudtrail_dir=root / "cloudtrail", git_repo=root / "infra-repo",
        calendar_path=root / "calendar.yaml", manifest_path=root / "manifest.json", rows=s.rows,
        resources=s.resources, first_day=s.first_day, last_day=s.last_day, providers=s.providers,
        monthly_cost=s.monthly_cost, cloudtrail_files=s.cloudtrail_files, commits=s.commits,
        seconds=s.generate_seconds,
    )  # fmt: skip


@pytest.fixture(scope="session")
def focus_glob(demo: DemoFiles) -> str:
    return str(demo.focus_dir / "*.parquet")


def read_manifest(root: Path) -> dict[str, Any]:
    import json

    doc: dict[str, Any] = json.loads((root / "manifest.json").read_text())
    return doc
