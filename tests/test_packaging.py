"""The wheel lists its packages explicitly (generic top-level names): keep the list in step with the tree."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_in_the_tree_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for init in ROOT.rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts and rel.parts[0] not in ("tests", "benchmarks", "build") and not rel.parts[0].startswith("."):
            found.add(".".join(rel.parts))
    assert found == listed, {"missing": sorted(found - listed), "listed but absent": sorted(listed - found)}


def test_console_script_is_finops() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"finops": "agent.cli:main"}
