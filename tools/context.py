"""What a tool needs to know about where it runs: paths and limits, nothing about front ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class QueryLimits:
    """Engine limits applied to every guarded query."""

    max_rows: int = 5_000
    max_chars: int = 200_000
    timeout_s: float = 30.0
    memory_limit: str = "2GB"
    threads: int = 2


@dataclass(frozen=True)
class ToolContext:
    """Everything the headless core needs; built by the agent from Settings.

    ``home`` holds the DuckDB file (billing data), the SQLite usage ledger, the policy review queue,
    the Slack outbox and the exported demo evidence.
    """

    home: Path
    limits: QueryLimits = field(default_factory=QueryLimits)
    calendar_path: Path | None = None
    country: str = "US"
    cloudtrail_dir: Path | None = None
    git_repo: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.home / "finops.duckdb"

    @property
    def ledger_path(self) -> Path:
        return self.home / "ledger.sqlite"

    @property
    def policies_dir(self) -> Path:
        return self.home / "policies"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"
