"""Docs generated from code cannot drift: the README's CUR mapping table is the code's."""

from __future__ import annotations

from pathlib import Path

from tools.billing.cur import mapping_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_cur_mapping_matches_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- cur-mapping:start -->", 1)[1].split("<!-- cur-mapping:end -->", 1)[0].strip()
    assert block == mapping_markdown().strip()


def test_readme_quick_start_has_the_two_commands_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    assert 'pip install . && finops ask "What did we spend last month?"' in text
    assert "pip install -e '.[dev]' && python -m pytest" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q -e '.[dev]'" in ci and "python -m pytest" in ci
