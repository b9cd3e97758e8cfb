"""Model prices: the ``genai-prices`` package, overridable by ``<home>/prices.yaml``.

Cost is always tokens × these prices, never a provider's own cost field. A model with no price
fails closed ("no price for model X; set one in prices.yaml"): an unknown price is never $0.
An explicit 0 in the override file makes a model free (e.g. a local Ollama model).

Override file::

    version: "2026-12-01 negotiated"      # optional, recorded with every ledger row
    models:
      claude-haiku-4-5: {input_mtok: 1, output_mtok: 5, cache_write_mtok: 1.25, cache_read_mtok: 0.1}
      openai:llama3.1: {input_mtok: 0, output_mtok: 0}   # "provider:model" or just "model"
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from agent.llm.base import TokenUsage
from tools.errors import BadInput

MTOK = Decimal(1_000_000)
_PROVIDER_IDS = {"anthropic": "anthropic", "openai": "openai"}


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens. Cache prices default to the input price when a provider has none."""

    input_mtok: Decimal
    output_mtok: Decimal
    cache_write_mtok: Decimal
    cache_read_mtok: Decimal
    source: str

    def cost(self, usage: TokenUsage) -> Decimal:
        """Exact cost of ``usage`` (``input_tokens`` includes cache writes and reads)."""
        plain = max(usage.input_tokens - usage.cache_write_tokens - usage.cache_read_tokens, 0)
        total = (
            plain * self.input_mtok
            + usage.cache_write_tokens * self.cache_write_mtok
            + usage.cache_read_tokens * self.cache_read_mtok
            + usage.output_tokens * self.output_mtok
        )
        return total / MTOK

    def worst_case(self, input_tokens: int, max_tokens: int) -> Decimal:
        """Upper bound of a call: every input token at the dearest input rate, ``max_tokens`` out."""
        dearest = max(self.input_mtok, self.cache_write_mtok)
        return (input_tokens * dearest + max_tokens * self.output_mtok) / MTOK


def _rate(value: Any, input_tokens: int) -> Decimal | None:
    """A flat rate from a genai-prices value (Decimal or TieredPrices, cliff model)."""
    if value is None:
        return None
    tiers = getattr(value, "tiers", None)
    if tiers is None:
        return Decimal(value)
    rate = Decimal(value.base)
    for tier in sorted(tiers, key=lambda t: t.start):
        if input_tokens >= tier.start:
            rate = Decimal(tier.price)
    return rate


def _decimal(raw: Any, where: str) -> Decimal:
    try:
        return Decimal(str(raw))
    except Exception:
        raise BadInput(f"{where}: price {raw!r} is not a number") from None


@dataclass(frozen=True)
class PriceTable:
    """Resolves a (provider, model) to a :class:`ModelPrice`; ``version`` goes into the ledger."""

    overrides: dict[str, dict[str, Any]]
    override_version: str | None = None

    @property
    def version(self) -> str:
        import genai_prices

        base = f"genai-prices {genai_prices.__version__}"
        return f"{base} + {self.override_version}" if self.override_version else base

    @classmethod
    def load(cls, home: Path) -> PriceTable:
        """Prices from genai-prices plus ``<home>/prices.yaml`` when present."""
        path = home / "prices.yaml"
        if not path.is_file():
            return cls(overrides={})
        import yaml

        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        models = data.get("models") or {}
        if not isinstance(models, dict):
            raise BadInput(f"{path}: 'models' must be a mapping of model name to prices")
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        version = str(data.get("version") or f"prices.yaml {digest}")
        return cls(overrides={str(k): dict(v or {}) for k, v in models.items()}, override_version=version)

    def price(self, provider: str, model: str, input_tokens: int = 0) -> ModelPrice:
        entry = self.overrides.get(f"{provider}:{model}") or self.overrides.get(model)
        if entry is not None:
            return self._from_override(model, entry)
        found = _lookup(provider, model)
        if found is None:
            raise BadInput(
                f"no price for model {model} ({provider}); set one in <home>/prices.yaml"
                f" (models: {{{model}: {{input_mtok: ..., output_mtok: ...}}}})"
            )
        model_price, source = found
        rates = {k: _rate(getattr(model_price, k, None), input_tokens) for k in _KEYS}
        inp, out = rates["input_mtok"], rates["output_mtok"]
        if inp is None or out is None:
            raise BadInput(f"genai-prices has no token price for {model}; set one in <home>/prices.yaml")
        return ModelPrice(
            input_mtok=inp,
            output_mtok=out,
            cache_write_mtok=rates["cache_write_mtok"] if rates["cache_write_mtok"] is not None else inp,
            cache_read_mtok=rates["cache_read_mtok"] if rates["cache_read_mtok"] is not None else inp,
            source=source,
        )

    def _from_override(self, model: str, entry: dict[str, Any]) -> ModelPrice:
        where = f"prices.yaml {model}"
        if "input_mtok" not in entry or "output_mtok" not in entry:
            raise BadInput(f"{where}: needs input_mtok and output_mtok (USD per million tokens)")
        inp = _decimal(entry["input_mtok"], where)
        return ModelPrice(
            input_mtok=inp,
            output_mtok=_decimal(entry["output_mtok"], where),
            cache_write_mtok=_decimal(entry.get("cache_write_mtok", inp), where),
            cache_read_mtok=_decimal(entry.get("cache_read_mtok", inp), where),
            source=self.override_version or "prices.yaml",
        )


_KEYS = ("input_mtok", "output_mtok", "cache_write_mtok", "cache_read_mtok")


@cache
def _lookup(provider: str, model: str) -> tuple[Any, str] | None:
    from genai_prices import Usage, calc_price

    try:
        calc = calc_price(
            Usage(input_tokens=0, output_tokens=0), model, provider_id=_PROVIDER_IDS.get(provider)
        )
    except LookupError:
        return None
    return calc.model_price, f"genai-prices {calc.provider.id}/{calc.model.id}"
