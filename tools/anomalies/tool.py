"""The ``anomalies`` tool: detection results for the agent and the MCP server (bounded output)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from tools.anomalies import DetectOptions, detect
from tools.anomalies.models import Anomaly
from tools.context import ToolContext
from tools.registry import tool


class AnomaliesIn(BaseModel):
    since: dt.date | None = Field(default=None, description="first onset day to report (default: last 30 days)")
    until: dt.date | None = Field(default=None, description="last onset day to report")
    dimension: str | None = Field(
        default=None, description="only anomalies reported at this dimension, e.g. ServiceName, tag:team"
    )
    limit: int = Field(default=20, ge=1, le=100)


class AnomaliesOut(BaseModel):
    anomalies: list[Anomaly]
    provisional: list[Anomaly] = Field(description="started in unsettled billing days; may change")
    settled_through: dt.date | None
    since: dt.date | None
    total: int


@tool(name="anomalies", title="Cost anomalies")
def anomalies(ctx: ToolContext, args: AnomaliesIn) -> AnomaliesOut:
    """Detect cost anomalies in daily EffectiveCost (weekday- and calendar-aware robust baseline).
    Each anomaly is reported once at its most specific dimension with expected vs actual USD, impact
    per day, severity and the resources that explain it. Use explain_anomaly with an id for causes."""
    found = detect(ctx, DetectOptions(since=args.since, until=args.until))
    keep = [a for a in found.anomalies if args.dimension in (None, a.dimension)]
    for a in keep:
        a.top_contributors = a.top_contributors[:5]
    return AnomaliesOut(
        anomalies=keep[: args.limit],
        provisional=found.provisional[:5],
        settled_through=found.settled_through,
        since=found.since,
        total=len(keep),
    )
