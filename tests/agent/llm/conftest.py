"""Stub servers for the provider adapters (real SDKs over real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.llm_stub import AnthropicWire, OpenAIWire, StubState, serve


@pytest.fixture
def anthropic_stub() -> Iterator[tuple[str, StubState]]:
    with serve(AnthropicWire()) as stub:
        yield stub


@pytest.fixture
def openai_stub() -> Iterator[tuple[str, StubState]]:
    with serve(OpenAIWire()) as stub:
        yield stub
