"""A small real home for front-end tests: 60 days of FOCUS rows ingested into DuckDB with the real ingest."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from tests.conftest import FOCUS_HEADER, focus_row
from tools.context import ToolContext

SERVICES = {
    "Amazon Elastic Compute Cloud": ("Compute", 120.0),
    "Amazon Simple Storage Service": ("Storage", 35.5),
    "Amazon Relational Database Service": ("Databases", 80.25),
}
TEAMS = ("web", "data")
FIRST_DAY = dt.date(2026, 9, 1)
DAYS = 60


def write_focus_csv(path: Path, days: int = DAYS, scale: float = 1.0) -> Path:
    """Daily rows for three services and two teams; costs grow slightly with the day."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FOCUS_HEADER, extrasaction="ignore")
        writer.writeheader()
        for i in range(days):
            day = FIRST_DAY + dt.timedelta(days=i)
            month = day.replace(day=1)
            next_month = (month + dt.timedelta(days=32)).replace(day=1)
            for service, (category, base) in SERVICES.items():
                for t, team in enumerate(TEAMS):
                    cost = round((base + i * 0.5 + t * 10) * scale, 6)
                    writer.writerow(
                        focus_row(
                            BillingPeriodStart=f"{month}T00:00:00Z",
                            BillingPeriodEnd=f"{next_month}T00:00:00Z",
                            ChargePeriodStart=f"{day}T00:00:00Z",
                            ChargePeriodEnd=f"{day + dt.timedelta(days=1)}T00:00:00Z",
                            ServiceName=service,
                            ServiceCategory=category,
                            BilledCost=str(cost),
                            EffectiveCost=str(cost),
                            ListCost=str(round(cost * 1.2, 6)),
                            ContractedCost=str(cost),
                            ResourceId=f"{category.lower()}-{team}",
                            ResourceName=f"{team}-{category.lower()}",
                            Tags=json.dumps({"team": team, "env": "prod"}),
                        )
                    )
    return path


def make_home(root: Path, days: int = DAYS) -> ToolContext:
    """A home with the fixture loaded through the real ingest."""
    from tools.billing.ingest import ingest_paths

    ctx = ToolContext(home=root / "home")
    ingest_paths(ctx, [write_focus_csv(root / "files" / "focus.csv", days)])
    return ctx
