"""Ground truth for evals (manifest.json) and the company calendar (calendar.yaml).

Incident sizes are measured, not declared: the org is rebuilt without the incident and the daily
EffectiveCost difference over the incident window is the planted delta.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tools.billing.demo.gitrepo import RepoHistory
from tools.billing.demo.model import Resource
from tools.billing.demo.org import Org, build_org
from tools.billing.demo.rhythm import Rhythm, build_rhythm
from tools.billing.demo.spec import CalendarEvent, DemoSpec, IncidentSpec
from tools.billing.demo.usage import Usage, compute_usage

CAUSES = {
    "asg_min_size": ("cloudtrail", "Auto Scaling group web-prod min size raised 2 -> {size:.0f}"),
    "gpu_endpoint": (
        "cloudtrail",
        "GPU SageMaker endpoint recsys-llm-rerank-exp (ml.g5.12xlarge) created from a notebook and never deleted",
    ),
    "rds_resize": ("cloudtrail", "RDS ledger-prod-db resized db.r6g.2xlarge -> db.r6g.8xlarge"),
    "agent_loop": (
        "git",
        "support-assistant max_agent_iterations 8 -> 80 with blind retries: runaway agent loop "
        "multiplies Claude token spend",
    ),
    "nat_egress": ("git", "search-indexer fetches embeddings from an external API through the NAT gateway"),
}


def _by_resource(usage: Usage) -> dict[str, tuple[np.ndarray, str, str]]:
    out: dict[str, tuple[np.ndarray, str, str]] = {}
    for (res, m), row in zip(usage.lines, usage.effective, strict=True):
        prev = out.get(res.rid)
        total = row if prev is None else prev[0] + row
        out[res.rid] = (total, m.service, res.account.id)
    return out


def _delta(spec: DemoSpec, base: Usage, other: Usage, start: int, end: int) -> dict[str, Any]:
    """Daily delta and the resources that explain it, between two builds of the org."""
    a, b = _by_resource(base), _by_resource(other)
    n = base.effective.shape[1]
    zero = np.zeros(n)
    changed: dict[str, float] = {}
    services: dict[str, float] = defaultdict(float)
    accounts: dict[str, float] = defaultdict(float)
    for rid in sorted(set(a) | set(b)):
        va = a[rid][0] if rid in a else zero
        vb = b[rid][0] if rid in b else zero
        diff = float((va - vb)[start:end].sum())
        if abs(diff) > 0.5:
            changed[rid] = diff
            meta = a.get(rid) or b[rid]
            services[meta[1]] += diff
            accounts[meta[2]] += diff
    days = max(end - start, 1)
    total = float((base.daily_effective() - other.daily_effective())[start:end].sum())
    from tools.billing.demo.catalogue import SERVICES

    top_service = max(services, key=lambda k: abs(services[k])) if services else None
    return {
        "daily_delta_usd": round(total / days, 2),
        "total_delta_usd": round(total, 2),
        "dimensions": {
            "ServiceName": SERVICES[top_service].name if top_service else None,
            "SubAccountId": max(accounts, key=lambda k: abs(accounts[k])) if accounts else None,
            "ResourceId": sorted(changed, key=lambda k: -abs(changed[k])),
        },
    }


def _window(spec: DemoSpec, start: date, end: date | None) -> tuple[int, int]:
    last = end or spec.last_day
    return (start - spec.first_day).days, (last - spec.first_day).days + 1


def _rebuild(spec: DemoSpec, rhythm: Rhythm | None = None) -> Usage:
    """The org's usage under another spec (the rhythm is reused when the calendar is unchanged)."""
    return compute_usage(build_org(spec, rhythm or build_rhythm(spec)))


def incident_truth(
    org: Org, usage: Usage, repo: RepoHistory, records: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    spec = org.spec
    out = []
    commits = repo.tagged()
    for inc in spec.incident_list:
        without = replace(spec, incidents=tuple(i for i in spec.incident_list if i.id != inc.id))
        s, e = _window(spec, inc.start, inc.end)
        item: dict[str, Any] = {
            "id": inc.id,
            "kind": inc.kind,
            "start": inc.start.isoformat(),
            "end": inc.end.isoformat() if inc.end else None,
            "is_anomaly": True,
        }
        item.update(_delta(spec, usage, _rebuild(without, org.rhythm), s, e))
        item["cause"] = _cause(inc, records, commits)
        commit = commits.get(inc.kind)
        item["commit"] = (
            {
                "sha": commit.sha,
                "message": commit.message.splitlines()[0],
                "path": next(iter(commit.files)),
                "author": f"{commit.author}@acme.example",
                "time": _iso(commit.when),
            }
            if commit
            else None
        )
        related = [
            {"source": "cloudtrail", "ref": r["eventID"], "event_name": r["eventName"], "tag": t}
            for t, r in sorted(records.items())
            if t.startswith(inc.kind + ":")
        ]
        related += [
            {"source": "git", "ref": c.sha, "message": c.message.splitlines()[0], "tag": t}
            for t, c in sorted(commits.items())
            if t.startswith(inc.kind + ":")
        ]
        item["related"] = related
        item["decoys"] = [
            {"source": "cloudtrail", "ref": r["eventID"], "event_name": r["eventName"]}
            for t, r in sorted(records.items())
            if t.startswith(f"decoy:{inc.kind}")
        ]
        item["decoys"] += [
            {"source": "git", "ref": c.sha, "message": c.message.splitlines()[0]}
            for t, c in sorted(commits.items())
            if t.startswith(f"decoy:{inc.kind}")
        ]
        out.append(item)
    out += calendar_truth(org, usage)
    return out


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cause(inc: IncidentSpec, records: dict[str, dict[str, Any]], commits: dict[str, Any]) -> dict[str, Any]:
    source, summary = CAUSES[inc.kind]
    summary = summary.format(size=inc.size)
    if inc.kind == "gpu_endpoint":
        rec = next(
            (
                r
                for t, r in records.items()
                if t.startswith("create:")
                and r["eventName"] == "CreateEndpoint"
                and r["requestParameters"]["endpointName"] == "recsys-llm-rerank-exp"
            ),
            None,
        )
    else:
        rec = records.get(inc.kind)
    if source == "cloudtrail" and rec is not None:
        arn = rec["userIdentity"]["arn"]
        return {
            "source": "cloudtrail",
            "ref": rec["eventID"],
            "event_name": rec["eventName"],
            "actor": arn.rsplit("/", 1)[-1],
            "actor_arn": arn,
            "time": rec["eventTime"],
            "summary": summary,
        }
    commit = commits.get(inc.kind)
    if commit is None:
        return {"source": source, "ref": None, "event_name": None, "actor": None, "time": None, "summary": summary}
    return {
        "source": "git",
        "ref": commit.sha,
        "event_name": "commit",
        "actor": f"{commit.author}@acme.example",
        "time": _iso(commit.when),
        "summary": summary,
    }


def calendar_truth(org: Org, usage: Usage) -> list[dict[str, Any]]:
    """Announced events: real cost changes that are NOT anomalies."""
    spec = org.spec
    out = []
    for ev in spec.calendar_events:
        if ev.end < spec.first_day or ev.start > spec.last_day:
            continue
        s, e = _window(spec, max(ev.start, spec.first_day), min(ev.end, spec.last_day))
        item: dict[str, Any] = {
            "id": f"calendar-{ev.name.split()[0].lower()}-{ev.start:%Y}",
            "kind": "calendar_surge" if ev.traffic != 1.0 else "launch",
            "start": ev.start.isoformat(),
            "end": ev.end.isoformat(),
            "is_anomaly": False,
        }
        if ev.traffic != 1.0:
            others = tuple(x for x in spec.calendar_events if x != ev)
            item.update(_delta(spec, usage, _rebuild(replace(spec, calendar_events=others)), s, e))
        else:
            eu = [
                (res, row)
                for (res, _), row in zip(usage.lines, usage.effective, strict=True)
                if res.region == "eu-west-1"
            ]
            daily = sum((row for _, row in eu), np.zeros(usage.effective.shape[1]))
            item.update(
                {
                    "daily_delta_usd": round(float(daily[s:].mean()), 2),
                    "total_delta_usd": None,
                    "dimensions": {"RegionId": "eu-west-1", "ResourceId": sorted({res.rid for res, _ in eu})},
                }
            )
        item["cause"] = {
            "source": "calendar",
            "ref": ev.name,
            "event_name": None,
            "actor": None,
            "time": ev.start.isoformat(),
            "summary": f"announced in calendar.yaml: {ev.name}",
        }
        item["commit"] = None
        item["related"] = []
        item["decoys"] = []
        out.append(item)
    return out


def hints(res: Resource) -> list[str]:
    out = [f"name:{res.name}"]
    if res.account.team:
        out.append(f"account:{res.account.name} (team {res.account.team})")
    else:
        out.append(f"account:{res.account.name} (shared)")
    if res.account.provider == "aws":
        team = res.creator.team
        out.append(f"creator:{res.creator.label}" + (f" (team {team})" if team else ""))
    if res.iac_path:
        out.append(f"iac:{res.iac_path}")
    return out


def untagged_truth(org: Org) -> list[dict[str, Any]]:
    return [
        {
            "resource_id": r.rid,
            "resource_name": r.name,
            "provider": r.account.provider,
            "tag_state": r.tag_state,
            "tags_present": dict(r.tags),
            "true_tags": dict(r.true_tags),
            "ambiguous": r.ambiguous,
            "hints": hints(r),
        }
        for r in org.resources
        if r.tag_state != "full"
    ]


def calendar_doc(events: tuple[CalendarEvent, ...]) -> dict[str, Any]:
    items = []
    for ev in events:
        item: dict[str, Any] = {"name": ev.name, "start": ev.start, "end": ev.end, "repeat": ev.repeat}
        if ev.effect:
            item["effect"] = ev.effect
        items.append(item)
    return {"events": items}


def write_calendar(events: tuple[CalendarEvent, ...], path: Path) -> None:
    import yaml

    header = (
        "# Acme company calendar: sales, launches and other events that move spend.\n"
        "# Format: events: [{name, start, end, repeat: yearly|none, effect: '+40%' (optional)}]\n"
    )
    path.write_text(header + yaml.safe_dump(calendar_doc(events), sort_keys=False), encoding="utf-8")


def manifest(org: Org, usage: Usage, repo: RepoHistory, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec = org.spec
    return {
        "seed": spec.seed,
        "scale": spec.scale,
        "first_day": spec.first_day.isoformat(),
        "last_day": spec.last_day.isoformat(),
        "note": "ground truth for evals only; features must not read it",
        "incidents": incident_truth(org, usage, repo, records),
        "calendar_events": [
            {**e, "start": e["start"].isoformat(), "end": e["end"].isoformat()}
            for e in calendar_doc(spec.calendar_events)["events"]
        ],
        "holidays": {d.isoformat(): n for d, n in org.rhythm.holiday_names.items()},
        "untagged_resources": untagged_truth(org),
        "resources": len(org.resources),
        "savings_plan": {"hourly_commitment_usd": round(usage.sp_commit_daily / 24, 2)},
        "evidence_start": (spec.first_day - timedelta(days=(spec.first_day - date(2025, 9, 1)).days)).isoformat(),
    }
