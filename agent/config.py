"""Settings (pydantic-settings): home dir, budgets, models, provider keys, Slack, evidence locations.

Precedence: command-line flags > environment (``FINOPS_*`` and the providers' own variables) >
``<home>/config.yaml`` > defaults. Secrets are ``SecretStr``: never printed, logged or serialised.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tools.context import QueryLimits, ToolContext

DEFAULT_HOME = Path("~/.finops-agent")


def default_home() -> Path:
    return Path(os.environ.get("FINOPS_HOME") or DEFAULT_HOME).expanduser()


class _YamlConfig(PydanticBaseSettingsSource):
    """Reads ``<home>/config.yaml`` when it exists (lowest priority after defaults)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        home = Path(self.current_state.get("home") or default_home()).expanduser()
        path = home / "config.yaml"
        if not path.is_file():
            return {}
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return data if isinstance(data, dict) else {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINOPS_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=default_home)

    # LLM providers; keys come from the providers' usual variables.
    provider: str = "auto"  # auto | offline | anthropic | openai
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "FINOPS_ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "FINOPS_ANTHROPIC_BASE_URL")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "FINOPS_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "FINOPS_OPENAI_BASE_URL")
    )
    model: str | None = None  # overrides the routed model
    anthropic_model: str = "claude-haiku-4-5"
    anthropic_strong_model: str = "claude-sonnet-4-5"
    openai_model: str = "gpt-4.1-mini"
    openai_strong_model: str = "gpt-4.1"
    max_tokens: int = 1024
    request_timeout_s: float = 60.0
    max_retries: int = 3
    retry_after_cap_s: float = 30.0

    # The agent's own budget (USD).
    daily_budget_usd: float = 1.00
    monthly_budget_usd: float = 20.00
    low_budget_share: float = 0.2  # below this share left, route to the cheap model

    # Query engine limits.
    max_rows: int = 5_000
    max_chars: int = 200_000
    query_timeout_s: float = 30.0
    memory_limit: str = "2GB"
    threads: int = 2

    # Evidence, calendar, notifications.
    calendar: Path | None = None
    country: str = "US"
    cloudtrail_dir: Path | None = None
    git_repo: Path | None = None
    github_repo: str | None = None
    github_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GITHUB_TOKEN", "FINOPS_GITHUB_TOKEN")
    )
    slack_webhook_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FINOPS_SLACK_WEBHOOK", "FINOPS_SLACK_WEBHOOK_URL", "slack_webhook_url"),
    )
    slack_bot_token: SecretStr | None = None
    slack_channel: str | None = None
    team_channels: dict[str, str] = Field(default_factory=dict)
    required_tag_keys: list[str] = Field(default_factory=list)
    c7n_mailer_queue: str | None = None  # SQS queue of the org's c7n-mailer, for `notify` policies

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlConfig(settings_cls))

    def tool_context(self) -> ToolContext:
        home = self.home.expanduser()
        demo = home / "demo"
        calendar = self.calendar or (demo / "calendar.yaml" if (demo / "calendar.yaml").exists() else None)
        cloudtrail = self.cloudtrail_dir or (demo / "cloudtrail" if (demo / "cloudtrail").exists() else None)
        git_repo = self.git_repo or (demo / "infra-repo" if (demo / "infra-repo").exists() else None)
        return ToolContext(
            home=home,
            limits=QueryLimits(
                max_rows=self.max_rows,
                max_chars=self.max_chars,
                timeout_s=self.query_timeout_s,
                memory_limit=self.memory_limit,
                threads=self.threads,
            ),
            calendar_path=calendar,
            country=self.country,
            cloudtrail_dir=cloudtrail,
            git_repo=git_repo,
            extra={
                "required_tag_keys": list(self.required_tag_keys),
                "team_channels": dict(self.team_channels),
                "c7n_mailer_queue": self.c7n_mailer_queue,
                "daily_budget_usd": self.daily_budget_usd,
                "monthly_budget_usd": self.monthly_budget_usd,
            },
        )

    def redacted(self) -> dict[str, Any]:
        """Settings as a dict with every secret masked (safe to print)."""
        out = self.model_dump(mode="json")
        for name, value in self:
            if isinstance(value, SecretStr):
                out[name] = "***" if value.get_secret_value() else None
        return out
