"""Read-only tools over the policy review queue (both front ends register these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.policies import queue
from tools.registry import tool


class PoliciesListIn(BaseModel):
    status: Literal["pending", "approved", "rejected"] | None = Field(
        default=None, description="Only this status; all when omitted."
    )


class PoliciesListOut(BaseModel):
    policies: list[queue.PolicySummary]


class PolicyShowIn(BaseModel):
    id: str = Field(min_length=4, max_length=40, description="Policy id from policies_list, e.g. fin-1a2b3c4d5e6f.")


@tool(name="policies_list", title="List proposed Custodian policies")
def policies_list(ctx: ToolContext, args: PoliciesListIn) -> PoliciesListOut:
    """List Cloud Custodian policy files in the review queue (pending, approved, rejected) with
    their action types, resource counts, confidence and estimated monthly impact. Read-only."""
    return PoliciesListOut(policies=queue.list_policies(ctx, args.status))


@tool(name="policy_show", title="Show one proposed Custodian policy")
def policy_show(ctx: ToolContext, args: PolicyShowIn) -> queue.PolicyDetail:
    """Show one queued policy file: its YAML (evidence in the comments), status, history and the
    custodian validate / dry-run commands a human would use. Read-only; nothing is applied."""
    return queue.show(ctx, args.id)
