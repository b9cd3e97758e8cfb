"""The weekly tagging run: idempotent per ISO week, a diff vs last week, policies, a Slack summary.

One state file per ISO week under ``<home>/tagging/weekly/<YYYY-Www>.json``. If this week's file
exists, the run returns it and does nothing new. Otherwise it computes every missing (resource, key),
compares with the previous week (new, changed, resolved, still pending, rejected before), queues tag
policies only for new or changed suggestions that no pending, approved or rejected policy already
covers (a rejected one is never re-proposed), posts a digest through :mod:`tools.notify` (dedupe key
= the week), and writes the state file last (atomically), with the run's LLM cost.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.tagging.suggest import (
    DEFAULT_MIN_CONFIDENCE,
    Analysis,
    Coverage,
    Refiner,
    TagSuggestion,
    analyse,
    coverage,
    new_run_id,
)

ItemStatus = Literal["new", "changed", "still_pending", "rejected_before", "below_confidence", "not_targetable"]
TOP_IN_DIGEST = 10


class WeeklyItem(BaseModel):
    resource_id: str
    key: str
    value: str
    confidence: float
    monthly_cost: float
    fingerprint: str
    status: ItemStatus
    resource_name: str = ""


class SlackOutcome(BaseModel):
    status: str
    message: str = ""


class WeeklyRun(BaseModel):
    """What one weekly run found and did (also the state file's content)."""

    week: str
    run_id: str
    ran_at: str
    already_ran: bool = False
    items: list[WeeklyItem] = Field(default_factory=list)
    resolved: list[str] = Field(default_factory=list)  # "resource_id|key" fixed since last week
    previous_week: str | None = None
    policies: list[str] = Field(default_factory=list)
    coverage: Coverage
    slack: SlackOutcome | None = None
    llm_cost_usd: float = 0.0
    llm_calls: int = 0
    notes: list[str] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.status] = out.get(item.status, 0) + 1
        out["resolved"] = len(self.resolved)
        return out


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_run_id(week: str) -> str:
    """The run id; also the ledger session id of the run's LLM calls (``finops usage`` groups by it)."""
    return new_run_id(f"tags-weekly-{week}")


def state_dir(ctx: ToolContext) -> Path:
    return ctx.home / "tagging" / "weekly"


def fingerprint(s: TagSuggestion) -> str:
    doc = [s.resource_id, s.key, s.value, s.resource_name, s.account_id, s.region]
    return hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:16]


def load_run(path: Path) -> WeeklyRun:
    return WeeklyRun.model_validate_json(path.read_text(encoding="utf-8"))


def previous_run(ctx: ToolContext, week: str) -> WeeklyRun | None:
    folder = state_dir(ctx)
    earlier = sorted(p for p in folder.glob("*-W*.json") if p.stem < week) if folder.is_dir() else []
    return load_run(earlier[-1]) if earlier else None


def _save(ctx: ToolContext, run: WeeklyRun) -> Path:
    folder = state_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.week}.json"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(run.model_dump_json(indent=1))
    os.replace(tmp, path)
    return path


def classify(
    ctx: ToolContext, candidates: list[TagSuggestion], previous: WeeklyRun | None, min_confidence: float
) -> tuple[list[WeeklyItem], list[TagSuggestion]]:
    """Each missing (resource, key) with its status; and the suggestions to propose now."""
    from tools.policies.queue import tagged_targets
    from tools.tagging.policies import target

    rejected = tagged_targets(ctx, "rejected")
    queued = tagged_targets(ctx, "pending") | tagged_targets(ctx, "approved")
    before = {(i.resource_id, i.key): i for i in (previous.items if previous else [])}
    items: list[WeeklyItem] = []
    to_propose: list[TagSuggestion] = []
    for s in candidates:
        fp = fingerprint(s)
        ref = target(s)
        status: ItemStatus
        if s.confidence < min_confidence or s.new_value:
            status = "below_confidence"
        elif ref is None:
            status = "not_targetable"
        elif (ref.kind, ref.resource_id, s.key) in rejected:
            status = "rejected_before"
        elif (ref.kind, ref.resource_id, s.key) in queued:
            status = "still_pending"
        else:
            old = before.get((s.resource_id, s.key))
            status = "changed" if old is not None and old.fingerprint != fp else "new"
            to_propose.append(s)
        items.append(
            WeeklyItem(resource_id=s.resource_id, key=s.key, value=s.value, confidence=s.confidence,
                       monthly_cost=s.monthly_cost, fingerprint=fp, status=status, resource_name=s.resource_name)
        )  # fmt: skip
    return items, to_propose


def digest(run: WeeklyRun) -> tuple[str, list[tuple[str, str] | str]]:
    """Title and sections of the Slack summary."""
    c = run.counts()
    cov = run.coverage
    summary = (
        f"{c.get('new', 0)} new, {c.get('changed', 0)} changed, {c.get('still_pending', 0)} still pending, "
        f"{c['resolved']} resolved since {run.previous_week or 'the first run'}, "
        f"{c.get('rejected_before', 0)} rejected before (not re-proposed), "
        f"{c.get('below_confidence', 0)} below the confidence bar."
    )
    sections: list[tuple[str, str] | str] = [
        summary,
        ("Coverage", f"tagged cost share {cov.tagged_cost_share_now:.1%} now, "
                     f"{cov.tagged_cost_share_if_approved:.1%} if the queued policies are approved"),
    ]  # fmt: skip
    fresh = sorted((i for i in run.items if i.status in ("new", "changed")), key=lambda i: -i.monthly_cost)
    for item in fresh[:TOP_IN_DIGEST]:
        sections.append(
            f"{item.resource_name or item.resource_id}: {item.key}={item.value} "
            f"(confidence {item.confidence:.2f}, ${item.monthly_cost:,.2f}/month)"
        )
    if run.policies:
        names = ", ".join(Path(p).stem for p in run.policies)
        sections.append(("Review", f"`finops policies list` — {len(run.policies)} new policy file(s): {names}"))
    return f"Weekly tagging run {run.week}", sections


PostFn = Callable[[ToolContext, list[dict[str, Any]], str, list[str]], SlackOutcome]


def post_slack(ctx: ToolContext, blocks: list[dict[str, Any]], text: str, keys: list[str]) -> SlackOutcome:
    """Deliver through tools.notify (outbox + dedupe); a missing destination is reported, not raised."""
    from tools.errors import BadInput
    from tools.notify import post_digest

    try:
        result = post_digest(ctx, blocks, text, dedupe_keys=keys)
    except BadInput as exc:
        return SlackOutcome(status="skipped", message=str(exc))
    return SlackOutcome(status=result.status, message=result.message)


def run_weekly(
    ctx: ToolContext,
    *,
    today: date | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    refiner: Refiner | None = None,
    slack: bool = True,
    post: PostFn = post_slack,
    analysis: Analysis | None = None,
    llm_cost: Callable[[], tuple[float, int]] | None = None,
    run_id: str | None = None,
) -> WeeklyRun:
    """Run (or, if this ISO week already ran, return) the weekly tagging run."""
    from tools.notify import build_digest_blocks
    from tools.tagging.policies import propose_tag_policies

    week = iso_week(today or datetime.now(UTC).date())
    existing = state_dir(ctx) / f"{week}.json"
    if existing.is_file():
        return load_run(existing).model_copy(update={"already_ran": True})
    run_id = run_id or weekly_run_id(week)
    analysis = analysis or analyse(ctx)
    candidates = refiner(analysis.candidates, analysis) if refiner else analysis.candidates
    previous = previous_run(ctx, week)
    items, to_propose = classify(ctx, candidates, previous, min_confidence)
    paths, _ = propose_tag_policies(ctx, to_propose, run_id) if to_propose else ([], 0)
    now_missing = {(s.resource_id, s.key) for s in candidates}
    resolved = sorted(f"{i.resource_id}|{i.key}" for i in (previous.items if previous else [])
                      if (i.resource_id, i.key) not in now_missing)  # fmt: skip
    accepted = [s for s in candidates if s.confidence >= min_confidence and not s.new_value]
    cost, calls = llm_cost() if llm_cost else (0.0, 0)
    run = WeeklyRun(
        week=week, run_id=run_id, ran_at=datetime.now(UTC).isoformat(timespec="seconds"), items=items,
        resolved=resolved, previous_week=previous.week if previous else None, policies=[str(p) for p in paths],
        coverage=coverage(analysis, accepted), llm_cost_usd=cost, llm_calls=calls,
    )  # fmt: skip
    if slack:
        title, sections = digest(run)
        blocks = build_digest_blocks(title, sections, footer=f"run {run_id}")
        run.slack = post(ctx, blocks, f"{title}: {sections[0]}", [f"tags-weekly:{week}"])
    _save(ctx, run)
    return run
