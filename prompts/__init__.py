"""Prompt templates (``prompts/*.md``) and a tiny loader. Stdlib only: every token here is paid on
every call, so keep the files lean."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

_DIR = Path(__file__).parent


@cache
def load(name: str) -> str:
    """The text of ``prompts/<name>.md`` (stripped)."""
    path = _DIR / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in {_DIR}")
    return path.read_text(encoding="utf-8").strip()


def render(name: str, **values: str) -> str:
    """``prompts/<name>.md`` with ``$placeholders`` filled (``string.Template``; missing ones raise)."""
    return Template(load(name)).substitute(values)
