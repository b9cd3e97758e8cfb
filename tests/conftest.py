"""Shared fixtures: a fresh home per test, and small FOCUS files written on the fly."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tools.context import ToolContext

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"
FOCUS_SAMPLE = SHARED_DATA / "focus-samples" / "official-focus-1.0" / "focus_sample.csv"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's real home, keys or config."""
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GITHUB_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "default-home"))
    yield


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(home=tmp_path / "home")


FOCUS_HEADER = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "PricingQuantity",
    "PricingUnit",
    "InvoiceIssuerName",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "Tags",
]


def focus_row(**overrides: str) -> dict[str, str]:
    row = {
        "BillingAccountId": "012345678901",
        "BillingAccountName": "Acme",
        "BillingCurrency": "USD",
        "BillingPeriodStart": "2026-10-01T00:00:00Z",
        "BillingPeriodEnd": "2026-11-01T00:00:00Z",
        "ChargePeriodStart": "2026-10-05T00:00:00Z",
        "ChargePeriodEnd": "2026-10-06T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": "m5.large hours",
        "ChargeFrequency": "Usage-Based",
        "BilledCost": "12.5",
        "EffectiveCost": "10.25",
        "ListCost": "14",
        "ContractedCost": "12.5",
        "PricingQuantity": "24",
        "PricingUnit": "Hours",
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "ProviderName": "AWS",
        "PublisherName": "Amazon Web Services, Inc.",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "SubAccountId": "000123456789",
        "SubAccountName": "prod",
        "RegionId": "us-east-1",
        "ResourceId": "i-0abc",
        "ResourceName": "web-1",
        "Tags": '{"team":"web"}',
    }
    row.update(overrides)
    return row


@pytest.fixture
def write_focus(tmp_path: Path) -> Callable[..., Path]:
    """Write a FOCUS CSV with the given rows (dicts) and return its path."""

    def write(name: str, rows: list[dict[str, str]], header: list[str] | None = None, delimiter: str = ",") -> Path:
        path = tmp_path / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cols = header or FOCUS_HEADER
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=cols, delimiter=delimiter, extrasaction="ignore")
            writer.writeheader()
            for r in rows:
                writer.writerow(r)
        return path

    return write


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("FINOPS_TEST", "1")


# --- network guard (LLM helper): tests may only talk to loopback --------------------------------------
import ipaddress as _ipaddress  # noqa: E402
import socket as _socket  # noqa: E402


def _loopback_only(address: object) -> None:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like stay local
        return
    host = str(address[0])
    if host in ("localhost", ""):
        return
    try:
        if _ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return
    except ValueError:
        pass
    raise OSError(f"network access to {host} is disabled in tests (loopback only)")


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any real network call fails: sockets connect to loopback only, and model adapters refuse
    non-loopback base URLs (FINOPS_ALLOW_MODEL_REQUESTS=0, inherited by subprocesses)."""
    real_connect, real_connect_ex = _socket.socket.connect, _socket.socket.connect_ex
    real_getaddrinfo = _socket.getaddrinfo

    def connect(self: _socket.socket, address: object) -> None:
        _loopback_only(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: _socket.socket, address: object) -> int:
        _loopback_only(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None:
            _loopback_only((host.decode() if isinstance(host, bytes) else str(host), 0))
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_socket.socket, "connect", connect)
    monkeypatch.setattr(_socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(_socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setenv("FINOPS_ALLOW_MODEL_REQUESTS", "0")
    yield


@pytest.fixture(scope="session")
def eval_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of prepared homes (demo org, FOCUS sample) shared by the whole session."""
    return tmp_path_factory.mktemp("eval-homes")


@pytest.fixture(scope="session")
def demo_home(eval_root: Path) -> Path:
    """A home with the demo org (seed 42, small) loaded once per session. Treat it as read-only."""
    from evals.text2sql.runner import prepare_home

    return prepare_home("demo", eval_root)


@pytest.fixture(scope="session")
def sample_home(eval_root: Path) -> Path:
    """A home with the official FOCUS 1.0 sample loaded once per session. Treat it as read-only."""
    from evals.text2sql.runner import prepare_home

    return prepare_home("focus_sample", eval_root)
