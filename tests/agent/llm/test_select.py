"""Provider auto-selection: Anthropic key, else OpenAI key or base URL, else offline (and why)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.llm.select import choose, make_client
from tools.errors import BadInput


def cfg(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(home=tmp_path, **kw)


def test_auto_prefers_anthropic_when_its_key_is_set(tmp_path: Path) -> None:
    choice = choose(cfg(tmp_path, anthropic_api_key="a", openai_api_key="o"))
    assert choice.name == "anthropic" and "ANTHROPIC_API_KEY" in choice.reason
    assert (choice.cheap_model, choice.strong_model) == ("claude-haiku-4-5", "claude-sonnet-4-5")


def test_auto_uses_an_openai_compatible_base_url_without_a_key(tmp_path: Path) -> None:
    choice = choose(cfg(tmp_path, openai_base_url="http://127.0.0.1:11434/v1"))
    assert choice.name == "openai" and "OPENAI_BASE_URL" in choice.reason


def test_auto_without_keys_is_the_offline_planner_and_says_so(tmp_path: Path) -> None:
    choice = choose(cfg(tmp_path))
    assert choice.name == "offline" and "no ANTHROPIC_API_KEY or OPENAI_API_KEY" in choice.reason


def test_the_settings_provider_applies_when_the_caller_says_auto(tmp_path: Path) -> None:
    assert choose(cfg(tmp_path, provider="offline", anthropic_api_key="a")).name == "offline"


def test_an_explicit_provider_without_its_key_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="ANTHROPIC_API_KEY"):
        choose(cfg(tmp_path), "anthropic")
    with pytest.raises(BadInput, match="unknown provider"):
        choose(cfg(tmp_path), "gemini")


def test_making_a_client_imports_no_sdk(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from agent.config import Settings; "
        "from agent.llm.select import make_client; "
        f"c = make_client(Settings(home=Path({str(tmp_path)!r}), anthropic_api_key='a'), 'anthropic'); "
        "import agent.ask; print(c.provider, 'anthropic' in sys.modules, 'openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["anthropic", "False", "False"]
    assert make_client(cfg(tmp_path, openai_base_url="http://127.0.0.1:1/v1"), "openai").provider == "openai"
