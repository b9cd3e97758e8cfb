"""The review queue under ``ctx.policies_dir``: ``pending/``, ``approved/``, ``rejected/`` + history.

Files are written to a temporary name and ``os.replace``d, so a reader never sees half a policy.
The same policies (by content) always get the same id and file, so proposing twice is a no-op.
Approve and reject move a file between folders atomically; neither applies anything.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.errors import BadInput
from tools.policies.models import PolicyFile
from tools.policies.render import render_yaml, review_commands
from tools.policies.validate import validate_policy_data

Status = Literal["pending", "approved", "rejected"]
STATUSES: tuple[Status, ...] = ("pending", "approved", "rejected")
HISTORY = "history.jsonl"
MAILER_QUEUE_ENV = "FINOPS_C7N_MAILER_QUEUE"


class PolicySummary(BaseModel):
    """One queued file as the list shows it."""

    id: str
    status: Status
    path: str
    title: str
    created_at: str
    run_id: str
    source: str
    confidence: float
    monthly_impact_usd: float | None
    policies: int
    resources: int
    actions: list[str]
    accounts: list[str]
    regions: list[str]


class HistoryEvent(BaseModel):
    at: str
    id: str
    event: Literal["proposed", "approved", "rejected"]
    reason: str | None = None
    run_id: str | None = None


class PolicyDetail(BaseModel):
    summary: PolicySummary
    text: str
    history: list[HistoryEvent] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)


def mailer_queue(ctx: ToolContext) -> str | None:
    """The org's c7n-mailer SQS queue URL (extra ``c7n_mailer_queue`` or $FINOPS_C7N_MAILER_QUEUE)."""
    value = ctx.extra.get("c7n_mailer_queue") or os.environ.get(MAILER_QUEUE_ENV)
    return str(value) if value else None


def _dir(ctx: ToolContext, status: Status) -> Path:
    return ctx.policies_dir / status


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".yml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _log(ctx: ToolContext, event: HistoryEvent) -> None:
    ctx.policies_dir.mkdir(parents=True, exist_ok=True)
    with (ctx.policies_dir / HISTORY).open("a", encoding="utf-8") as fh:
        fh.write(event.model_dump_json(exclude_none=True) + "\n")


def locate(ctx: ToolContext, policy_id: str) -> tuple[Status, Path] | None:
    """Where a policy id lives (exact id, or a unique prefix of at least 6 characters)."""
    matches: list[tuple[Status, Path]] = []
    for status in STATUSES:
        folder = _dir(ctx, status)
        exact = folder / f"{policy_id}.yml"
        if exact.is_file():
            return status, exact
        if len(policy_id) >= 6 and folder.is_dir():
            matches += [(status, p) for p in folder.glob(f"{policy_id}*.yml")]
    return matches[0] if len(matches) == 1 else None


def _require(ctx: ToolContext, policy_id: str) -> tuple[Status, Path]:
    found = locate(ctx, policy_id)
    if found is None:
        raise BadInput(f"no policy {policy_id!r} in {ctx.policies_dir}; see `finops policies list`")
    return found


def propose(ctx: ToolContext, policy: PolicyFile) -> Path:
    """Validate (allow-list + c7n) and queue ``policy`` as pending; return its path.

    Proposing the same policies again returns the existing file, whatever its status.
    """
    pid = policy.policy_id()
    existing = locate(ctx, pid)
    if existing is not None:
        return existing[1]
    data = policy.to_custodian()
    validate_policy_data(data, mailer_queue(ctx))
    path = _dir(ctx, "pending") / f"{pid}.yml"
    _atomic_write(path, render_yaml(policy, path, data))
    _log(ctx, HistoryEvent(at=_now(), id=pid, event="proposed", run_id=policy.run_id))
    return path


def read_policy_data(path: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("policies"), list):
        raise BadInput(f"{path} is not a policy file")
    return data


def summarize(status: Status, path: Path) -> PolicySummary:
    data = read_policy_data(path)
    pols = data["policies"]
    meta = (pols[0].get("metadata") or {}).get("finops", {}) if pols else {}
    conds = [{c["key"]: c["value"] for c in p.get("conditions", [])} for p in pols]
    return PolicySummary(
        id=str(meta.get("id", path.stem)),
        status=status,
        path=str(path),
        title=str(meta.get("title", "")),
        created_at=str(meta.get("created_at", "")),
        run_id=str(meta.get("run_id", "")),
        source=str(meta.get("source", "")),
        confidence=float(meta.get("confidence", 0.0)),
        monthly_impact_usd=meta.get("monthly_impact_usd"),
        policies=len(pols),
        resources=sum(len(p["filters"][0]["value"]) for p in pols),
        actions=sorted({a["type"] for p in pols for a in p["actions"]}),
        accounts=sorted({c.get("account_id", "") for c in conds}),
        regions=sorted({c.get("region", "") for c in conds}),
    )


def list_policies(ctx: ToolContext, status: Status | None = None) -> list[PolicySummary]:
    """Queued files, newest first, optionally only one status."""
    out: list[PolicySummary] = []
    for st in STATUSES if status is None else (status,):
        folder = _dir(ctx, st)
        if folder.is_dir():
            out += [summarize(st, p) for p in sorted(folder.glob("fin-*.yml"))]
    return sorted(out, key=lambda s: (s.created_at, s.id), reverse=True)


def history(ctx: ToolContext, policy_id: str | None = None) -> list[HistoryEvent]:
    path = ctx.policies_dir / HISTORY
    if not path.is_file():
        return []
    events = [HistoryEvent.model_validate_json(line) for line in path.read_text("utf-8").splitlines() if line]
    return [e for e in events if policy_id is None or e.id == policy_id]


def _commands(path: Path, summary: PolicySummary) -> list[str]:
    return review_commands(path, summary.regions)


def show(ctx: ToolContext, policy_id: str) -> PolicyDetail:
    """The file text, its status, its history and the review commands."""
    status, path = _require(ctx, policy_id)
    summary = summarize(status, path)
    return PolicyDetail(
        summary=summary,
        text=path.read_text(encoding="utf-8"),
        history=history(ctx, summary.id),
        commands=_commands(path, summary),
    )


def _move(ctx: ToolContext, path: Path, to: Status) -> Path:
    target = _dir(ctx, to) / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def approve(ctx: ToolContext, policy_id: str, reason: str | None = None) -> PolicyDetail:
    """Move a pending file to approved/ and return the custodian commands; applies nothing.

    ``reason`` (optional) is kept in the history beside the approval."""
    status, path = _require(ctx, policy_id)
    if status == "rejected":
        raise BadInput(f"policy {path.stem} was rejected; it cannot be approved (propose a new one)")
    if status == "pending":
        validate_policy_data(read_policy_data(path), mailer_queue(ctx))  # still valid as written on disk
        path = _move(ctx, path, "approved")
        note = " ".join(reason.split())[:500] if reason and reason.strip() else None
        _log(ctx, HistoryEvent(at=_now(), id=path.stem, event="approved", reason=note))
    return show(ctx, path.stem)


def reject(ctx: ToolContext, policy_id: str, reason: str) -> PolicyDetail:
    """Move a pending file to rejected/ with a reason; its resources are never re-proposed for it."""
    if not reason.strip():
        raise BadInput("a rejection needs --reason TEXT")
    status, path = _require(ctx, policy_id)
    if status == "approved":
        raise BadInput(f"policy {path.stem} is already approved; remove it from approved/ by hand")
    if status == "pending":
        path = _move(ctx, path, "rejected")
        _log(
            ctx,
            HistoryEvent(at=_now(), id=path.stem, event="rejected", reason=" ".join(reason.split())[:500]),
        )
    return show(ctx, path.stem)


def tagged_targets(ctx: ToolContext, status: Status) -> set[tuple[str, str, str]]:
    """(kind, resource id, tag key) for every tag action in files of ``status`` (for re-proposal checks)."""
    out: set[tuple[str, str, str]] = set()
    for s in list_policies(ctx, status):
        for pol in read_policy_data(Path(s.path))["policies"]:
            kind = str(pol["resource"]).removeprefix("aws.")
            keys = [k for a in pol["actions"] if a["type"] == "tag" for k in a["tags"]]
            out |= {(kind, rid, key) for rid in pol["filters"][0]["value"] for key in keys}
    return out
