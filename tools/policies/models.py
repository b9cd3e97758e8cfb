"""Pydantic models of the only policies finops-agent writes, and their Custodian form.

A :class:`PolicySpec` targets ONE resource kind in ONE account and region, pins the exact resource
ids, and carries ONE action from the allow-list: ``tag``, ``mark-for-op`` (explicit ``days``) or
``notify`` (through the org's own c7n-mailer queue). Nothing here can stop, delete, resize or change
access; a remediation is a ``mark-for-op`` a human can let run (with a separate policy) or cancel.
A :class:`PolicyFile` is what lands in the review queue: one or more specs plus provenance.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.policies.resources import ACCOUNT_PATTERN, KINDS, REGION_PATTERN, ResourceKindName

TAG_KEY = r"^[A-Za-z0-9 _.:/=+@-]{1,128}$"
TAG_VALUE = r"^[A-Za-z0-9 _.:/=+@-]{0,256}$"
EMAIL = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$"
SQS_URL = r"^https://sqs\.[a-z0-9-]+\.amazonaws\.com/\d{12}/[A-Za-z0-9_-]{1,80}$"
MAILER_ADDRESSES = frozenset({"resource-owner"})  # c7n-mailer resolves the owner from the resource's tags
MIN_MARK_DAYS = 3
MAX_IDS_PER_POLICY = 500
FINOPS_OP_TAG = "finops-op"


class TagAction(BaseModel):
    """Set tags (fixed values) on the pinned resources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["tag"] = "tag"
    tags: dict[Annotated[str, Field(pattern=TAG_KEY)], Annotated[str, Field(pattern=TAG_VALUE)]] = Field(
        min_length=1, max_length=10
    )

    @field_validator("tags")
    @classmethod
    def _no_reserved_prefix(cls, tags: dict[str, str]) -> dict[str, str]:
        for key in tags:
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} uses the reserved aws: prefix")
        return tags


class MarkForOpAction(BaseModel):
    """Tag the resources with a dated op; a later, separate, human-run policy may perform it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["mark-for-op"] = "mark-for-op"
    op: str = Field(pattern=r"^[a-z-]{1,32}$")
    days: int = Field(ge=MIN_MARK_DAYS, le=365)  # required: never Custodian's 4-day default
    tag: str = Field(default=FINOPS_OP_TAG, pattern=TAG_KEY)
    msg: str = Field(default="finops-agent proposal: {op}@{action_date}", pattern=r"^[^\r\n]{1,200}$")


class SqsTransport(BaseModel):
    """The org's c7n-mailer queue (the only transport notify may use)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["sqs"] = "sqs"
    queue: str = Field(pattern=SQS_URL)


class NotifyAction(BaseModel):
    """Ask c7n-mailer to message the owner (an address or ``resource-owner``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["notify"] = "notify"
    to: list[str] = Field(min_length=1, max_length=10)
    subject: str = Field(min_length=1, max_length=200, pattern=r"^[^\r\n]+$")
    template: str = Field(default="default", pattern=r"^[a-z0-9_.-]{1,64}$")
    transport: SqsTransport

    @field_validator("to")
    @classmethod
    def _addresses(cls, to: list[str]) -> list[str]:
        for address in to:
            if address not in MAILER_ADDRESSES and not re.fullmatch(EMAIL, address):
                raise ValueError(f"notify recipient {address!r} is neither an email address nor resource-owner")
        return to


Action = Annotated[TagAction | MarkForOpAction | NotifyAction, Field(discriminator="type")]


class PolicySpec(BaseModel):
    """One Custodian policy: one kind, one account/region, exact resource ids, one allowed action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ResourceKindName
    account_id: str = Field(pattern=ACCOUNT_PATTERN)
    region: str = Field(pattern=REGION_PATTERN)
    resource_ids: list[Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^[^\s]+$")]] = Field(
        min_length=1, max_length=MAX_IDS_PER_POLICY
    )
    action: Action
    summary: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _consistent(self) -> PolicySpec:
        if len(set(self.resource_ids)) != len(self.resource_ids):
            raise ValueError("resource_ids repeat an id")
        if isinstance(self.action, MarkForOpAction) and self.action.op not in KINDS[self.kind].mark_ops:
            allowed = ", ".join(KINDS[self.kind].mark_ops) or "none"
            raise ValueError(f"mark-for-op op {self.action.op!r} is not allowed on {self.kind} (allowed: {allowed})")
        return self

    def digest(self) -> str:
        """Stable over the parts that decide what the policy does (not over evidence or timestamps)."""
        doc = {
            "kind": self.kind,
            "account": self.account_id,
            "region": self.region,
            "ids": sorted(self.resource_ids),
            "action": self.action.model_dump(mode="json"),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    def name(self) -> str:
        """The Custodian policy name (matches c7n's name pattern; same content, same name)."""
        verb = {"tag": "tag", "mark-for-op": "mark", "notify": "notify"}[self.action.type]
        return f"finops-{verb}-{self.kind}-{self.digest()[:10]}"

    def to_custodian(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """The policy as Custodian data: pull mode, account/region conditions, id-pinned filter."""
        action = self.action.model_dump(mode="json", exclude_none=True)
        return {
            "name": self.name(),
            "resource": f"aws.{self.kind}",
            "description": self.summary or f"finops-agent {self.action.type} proposal",
            "metadata": metadata,
            "conditions": [
                {"type": "value", "key": "account_id", "value": self.account_id},
                {"type": "value", "key": "region", "value": self.region},
            ],
            "filters": [
                {
                    "type": "value",
                    "key": KINDS[self.kind].id_key,
                    "op": "in",
                    "value": sorted(self.resource_ids),
                }
            ],
            "actions": [action],
        }


class PolicyFile(BaseModel):
    """What goes into the review queue: policies plus evidence, confidence, impact and provenance."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    policies: list[PolicySpec] = Field(min_length=1, max_length=200)
    evidence: list[str] = Field(default_factory=list, max_length=200)
    confidence: float = Field(ge=0.0, le=1.0)
    monthly_impact_usd: float | None = None
    run_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    source: str = Field(default="finops-agent", max_length=80, pattern=r"^[A-Za-z0-9 _.:-]+$")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @model_validator(mode="after")
    def _unique_names(self) -> PolicyFile:
        names = [p.name() for p in self.policies]
        if len(set(names)) != len(names):
            raise ValueError("two policies in one file do the same thing to the same resources")
        return self

    def policy_id(self) -> str:
        """The queue id: same policies (whatever the run or evidence wording), same id and file."""
        joined = ",".join(sorted(p.digest() for p in self.policies))
        return "fin-" + hashlib.sha256(joined.encode()).hexdigest()[:12]

    def metadata(self) -> dict[str, Any]:
        return {
            "finops": {
                "id": self.policy_id(),
                "title": self.title,
                "confidence": round(self.confidence, 4),
                "monthly_impact_usd": None if self.monthly_impact_usd is None else round(self.monthly_impact_usd, 2),
                "run_id": self.run_id,
                "source": self.source,
                "created_at": self.created_at.isoformat(timespec="seconds"),
            }
        }

    def to_custodian(self) -> dict[str, Any]:
        return {"policies": [p.to_custodian(self.metadata()) for p in self.policies]}  # no YAML aliases
