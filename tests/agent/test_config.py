"""Settings: precedence, home resolution, and secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings


def test_home_comes_from_flag_then_env_then_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "env-home"))
    assert Settings().home == tmp_path / "env-home"
    assert Settings(home=tmp_path / "flag-home").home == tmp_path / "flag-home"
    monkeypatch.delenv("FINOPS_HOME")
    assert Settings().home == Path("~/.finops-agent").expanduser()


def test_config_file_in_home_is_read_below_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("daily_budget_usd: 2.5\nmonthly_budget_usd: 40\n")
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.setenv("FINOPS_MONTHLY_BUDGET_USD", "55")
    s = Settings()
    assert s.daily_budget_usd == 2.5
    assert s.monthly_budget_usd == 55


def test_secrets_never_appear_in_repr_dumps_or_redacted_output(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "fake-anthropic-key-0123456789abcdef"
    webhook = "https://hooks.example.invalid/services/T000/B000/XXXXSECRET"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    s = Settings(slack_webhook_url=webhook)
    assert s.anthropic_api_key is not None and s.anthropic_api_key.get_secret_value() == secret
    for text in (repr(s), str(s), str(s.model_dump()), str(s.redacted()), s.model_dump_json()):
        assert secret not in text and "XXXXSECRET" not in text
    assert s.redacted()["anthropic_api_key"] == "***"


def test_tool_context_points_at_the_demo_evidence_when_it_exists(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    (demo / "cloudtrail").mkdir(parents=True)
    (demo / "calendar.yaml").write_text("events: []\n")
    ctx = Settings(home=tmp_path).tool_context()
    assert ctx.cloudtrail_dir == demo / "cloudtrail"
    assert ctx.calendar_path == demo / "calendar.yaml"
    assert ctx.git_repo is None
    assert ctx.db_path == tmp_path / "finops.duckdb"
