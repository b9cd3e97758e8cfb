"""Evidence about *why* spend changed: CloudTrail events, GitHub activity and local git commits.

The models here are the contract the anomaly explainer codes against:

- :class:`EvidenceItem` is one change that might explain a cost anomaly (an API call, a commit, a
  merged PR, a deployment), with the resource ids/names it touched and a short summary.
- :class:`SourceStatus` says how completely a source was read (pages, events, why it stopped).
- :class:`EvidenceReport` is what :func:`collect` returns.

All text taken from evidence (event fields, commit messages, PR titles) is **untrusted data**: it is
kept as data, truncated, and never interpreted. Callers must delimit it in any prompt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, field_validator

if TYPE_CHECKING:
    from tools.context import ToolContext
    from tools.evidence.aws import ReadOnlySession

Source = Literal["cloudtrail", "github", "git"]

MAX_FIELD_CHARS = 300
MAX_SUMMARY_CHARS = 400
MAX_DETAIL_CHARS = 1_000
MAX_IDS = 50


def clip(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Return ``text`` as a single-line string of at most ``limit`` characters (untrusted data)."""
    value = " ".join(str(text).split()) if text is not None else ""
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + "…"


def as_utc(value: datetime) -> datetime:
    """Interpret a naive datetime as UTC and convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class EvidenceItem(BaseModel):
    """One change found in an evidence source (an event, a commit, a PR, a deployment)."""

    source: Source
    ref: str = Field(description="CloudTrail eventID, commit sha, or PR/deployment/workflow-run URL")
    time: datetime = Field(description="When the change happened (UTC)")
    actor: str | None = None
    action: str = Field(description="API event name or commit subject")
    resource_ids: list[str] = Field(default_factory=list)
    resource_names: list[str] = Field(default_factory=list)
    account_id: str | None = None
    region: str | None = None
    service_hint: str | None = Field(default=None, description="e.g. 'ec2', 'autoscaling', 'sagemaker'")
    summary: str = ""
    details: dict[str, str] = Field(default_factory=dict)

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_validator("ref", "action", "actor", "account_id", "region", "service_hint")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        return None if value is None else clip(value, MAX_FIELD_CHARS)

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        return clip(value, MAX_SUMMARY_CHARS)

    @field_validator("resource_ids", "resource_names")
    @classmethod
    def _ids(cls, values: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for value in values:
            text = clip(value, MAX_FIELD_CHARS)
            if text:
                seen.setdefault(text, None)
        return list(seen)[:MAX_IDS]

    @field_validator("details")
    @classmethod
    def _details(cls, values: dict[str, str]) -> dict[str, str]:
        return {clip(k, 80): str(v)[:MAX_DETAIL_CHARS] for k, v in list(values.items())[:40]}


class SourceStatus(BaseModel):
    """How completely one evidence source was read."""

    source: str = Field(description="'cloudtrail-files', 'cloudtrail-api', 'github' or 'git'")
    complete: bool
    pages: int = 0
    events: int = 0
    message: str = ""


class EvidenceReport(BaseModel):
    """Evidence items (sorted by time) and one status per source that was asked for."""

    items: list[EvidenceItem] = Field(default_factory=list)
    statuses: list[SourceStatus] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(status.complete for status in self.statuses)


def collect(
    ctx: ToolContext,
    start: datetime,
    end: datetime,
    *,
    cloudtrail_dir: Path | str | None = None,
    cloudtrail_api: bool = False,
    git_repo: Path | str | None = None,
    github_repo: str | None = None,
    github_token: str | None = None,
    services: list[str] | None = None,
    accounts: list[str] | None = None,
    regions: list[str] | None = None,
    aws_session: ReadOnlySession | None = None,
    github_base_url: str | None = None,
) -> EvidenceReport:
    """Gather evidence in ``[start, end]`` from every configured source; never raises for a bad source.

    ``cloudtrail_dir`` (a directory of delivered log files or ``s3://bucket/prefix``) and ``git_repo``
    fall back to ``ctx.cloudtrail_dir`` / ``ctx.git_repo``. ``services`` are service names or usage
    types of the anomaly (they choose the LookupEvents event names); ``accounts`` limits CloudTrail
    to those account ids. A source that fails is reported in ``statuses`` with complete=False.
    """
    start, end = as_utc(start), as_utc(end)
    items: list[EvidenceItem] = []
    statuses: list[SourceStatus] = []
    ct_dir = cloudtrail_dir if cloudtrail_dir is not None else ctx.cloudtrail_dir
    if ct_dir is not None:
        from tools.evidence.cloudtrail import read_log_files

        found, status = read_log_files(ct_dir, start, end, accounts=accounts, regions=regions, session=aws_session)
        items += found
        statuses.append(status)
    if cloudtrail_api:
        from tools.evidence.cloudtrail import lookup_events

        found, status = lookup_events(start, end, services=services, regions=regions, session=aws_session)
        items += [i for i in found if not accounts or i.account_id in (None, *accounts)]
        statuses.append(status)
    repo = git_repo if git_repo is not None else ctx.git_repo
    if repo is not None:
        from tools.evidence.git import commits_in_window

        found, status = commits_in_window(Path(repo), start, end)
        items += found
        statuses.append(status)
    if github_repo:
        from tools.evidence.github import collect_github

        found, status = collect_github(ctx, github_repo, start, end, token=github_token, base_url=github_base_url)
        items += found
        statuses.append(status)
    items.sort(key=lambda item: (item.time, item.source, item.ref))
    return EvidenceReport(items=items, statuses=statuses)


__all__ = [
    "EvidenceItem",
    "EvidenceReport",
    "SourceStatus",
    "as_utc",
    "clip",
    "collect",
]
