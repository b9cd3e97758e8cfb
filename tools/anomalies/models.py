"""Pydantic models of detection input and output (shared by the tool, the CLI, evals and explain)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["low", "medium", "high", "critical"]


class Contributor(BaseModel):
    """One resource x usage type that explains part of an anomaly's delta."""

    resource_id: str
    resource_name: str = ""
    usage_type: str | None = None
    service: str | None = None
    account: str | None = None
    region: str | None = None
    team: str | None = None
    delta_usd: float = Field(description="actual - expected over the anomaly window")


class Anomaly(BaseModel):
    """A detected cost anomaly, reported once at its most specific dimension."""

    id: str = Field(description="stable fingerprint of dimension, value, onset and direction")
    start: dt.date
    end: dt.date
    days: int
    ongoing: bool = Field(description="still anomalous on the last settled day")
    provisional: bool = Field(default=False, description="starts in the unsettled billing-lag days")
    persisting: bool = Field(
        default=False, description="still at the new level after `end`: accepted as the new normal after 28 days"
    )
    direction: Literal["up", "down"]
    dimension: str = Field(description="where it is reported, e.g. ResourceId, ServiceName, tag:team")
    key: str = Field(description="the value of that dimension")
    dimensions: dict[str, str] = Field(description="the dimension plus attributes its contributors share")
    context: list[str] = Field(default_factory=list, description="parent series that moved with it")
    expected_usd: float
    expected_low_usd: float
    expected_high_usd: float
    actual_usd: float
    impact_usd: float = Field(description="actual - expected over the window")
    impact_per_day_usd: float
    severity: Severity
    calendar: list[str] = Field(default_factory=list, description="calendar events/holidays in the window")
    top_contributors: list[Contributor] = Field(default_factory=list)


class DetectOptions(BaseModel):
    """Detection knobs; defaults are the tuned production settings."""

    since: dt.date | None = Field(default=None, description="report anomalies starting on/after (default: 30 days)")
    until: dt.date | None = None
    method: Literal["seasonal", "zscore28"] = "seasonal"
    k: float = 4.0
    min_pct: float = 0.2
    min_daily_usd: float | None = Field(default=None, description="minimum $/day impact (default: auto)")
    lag_days: int = Field(default=2, description="last days of data treated as unsettled (provisional)")
    dimensions: list[str] | None = None
    country: str | None = None
    use_calendar: bool = True


class DetectResult(BaseModel):
    """Detection output."""

    anomalies: list[Anomaly]
    provisional: list[Anomaly] = Field(default_factory=list)
    announced: list[Anomaly] = Field(
        default_factory=list, description="changes starting on an announced calendar event (no stated effect)"
    )
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    settled_through: dt.date | None = None
    since: dt.date | None = None
    series: int = 0
    min_daily_usd: float = 0.0
