"""Scoring detected anomalies against ground-truth incidents (incident level)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tools.anomalies.models import Anomaly

SLACK_DAYS = 1


@dataclass
class Truth:
    """One ground-truth incident (from the synthetic org or the demo's manifest.json)."""

    id: str
    start: dt.date
    end: dt.date
    is_anomaly: bool
    dimensions: dict[str, str]
    cause_ref: str | None = None
    kind: str = ""


@dataclass
class Tally:
    """Counts across cases."""

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    calendar_false: int = 0
    explained: int = 0
    explained_right: int = 0
    misses: list[str] = field(default_factory=list)
    false_alerts: list[str] = field(default_factory=list)
    wrong_causes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("true_pos", "false_pos", "false_neg", "calendar_false", "explained", "explained_right"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses += other.misses
        self.false_alerts += other.false_alerts
        self.wrong_causes += other.wrong_causes

    def summary(self) -> dict[str, Any]:
        p = self.true_pos / max(self.true_pos + self.false_pos, 1)
        r = self.true_pos / max(self.true_pos + self.false_neg, 1)
        f1 = 2 * p * r / max(p + r, 1e-9)
        return {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f1, 3),
            "true_positives": self.true_pos,
            "false_alerts": self.false_pos,
            "missed": self.false_neg,
            "false_alerts_on_calendar_events": self.calendar_false,
            "root_cause_top1": round(self.explained_right / max(self.explained, 1), 3),
            "root_cause_cases": self.explained,
        }


def _names(a: Anomaly) -> set[str]:
    out = {v for v in a.dimensions.values()} | {a.key}
    for c in a.top_contributors:
        out |= {c.resource_id, c.resource_name}
    out |= {c.split("=", 1)[1] for c in a.context if "=" in c}
    return {v for v in out if v}


def matches(a: Anomaly, t: Truth) -> bool:
    """Same incident: windows overlap (1 day slack) and a ground-truth dimension value is named."""
    if a.start > t.end + dt.timedelta(days=SLACK_DAYS) or a.end < t.start - dt.timedelta(days=SLACK_DAYS):
        return False
    names = _names(a)
    return any(value in names or any(n.startswith(value + "-") for n in names) for value in t.dimensions.values())


def score(
    found: list[Anomaly],
    truth: list[Truth],
    calendar_days: set[dt.date],
    top_refs: dict[str, str | None] | None = None,
) -> Tally:
    """Tally one case. ``top_refs`` maps anomaly id -> the ref of its top-ranked explanation."""
    tally = Tally()
    hit: set[str] = set()
    for a in found:
        real = [t for t in truth if t.is_anomaly and matches(a, t)]
        if real and all(t.id in hit for t in real):
            tally.false_pos += 1
            tally.false_alerts.append(f"duplicate {a.dimension}={a.key} {a.start}")
            continue
        if real:
            tally.true_pos += 1
            for t in real:
                if t.id not in hit and top_refs is not None and t.cause_ref:
                    tally.explained += 1
                    right = top_refs.get(a.id) == t.cause_ref
                    tally.explained_right += int(right)
                    if not right:
                        tally.wrong_causes.append(f"{t.kind} {t.start}: top {top_refs.get(a.id)} != {t.cause_ref}")
                hit.add(t.id)
            continue
        tally.false_pos += 1
        tally.false_alerts.append(f"{a.dimension}={a.key} {a.start}..{a.end} {a.impact_per_day_usd:+.0f}/d")
        window = {a.start + dt.timedelta(days=i) for i in range(a.days)}
        if window & calendar_days:
            tally.calendar_false += 1
    for t in truth:
        if t.is_anomaly and t.id not in hit:
            tally.false_neg += 1
            tally.misses.append(f"{t.kind} {t.dimensions} {t.start}..{t.end}")
    return tally
