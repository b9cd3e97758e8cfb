"""Provider auto-selection and client construction (no SDK is imported here).

``auto`` picks Anthropic when ``ANTHROPIC_API_KEY`` is set, else OpenAI when ``OPENAI_API_KEY`` or an
OpenAI-compatible base URL is set, else the offline planner. :attr:`ProviderChoice.reason` is the
one line a front end prints on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agent.config import Settings
from agent.llm.base import ModelClient
from tools.errors import BadInput

PROVIDERS = ("auto", "offline", "anthropic", "openai")


@dataclass(frozen=True)
class ProviderChoice:
    name: str  # anthropic | openai | offline
    reason: str
    cheap_model: str | None = None
    strong_model: str | None = None


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    text = get() if callable(get) else None
    return text or None


def choose(settings: Settings, provider: str = "auto") -> ProviderChoice:
    """Which provider answers, and why (for a stderr note)."""
    wanted = settings.provider if provider == "auto" else provider
    if wanted not in PROVIDERS:
        raise BadInput(f"unknown provider {wanted!r}; choose one of {', '.join(PROVIDERS)}")
    has_anthropic = _secret(settings.anthropic_api_key) is not None
    has_openai = _secret(settings.openai_api_key) is not None or bool(settings.openai_base_url)
    anthropic = ProviderChoice(
        "anthropic", "using anthropic", settings.anthropic_model, settings.anthropic_strong_model
    )
    openai = ProviderChoice("openai", "using openai", settings.openai_model, settings.openai_strong_model)
    if wanted == "offline":
        return ProviderChoice("offline", "using the offline planner (--provider offline)")
    if wanted == "anthropic":
        if not has_anthropic:
            raise BadInput("--provider anthropic needs ANTHROPIC_API_KEY; set it or use --provider offline")
        return anthropic
    if wanted == "openai":
        if not has_openai:
            raise BadInput("--provider openai needs OPENAI_API_KEY or OPENAI_BASE_URL; set one")
        return openai
    if has_anthropic:
        return replace(anthropic, reason="using anthropic (ANTHROPIC_API_KEY is set)")
    if has_openai:
        why = "OPENAI_API_KEY is set" if _secret(settings.openai_api_key) else "OPENAI_BASE_URL is set"
        return replace(openai, reason=f"using openai ({why})")
    return ProviderChoice("offline", "using the offline planner (no ANTHROPIC_API_KEY or OPENAI_API_KEY)")


def make_client(settings: Settings, name: str) -> ModelClient:
    """The adapter for ``name``; the SDK itself is imported on the first call."""
    timeout = settings.request_timeout_s
    if name == "anthropic":
        from agent.llm.anthropic import AnthropicClient

        key = _secret(settings.anthropic_api_key)
        if key is None:
            raise BadInput("ANTHROPIC_API_KEY is not set")
        return AnthropicClient(key, settings.anthropic_base_url, timeout)
    if name == "openai":
        from agent.llm.openai import OpenAIClient

        return OpenAIClient(_secret(settings.openai_api_key), settings.openai_base_url, timeout)
    raise BadInput(f"no model client for provider {name!r}")
