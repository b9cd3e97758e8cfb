"""The Slack digest of anomalies: routed to owner channels by team tag, with the agent's own cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.anomalies.models import Anomaly

DEFAULT_ROUTE = "(default)"


@dataclass
class Route:
    """Anomalies going to one channel (``None`` means the configured default channel / webhook)."""

    channel: str | None
    team: str
    anomalies: list[Anomaly] = field(default_factory=list)


def owner_team(anomaly: Anomaly) -> str | None:
    """The team that owns an anomaly: its team tag, else the team carrying most of the delta."""
    if "tag:team" in anomaly.dimensions:
        return anomaly.dimensions["tag:team"]
    weight: dict[str, float] = {}
    for c in anomaly.top_contributors:
        if c.team:
            weight[c.team] = weight.get(c.team, 0.0) + abs(c.delta_usd)
    return max(weight, key=lambda k: weight[k]) if weight else None


def route(anomalies: list[Anomaly], team_channels: dict[str, str], default: str | None) -> list[Route]:
    """Group anomalies by destination channel (team -> channel map, else the default)."""
    routes: dict[str | None, Route] = {}
    for a in anomalies:
        team = owner_team(a)
        channel = team_channels.get(team, default) if team else default
        r = routes.setdefault(channel, Route(channel, team or DEFAULT_ROUTE))
        if team and r.team != team and team not in r.team.split(", "):
            r.team = f"{r.team}, {team}" if r.team != DEFAULT_ROUTE else team
        r.anomalies.append(a)
    return list(routes.values())


def _usd(value: float) -> str:
    sign = "-" if value < 0 else "+"
    return f"{sign}${abs(value):,.0f}" if abs(value) >= 100 else f"{sign}${abs(value):,.2f}"


def sections(anomalies: list[Anomaly], narratives: dict[str, str]) -> list[tuple[str, str]]:
    """One (heading, body) per anomaly, largest impact first."""
    from tools.explain import label

    out = []
    for a in sorted(anomalies, key=lambda x: -abs(x.impact_usd)):
        head = f"{a.severity.upper()} · {label(a)} · {_usd(a.impact_per_day_usd)}/day since {a.start}"
        body = narratives.get(a.id) or (
            f"Expected ${a.expected_usd:,.0f}, actual ${a.actual_usd:,.0f} over {a.days} day(s)."
        )
        out.append((head, f"{body}\nid {a.id}"))
    return out


def blocks(
    anomalies: list[Anomaly], narratives: dict[str, str], *, team: str, cost_usd: float, llm_calls: int
) -> tuple[list[dict[str, Any]], str]:
    """Block Kit blocks and the fallback text for one channel's digest."""
    from tools.notify import build_digest_blocks

    total = sum(a.impact_usd for a in anomalies)
    title = f"Cost anomalies for {team}: {len(anomalies)} ({_usd(total)} total impact)"
    footer = f"finops-agent · producing this digest cost ${cost_usd:.4f}" + (
        f" ({llm_calls} LLM call{'s' if llm_calls != 1 else ''})" if llm_calls else " (offline narrative)"
    )
    return build_digest_blocks(title, sections(anomalies, narratives), footer=footer), title
